//! The command line: `serve`, `migrate`, `reindex`, `user add|list|passwd`, `audit verify`,
//! and the one-shot `thumbnail` / `poster` (plus the internal `media-worker`). Every command
//! reads the same layered settings (defaults → `--config` file → `MICROCAT_*` → flags) and
//! calls the same services the server does; a `MICROCAT_*` variable that names no setting is
//! reported at start.

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::app::{self, Application};
use crate::config::{Overrides, Settings};
use crate::db::audit::ChainCheck;
use crate::domain::page::Page;
use crate::domain::user::{NewUser, NewUserInput};
use crate::service::accounts;
use crate::service::off_executor;

/// microcat — production, review, catalog and search of micro-content.
#[derive(Debug, Parser)]
#[command(name = "microcat", version, about)]
pub struct Cli {
    /// TOML settings file.
    #[arg(long, global = true, env = "MICROCAT_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    overrides: OverrideFlags,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct OverrideFlags {
    /// Address to listen on, `host:port`.
    #[arg(long, global = true)]
    listen: Option<String>,
    /// `sqlite://<path>` or `postgres://…`.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Folder for stored media.
    #[arg(long, global = true)]
    media_dir: Option<PathBuf>,
    /// Folder for the search index.
    #[arg(long, global = true)]
    index_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply migrations, create the first admin if needed, and serve HTTP.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Rebuild the search index from the database into a new folder and switch to it
    /// atomically (a running server follows within a second).
    Reindex,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Internal: process one media file described by a JSON request on stdin.
    #[command(hide = true)]
    MediaWorker,
    /// Write a JPEG thumbnail of a photo (the server's code path, for benchmarks and checks).
    Thumbnail(OneShot),
    /// Write a JPEG poster of a film: the most detailed of a few frames after ~10%, upright.
    Poster(OneShot),
    /// Back up the database (a consistent SQLite snapshot, while serving) and the originals
    /// (incrementally) into DEST with a manifest; `backup verify DEST` checks one.
    Backup(BackupArgs),
    /// Rebuild an empty installation from a backup folder (derivatives and the search index
    /// are regenerated).
    Restore {
        /// The backup folder.
        dest: PathBuf,
    },
    /// Import the published archive from WeChat/Weibo exports (JSON or CSV files, or folders
    /// of them): published works with their original dates, publication records and metrics.
    Import(ImportArgs),
    /// Write the works chosen (all live ones by default) into a self-describing zip: one
    /// JSON per work (fields, credits, publications, metrics, comments, history), its
    /// originals, a manifest of digests and a README; `microcat import OUT.zip` on another
    /// installation recreates them.
    Export(ExportArgs),
    /// Print the compliance findings of a UTF-8 text file (`-`: standard input): personal
    /// data and the installation's word lists (or only the `--list` files). Exits 1 when
    /// anything of level `block` is found.
    Check(CheckArgs),
    /// Copy every original and derivative to another store (a folder or s3://bucket/prefix),
    /// verifying each copy's SHA-256; resumes after an interruption, reports what is missing,
    /// then switches: nodes must run with the new `storage_url`.
    MigrateStore {
        /// Where to: a folder, or s3://bucket/prefix (reached with s3_endpoint / s3_region).
        #[arg(long)]
        to: String,
        /// Objects copied at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
    /// Write a film's playable MP4 preview (H.264/AAC, upright, +faststart, no metadata), as
    /// the server makes it.
    Preview(PreviewJob),
}

/// `backup DEST` or `backup verify DEST`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    command: Option<BackupCommand>,
    /// The backup folder (created if needed; an earlier backup there is brought up to date).
    dest: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum BackupCommand {
    /// Check every file of a backup against its manifest.
    Verify {
        /// The backup folder.
        dest: PathBuf,
    },
}

/// `check FILE [--list FILE]…`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The text to check, or `-` for standard input.
    pub file: PathBuf,
    /// A word list file (one term a line, or `term<TAB>category<TAB>level`) to use instead
    /// of the installation's lists; may be given more than once.
    #[arg(long = "list")]
    pub lists: Vec<PathBuf>,
}

