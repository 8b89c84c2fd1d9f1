//! `microcat import`: reads export files, imports record by record on a blocking thread with
//! a progress bar on a terminal (plain progress lines otherwise), and prints the summary:
//! created, updated, skipped as unchanged, failed, with every problem's file and row.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::app;
use crate::cli::ImportArgs;
use crate::config::Settings;
use crate::domain::archive::ArchiveFormat;
use crate::service::accounts;
use crate::service::import::{self, ImportError, ImportOptions, Importer, Summary};

/// The paths given, each with the name reports use (folders and zips are laid out by the
/// import itself).
fn inputs(paths: &[PathBuf]) -> Vec<(PathBuf, String)> {
    paths.iter().map(|path| (path.clone(), path.display().to_string())).collect()
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
    let store = app::open_storage(&settings)?;
    let scratch = store.scratch().temp_folder(&format!("import-{}", uuid::Uuid::now_v7()))?;
    let media = app::media_context(&settings, store, Arc::new(Notify::new()));
    let files = inputs(&args.paths);
    let options = ImportOptions { unit: args.unit.clone(), dry_run: args.dry_run };
    let work_scratch = scratch.clone();
    let summary = tokio::task::spawn_blocking(move || -> anyhow::Result<Summary> {
        let prepared = import::prepare(&files, &work_scratch, wanted)?;
        let progress = Progress::new(prepared.rows());
        let mut report = |done: usize, total: usize| progress.at(done, total);
        let importer = Importer { db: &db, media: &media, user: &caller, options: &options };
        let summary = import::import_prepared(importer, prepared, &mut report).map_err(|error| match error {
            ImportError::AdminRequired => anyhow::anyhow!("--as {}: importing needs the admin role", caller.username),
            other => anyhow::Error::from(other),
        })?;
        progress.finish();
        Ok(summary)
    })
    .await?;
    let _ = std::fs::remove_dir_all(&scratch);
    let summary = summary?;
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
    fn new(rows: usize) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = indicatif::ProgressBar::new(rows as u64);
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
    if !summary.media_problems.is_empty() {
        println!("files not attached {}", summary.media_problems.len());
        for problem in summary.media_problems.iter().take(10) {
            println!("  {}", problem.line());
        }
    }
}
