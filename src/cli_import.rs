//! `microcat import`: reads export files, imports record by record on a blocking thread with
//! a progress bar on a terminal (plain progress lines otherwise), and prints the summary:
//! created, updated, skipped as unchanged, failed, with every problem's file and row.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::app;
use crate::cli::ImportArgs;
use crate::config::Settings;
use crate::domain::archive::{self, ArchiveFormat, ImportRecord};
use crate::service::accounts;
use crate::service::import::{self, ImportOptions, Outcome};

/// One problem, for the summary and the report.
struct Problem {
    file: PathBuf,
    row: Option<usize>,
    reason: String,
}

/// What an import did.
#[derive(Default)]
struct Summary {
    created: usize,
    updated: usize,
    unchanged: usize,
    problems: Vec<Problem>,
}

/// The export files named: files as given, folders' `.json` and `.csv` files (sorted).
fn export_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
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
    Ok(files)
}

/// Most bytes of one export file (10 000 articles of 3 KB are ~40 MB).
const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// Reads one file into records, or says why it cannot be read.
fn read_file(file: &Path, wanted: Option<ArchiveFormat>) -> Result<(ArchiveFormat, Vec<archive::ParsedRow>), String> {
    let size = std::fs::metadata(file).map_err(|error| error.to_string())?.len();
    if size > MAX_FILE_BYTES {
        return Err(format!("{size} bytes is over the limit of {MAX_FILE_BYTES}"));
    }
    let bytes = std::fs::read(file).map_err(|error| error.to_string())?;
    let text = archive::decode_text(&bytes).ok_or("the file is neither UTF-8 nor GB18030 text")?;
    let format = match wanted {
        Some(format) => format,
        None => archive::detect(&text)
            .ok_or_else(|| format!("not an export microcat reads; accepted: {}", ArchiveFormat::names()))?,
    };
    Ok((format, archive::parse(format, &text)?))
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
    let summary = tokio::task::spawn_blocking(move || import_files(&db, &caller, &files, wanted, &options)).await??;
    print_summary(&summary, args.dry_run);
    if let Some(path) = &args.report {
        std::fs::write(path, report_text(&summary))?;
        println!("report written to {}", path.display());
    }
    Ok(())
}

fn import_files(
    db: &crate::db::Db,
    caller: &crate::service::auth::AuthUser,
    files: &[PathBuf],
    wanted: Option<ArchiveFormat>,
    options: &ImportOptions,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut batches: Vec<(PathBuf, ArchiveFormat, Vec<archive::ParsedRow>)> = Vec::new();
    for file in files {
        match read_file(file, wanted) {
            Ok((format, rows)) => batches.push((file.clone(), format, rows)),
            Err(reason) => summary.problems.push(Problem { file: file.clone(), row: None, reason }),
        }
    }
    let total: usize = batches.iter().map(|(_, _, rows)| rows.len()).sum();
    let progress = Progress::new(total as u64);
    for (file, format, rows) in batches {
        for parsed in rows {
            let record: ImportRecord = match parsed {
                Ok(record) => record,
                Err(problem) => {
                    summary.problems.push(Problem {
                        file: file.clone(),
                        row: Some(problem.row),
                        reason: problem.reason,
                    });
                    progress.advance();
                    continue;
                }
            };
            match import::import_record(db, caller, format, &record, options) {
                Ok(Outcome::Created) => summary.created += 1,
                Ok(Outcome::Updated) => summary.updated += 1,
                Ok(Outcome::Unchanged) => summary.unchanged += 1,
                Err(import::ImportError::AdminRequired) => {
                    anyhow::bail!("--as {}: importing needs the admin role", caller.username)
                }
                Err(error) => summary.problems.push(Problem {
                    file: file.clone(),
                    row: None,
                    reason: format!("{}: {error}", record.source_key),
                }),
            }
            progress.advance();
        }
    }
    progress.finish();
    Ok(summary)
}

/// A bar on a terminal (rows, rate, ETA), a line per 10 % otherwise.
struct Progress {
    bar: indicatif::ProgressBar,
    terminal: bool,
    total: u64,
    last_line: std::cell::Cell<u64>,
}

impl Progress {
    fn new(total: u64) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = indicatif::ProgressBar::new(total);
        if terminal {
            let style = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  ETA {eta}")
                .expect("a valid template");
            bar.set_style(style);
        } else {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        Self { bar, terminal, total, last_line: std::cell::Cell::new(0) }
    }

    fn advance(&self) {
        self.bar.inc(1);
        let done = self.bar.position();
        if !self.terminal
            && self.total > 0
            && (done * 10 / self.total > self.last_line.get() * 10 / self.total || done == self.total)
        {
            eprintln!("import: {done}/{} rows", self.total);
            self.last_line.set(done);
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
        println!("  {}", problem_line(problem));
    }
    if summary.problems.len() > 20 {
        println!("  … and {} more (see --report)", summary.problems.len() - 20);
    }
}

fn problem_line(problem: &Problem) -> String {
    match problem.row {
        Some(row) => format!("{} row {row}: {}", problem.file.display(), problem.reason),
        None => format!("{}: {}", problem.file.display(), problem.reason),
    }
}

fn report_text(summary: &Summary) -> String {
    let mut text = format!(
        "created\t{}\nupdated\t{}\nunchanged\t{}\nfailed\t{}\n",
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.problems.len()
    );
    for problem in &summary.problems {
        text.push_str(&problem_line(problem));
        text.push('\n');
    }
    text
}