/// `export OUT.zip [filters]`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The zip to write (refused if it exists).
    pub out: PathBuf,
    /// Only works of this kind (film, weibo_post, wechat_article, proposal).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only works in this state (published, archived …).
    #[arg(long)]
    pub status: Option<String>,
    /// Only works of this unit (单位).
    #[arg(long)]
    pub unit: Option<String>,
    /// Only works with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Created on or after (`YYYY-MM-DD`).
    #[arg(long)]
    pub from: Option<String>,
    /// Created on or before (`YYYY-MM-DD`, that whole day).
    #[arg(long)]
    pub to: Option<String>,
    /// Published on or after (`YYYY-MM-DD`).
    #[arg(long)]
    pub published_from: Option<String>,
    /// Published on or before (`YYYY-MM-DD`, that whole day).
    #[arg(long)]
    pub published_to: Option<String>,
    /// The admin account the export is made as.
    #[arg(long = "as", default_value = "admin")]
    pub as_user: String,
}

/// `import PATH…`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Export files (`.json`, `.csv`, `.xlsx`, `index.html`), zips of them, or folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// `auto` (recognise each file from its content), or one of wechat-article-exporter,
    /// wechat-article-exporter-xlsx, wechat-article-exporter-html, wechatdownload,
    /// weibo-crawler-csv, weibo-crawler-json, weibospider, microcat-export.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// The unit (单位) the imported works belong to.
    #[arg(long)]
    pub unit: Option<String>,
    /// The admin account the import is recorded under.
    #[arg(long = "as", default_value = "admin")]
    pub as_user: String,
    /// Read and check everything, store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also write the report (every problem, with file and row) to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// `preview IN OUT`: the server's preview settings unless overridden here.
#[derive(Debug, Args)]
pub struct PreviewJob {
    pub input: PathBuf,
    pub output: PathBuf,
    /// Shorter side: 480, 720 or 1080 (default: the `preview_size` setting).
    #[arg(long)]
    pub size: Option<u32>,
    /// x264 CRF (default: the `preview_crf` setting).
    #[arg(long)]
    pub crf: Option<u8>,
    /// x264 preset (default: the `preview_preset` setting).
    #[arg(long)]
    pub preset: Option<String>,
}

impl PreviewJob {
    /// The arguments as `microcat-video preview` takes them.
    fn to_args(&self) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = vec!["preview".into()];
        if let Some(size) = self.size {
            args.extend(["--size".into(), size.to_string().into()]);
        }
        if let Some(crf) = self.crf {
            args.extend(["--crf".into(), crf.to_string().into()]);
        }
        if let Some(preset) = &self.preset {
            args.extend(["--preset".into(), preset.into()]);
        }
        args.extend(["--".into(), self.input.clone().into(), self.output.clone().into()]);
        args
    }
}

