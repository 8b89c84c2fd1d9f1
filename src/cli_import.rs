//! `microcat import`: reads export files, imports record by record on a blocking thread with
//! a progress bar on a terminal (plain progress lines otherwise), and prints the summary:
//! created, updated, skipped as unchanged, failed, with every problem's file and row.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::app;
use crate::cli::ImportArgs;
use crate::config::Settings;
use crate::domain::archive::ArchiveFormat;
use crate::service::accounts;
use crate::service::import::{self, ImportError, ImportOptions, Summary};

/// The export files named: files as given, folders' `.json` and `.csv` files (sorted); each
/// with the name reports use.
fn export_files(paths: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|file| file.extension().is_some_and(|ext| ext == "json" || ext == "csv"))
                .collect();
            inside.sort();
            files.extend(inside);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            anyhow::bail!("{} is neither a file nor a folder", path.display());
        }
    }
    Ok(files
        .into_iter()
        .map(|path| {
            let name = path.display().to_string();
            (path, name)
        })
        .collect())
}

/// Runs the command.
pub async fn run(settings: Settings, args: ImportArgs) -> anyhow::Result<()> {
    let wanted = match args.format.as_str() {
        "auto" => None,
        name => Some(ArchiveFormat::parse(name).ok_or_else(|| {
            anyhow::anyhow!("unknown --format {name:?}; use auto or one of {}", ArchiveFormat::names())
        })?),
    };
    let db = app::open_database(&settings).await?;
    let caller = accounts::console_caller(&db, &args.as_user)
        .map_err(|error| anyhow::anyhow!("--as {}: {error}", args.as_user))?;
    let files = export_files(&args.paths)?;
    let options = ImportOptions { unit: args.unit.clone(), dry_run: args.dry_run };
    let summary = tokio::task::spawn_blocking(move || -> anyhow::Result<Summary> {
        let (read, problems) = import::read_files(&files, wanted);
        let progress = Progress::new();
        let mut report = |done: usize, total: usize| progress.at(done, total);
        let started = Summary { problems, ..Summary::default() };
        let summary =
            import::import_files(&db, &caller, read, started, &options, &mut report).map_err(|error| match error {
                ImportError::AdminRequired => {
                    anyhow::anyhow!("--as {}: importing needs the admin role", caller.username)
                }
                other => anyhow::Error::from(other),
            })?;
        progress.finish();
        Ok(summary)
    })
    .await??;
    print_summary(&summary, args.dry_run);
    if let Some(path) = &args.report {
        std::fs::write(path, summary.report())?;
        println!("report written to {}", path.display());
    }
    Ok(())
}

/// A bar on a terminal (rows, rate, ETA), a line per 10 % otherwise.
struct Progress {
    bar: indicatif::ProgressBar,
    terminal: bool,
    last_tenth: std::cell::Cell<usize>,
}

impl Progress {
    fn new() -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = indicatif::ProgressBar::new(0);
        if terminal {
            let style = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  ETA {eta}")
                .expect("a valid template");
            bar.set_style(style);
        } else {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        Self { bar, terminal, last_tenth: std::cell::Cell::new(0) }
    }

    fn at(&self, done: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
        let tenth = done * 10 / total.max(1);
        if !self.terminal && tenth > self.last_tenth.get() {
            eprintln!("import: {done}/{total} rows");
            self.last_tenth.set(tenth);
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn print_summary(summary: &Summary, dry_run: bool) {
    let verb = if dry_run { "would create" } else { "created" };
    println!(
        "{verb} {}, updated {}, skipped as unchanged {}, failed {}",
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.problems.len()
    );
    for problem in summary.problems.iter().take(20) {
        println!("  {}", problem.line());
    }
    if summary.problems.len() > 20 {
        println!("  … and {} more (see --report)", summary.problems.len() - 20);
    }
}