/// A one-shot derivative: file in, JPEG out (`thumbnail`, and `poster` in both executables).
#[derive(Debug, Args)]
pub struct OneShot {
    pub input: PathBuf,
    pub output: PathBuf,
    /// Long edge in pixels.
    #[arg(long, default_value_t = 320)]
    pub size: u32,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; name the first entry that was edited or removed.
    Verify,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from the first line of standard input.
    Add {
        #[arg(long)]
        username: String,
        /// contributor, reviewer, staff or admin; repeat or separate with commas.
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
    /// Set an account's password from standard input (also re-enables a throttled login).
    Passwd {
        #[arg(long)]
        username: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

/// `microcat poster` and `microcat preview` are `microcat-video`'s: only that executable
/// links FFmpeg.
fn hand_over_to_video(config: Option<&std::path::Path>, args: Vec<std::ffi::OsString>) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    let program = crate::media::worker::film_program(&std::env::current_exe()?);
    let mut command = std::process::Command::new(&program);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command.args(args);
    let error = command.exec();
    Err(anyhow::anyhow!("could not run {}: {error}", program.display()))
}

/// Runs the chosen command to completion.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    // Handed over before reading settings: microcat-video reads them itself.
    match &cli.command {
        Command::Poster(job) => {
            let args = vec![
                "poster".into(),
                "--size".into(),
                job.size.to_string().into(),
                "--".into(),
                job.input.clone().into(),
                job.output.clone().into(),
            ];
            return hand_over_to_video(cli.config.as_deref(), args);
        }
        Command::Preview(job) => return hand_over_to_video(cli.config.as_deref(), job.to_args()),
        _ => {}
    }
    let overrides = Overrides {
        listen: cli.overrides.listen,
        database_url: cli.overrides.database_url,
        media_dir: cli.overrides.media_dir,
        index_dir: cli.overrides.index_dir,
    };
    let settings = Settings::load(cli.config.as_deref(), &overrides)?;
    match &cli.command {
        Command::MediaWorker => return crate::media::worker::run_worker_process(None),
        Command::Thumbnail(job) => {
            let limits = app::decode_limits(&settings);
            return Ok(crate::media::picture::thumbnail_file(&job.input, &job.output, job.size, limits)?);
        }
        _ => {}
    }
    // Said once by the command a person ran, not again by every media worker child.
    for name in crate::config::unknown_variables(std::env::vars()) {
        tracing::warn!(variable = %name, "{name} is not a setting and is ignored (a typo?)");
    }
    actix_web::rt::System::new().block_on(async move {
        match cli.command {
            Command::Serve => serve(settings).await,
            Command::Migrate => migrate(settings).await,
            Command::Reindex => reindex(settings).await,
            Command::Audit(AuditCommand::Verify) => verify_audit(settings).await,
            Command::User(command) => user(settings, command).await,
            Command::Import(args) => crate::cli_import::run(settings, args).await,
            Command::Export(args) => crate::cli_export::run(settings, args).await,
            Command::Check(args) => crate::cli_check::run(settings, args).await,
            Command::Backup(args) => backup(settings, args).await,
            Command::Restore { dest } => restore(settings, dest).await,
            Command::MigrateStore { to, concurrency } => crate::cli_store::run(settings, to, concurrency).await,
            Command::MediaWorker | Command::Thumbnail(_) | Command::Poster(_) | Command::Preview(_) => {
                unreachable!("handled above")
            }
        }
    })
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    // Held until the process ends: the kernel drops the lock with it, even on SIGKILL.
    let _single_node = match crate::db::DatabaseUrl::parse(&settings.database_url).map_err(anyhow::Error::msg)? {
        crate::db::DatabaseUrl::Sqlite(path) => Some(crate::db::lock_sqlite_for_serving(&path)?),
        crate::db::DatabaseUrl::Postgres(_) => None,
    };
    let host = settings.listen.rsplit_once(':').map_or("127.0.0.1", |(host, _)| host).to_owned();
    let application = Application::build(settings).await?;
    // The port actually bound (`listen` may ask for port 0), on stdout for whoever started us.
    let address = format!("http://{host}:{}", application.port());
    tracing::info!(%address, "microcat is serving");
    println!("microcat is serving on {address}");
    application.run_until_stopped().await?;
    Ok(())
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let db = app::open_database(&settings).await?;
    let applied = off_executor(move || anyhow::Ok(db.migrate()?)).await?;
    println!("database is up to date ({applied} migrations applied now)");
    Ok(())
}

async fn verify_audit(settings: Settings) -> anyhow::Result<()> {
    let db = app::open_database(&settings).await?;
    match crate::service::audit::verify(&db).await? {
        ChainCheck::Intact { entries } => {
            println!("audit trail verified: {entries} entries, chain intact");
            Ok(())
        }
        ChainCheck::Broken(broken) => anyhow::bail!("audit trail broken at entry {}: {}", broken.seq, broken.reason),
    }
}

async fn reindex(settings: Settings) -> anyhow::Result<()> {
    let db = app::open_database(&settings).await?;
    let started = std::time::Instant::now();
    let count = off_executor(move || {
        let jieba = crate::search::analysis::segmenter(settings.search_dictionary.as_deref());
        anyhow::Ok(crate::jobs::indexer::rebuild(&db, &settings.index_dir, &jieba)?)
    })
    .await?;
    println!("indexed {count} works in {:.1} s; the new index is live", started.elapsed().as_secs_f64());
    Ok(())
}

async fn backup(settings: Settings, args: BackupArgs) -> anyhow::Result<()> {
    if let Some(BackupCommand::Verify { dest }) = args.command {
        let (checked, problems) = off_executor(move || crate::backup::verify(&dest)).await?;
        for problem in &problems {
            println!("damaged: {problem}");
        }
        anyhow::ensure!(problems.is_empty(), "{} of {checked} files are damaged or missing", problems.len());
        println!("all {checked} files match the manifest");
        return Ok(());
    }
    let dest = args.dest.ok_or_else(|| anyhow::anyhow!("name the backup folder: microcat backup DEST"))?;
    let url = crate::db::DatabaseUrl::parse(&settings.database_url).map_err(anyhow::Error::msg)?;
    let db = app::open_database(&settings).await?;
    let store = app::open_storage(&settings)?;
    let started = std::time::Instant::now();
    let target = dest.clone();
    let (manifest, report) = off_executor(move || crate::backup::backup(&db, &url, &store, &target)).await?;
    println!(
        "backed up {} originals ({} copied now, {} MiB) in {:.1} s to {}",
        report.originals,
        report.copied,
        report.copied_bytes / (1024 * 1024),
        started.elapsed().as_secs_f64(),
        dest.display()
    );
    for missing in &report.missing {
        println!("note: original {missing} was deleted while the backup ran");
    }
    if manifest.database.is_none() {
        println!("PostgreSQL: this folder holds the media; pair it with a dump of the same moment:");
        println!("  pg_dump --format=custom --file={}/database.pgdump \"$MICROCAT_DATABASE_URL\"", dest.display());
    }
    Ok(())
}

async fn restore(settings: Settings, dest: PathBuf) -> anyhow::Result<()> {
    let url = crate::db::DatabaseUrl::parse(&settings.database_url).map_err(anyhow::Error::msg)?;
    let store = app::open_storage(&settings)?;
    let manifest = off_executor(move || crate::backup::restore_files(&url, &store, &dest)).await?;
    let db = app::open_database(&settings).await?;
    let attempts = settings.job_max_attempts;
    let queued = {
        let db = db.clone();
        off_executor(move || crate::backup::requeue_processing(&db, attempts)).await?
    };
    let count = off_executor(move || {
        let jieba = crate::search::analysis::segmenter(settings.search_dictionary.as_deref());
        anyhow::Ok(crate::jobs::indexer::rebuild(&db, &settings.index_dir, &jieba)?)
    })
    .await?;
    println!(
        "restored the backup of {} ({} originals); {queued} media queued for processing (the server makes their thumbnails when it starts); {count} works indexed",
        manifest.created_at.format("%Y-%m-%d %H:%M UTC"),
        manifest.originals.len()
    );
    Ok(())
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

async fn user(settings: Settings, command: UserCommand) -> anyhow::Result<()> {
    let db = app::open_database(&settings).await?;
    match command {
        UserCommand::Add { username, roles, display_name, .. } => {
            let input = NewUserInput { username, password: read_password_line()?, display_name, roles };
            let account = NewUser::parse(input)?;
            let created = accounts::create_user(&db, None, account).await?;
            println!("created {} ({}) with roles {:?}", created.username, created.id, created.roles);
        }
        UserCommand::List => {
            let page = Page::parse(Some(1), Some(100)).expect("static page is valid");
            let (users, total) = accounts::list_users(&db, page).await.map_err(|error| anyhow::anyhow!("{error}"))?;
            for account in users {
                let roles: Vec<&str> = account.roles.iter().map(|role| role.as_str()).collect();
                let state = if account.disabled { "disabled" } else { "active" };
                println!("{}\t{}\t{}\t{}", account.username, account.display_name, roles.join(","), state);
            }
            println!("{total} accounts");
        }
        UserCommand::Passwd { username, .. } => {
            accounts::set_password(&db, &username, &read_password_line()?)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!("password of {username} changed; its sessions were revoked");
        }
    }
    Ok(())
}
