//! Bringing the published archive in: records read from an export
//! (`domain::archive`) become published works with their original publication time, a
//! publication record and a metrics snapshot. Idempotent by source key: importing the same
//! export again creates nothing and only adds a snapshot when the metrics changed. Each
//! record is its own transaction, so one bad row fails alone and an interrupted import,
//! run again, finishes the job.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::audit;
use super::auth::AuthUser;
use super::import_extras;
use super::import_sources::{self, SourceError};
use super::media::MediaContext;
use crate::clock::now;
use crate::db::publications::{self, MetricsRow, PublicationRow};
use crate::db::types::Json;
use crate::db::works::{self as rows, WorkRow};
use crate::db::{Db, DbConnection, DbError, outbox};
use crate::domain::archive::{self, ArchiveFormat, ImportRecord};
use crate::domain::fields::{self, Credit, Title};
use crate::domain::ids::WorkId;
use crate::domain::media::MediaRole;
use crate::domain::user::Role;

/// Why one record was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A field the archive cannot take (too long, empty title …).
    #[error("{0}")]
    Field(#[from] crate::domain::FieldError),
    /// Only admins import.
    #[error("importing needs the admin role")]
    AdminRequired,
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(ImportError);

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    /// Known already; its metrics changed and a snapshot was added.
    Updated,
    /// Known already, nothing new.
    Unchanged,
}

/// How records are brought in.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The unit (单位) imported works belong to.
    pub unit: Option<String>,
    /// Check everything, store nothing.
    pub dry_run: bool,
}

/// Who imports, into what, how.
#[derive(Clone, Copy)]
pub struct Importer<'a> {
    pub db: &'a Db,
    pub media: &'a MediaContext,
    pub user: &'a AuthUser,
    pub options: &'a ImportOptions,
}

/// Where a record came from: its file's format and folder, and the export's Weibo media.
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    pub format: ArchiveFormat,
    pub base: &'a Path,
    pub weibo_media: &'a HashMap<String, Vec<(PathBuf, MediaRole)>>,
}

/// The work an import would create from a record (checked as any new work is).
fn work_of(record: &ImportRecord, user: &AuthUser, unit: Option<&str>) -> Result<WorkRow, ImportError> {
    let title = Title::parse(&record.title)?;
    let body = fields::parse_body(Some(record.body.clone()))?;
    let summary = fields::optional_text("summary", record.summary.as_deref(), fields::SUMMARY_MAX_CHARS)?;
    let published = record.published_at.naive_utc();
    let bundle = record.bundle.as_deref();
    let credits: Vec<Credit> = match bundle {
        // Accounts do not carry across installations; the names and roles do.
        Some(work) => {
            work.credits.iter().map(|credit| Credit::named(credit.role.as_str(), credit.name.as_str())).collect()
        }
        None => record.author.iter().map(|name| Credit::named("作者", name.as_str())).collect(),
    };
    let created_at = bundle.map_or(published, |work| work.created_at.naive_utc());
    Ok(WorkRow {
        id: WorkId::generate(),
        kind: record.kind,
        title: title.into_string(),
        body,
        summary,
        tags: Json::new(record.tags.clone()),
        unit: unit.map(str::to_owned).or_else(|| bundle.and_then(|work| work.unit.clone())),
        credits: Json::new(fields::parse_credits(credits)?),
        channel: bundle.map_or_else(|| Some(record.platform.label_zh().to_owned()), |work| work.channel.clone()),
        external_url: bundle.map_or_else(|| record.url.clone(), |work| work.external_url.clone()),
        published_at: bundle.map_or(Some(published), |work| work.published_at.map(|time| time.naive_utc())),
        status: record.status(),
        created_by: user.id.clone(),
        // Made when it was published: statistics and lists count it then, not today.
        created_at,
        updated_at: now(),
        version: 1,
        deleted_at: None,
        assignees: Json::new(Vec::new()),
        due_date: None,
        review_round: 0,
        status_changed_at: Some(published),
        source_key: Some(record.source_key.clone()),
        findings_block: 0,
        findings_review: 0,
        checked_at: None,
    })
}

/// What became of one record, and the problems with its files (the record imports anyway).
#[derive(Debug)]
pub struct RecordOutcome {
    pub outcome: Outcome,
    pub media_problems: Vec<String>,
}

/// Imports one record (blocking: the command and the import job run on their own threads).
pub fn import_record(
    importer: Importer<'_>,
    origin: Origin<'_>,
    record: &ImportRecord,
) -> Result<RecordOutcome, ImportError> {
    if !importer.user.has(Role::Admin) {
        return Err(ImportError::AdminRequired);
    }
    let work = work_of(record, importer.user, importer.options.unit.as_deref())?;
    let files = import_extras::local_files(record, origin);
    if importer.options.dry_run {
        let mut conn = importer.db.connection()?;
        let known = find_existing(&mut conn, record)?.is_some();
        let outcome = if known { Outcome::Unchanged } else { Outcome::Created };
        return Ok(RecordOutcome { outcome, media_problems: import_extras::missing(&files) });
    }
    let (work_id, outcome) = importer.db.write_blocking(|conn| match find_existing(conn, record)? {
        Some(existing) => Ok((existing.id.clone(), refresh_metrics(conn, &existing.id, record)?)),
        None => {
            let id = work.id.clone();
            Ok::<_, ImportError>((id, create(conn, importer.user, origin.format, record, work)?))
        }
    })?;
    // After the work's own transaction: an import cut short here attaches the rest when run again.
    let (media, media_problems) = import_extras::attach(importer, &work_id, &files);
    if let Some(bundle) = record.bundle.as_deref() {
        import_extras::add_comments(importer, &work_id, bundle, &media)?;
    }
    Ok(RecordOutcome { outcome, media_problems })
}

/// The work a record already is: by its source key, or — for a saved WeChat page, which
/// carries no link — the article of the same title published in the same minute (the page
/// shows minutes), so a JSON export and the HTML folder of the same articles meet.
fn find_existing(conn: &mut DbConnection, record: &ImportRecord) -> Result<Option<WorkRow>, DbError> {
    if let Some(found) = rows::find_by_source_key(conn, &record.source_key)? {
        return Ok(Some(found));
    }
    if !record.source_key.starts_with(archive::PAGE_KEY_PREFIX) {
        return Ok(None);
    }
    let minute = record.published_at.naive_utc();
    let window = (minute, minute + chrono::TimeDelta::seconds(60));
    Ok(rows::find_by_title_published(conn, record.kind, &record.title, window)?)
}

fn create(
    conn: &mut DbConnection,
    user: &AuthUser,
    format: ArchiveFormat,
    record: &ImportRecord,
    work: WorkRow,
) -> Result<Outcome, ImportError> {
    let stamp = now();
    let tags = work.tags.value().clone();
    rows::insert(conn, &work, &tags)?;
    match record.bundle.as_deref() {
        Some(bundle) => import_extras::add_publications(conn, user, &work.id, bundle, stamp)?,
        None => add_publication(conn, user, &work.id, record, stamp)?,
    }
    outbox::enqueue(conn, &work.id, stamp)?;
    let details = json!({
        "format": format.as_str(), "source_key": record.source_key, "by": user.username,
        "status": work.status.as_str(), "title": work.title,
        "original_history": record.bundle.as_ref().map(|bundle| &bundle.history),
    });
    audit::record(conn, Some(user), "work.imported", ("work", work.id.as_str()), details, stamp)?;
    Ok(Outcome::Created)
}

/// The record's one publication with its metrics snapshot.
fn add_publication(
    conn: &mut DbConnection,
    user: &AuthUser,
    work_id: &WorkId,
    record: &ImportRecord,
    stamp: chrono::NaiveDateTime,
) -> Result<(), ImportError> {
    let place = (record.platform.as_str(), record.account.clone(), record.url.clone());
    let publication = PublicationRow::new(work_id, place, record.published_at.naive_utc(), &user.id, stamp);
    publications::insert(conn, &publication)?;
    if !record.metrics.is_empty() {
        publications::insert_metrics(conn, &MetricsRow::new(&publication.id, record.metrics, stamp, "import"))?;
    }
    Ok(())
}

/// A known record: a new metrics snapshot when the figures changed, nothing otherwise.
fn refresh_metrics(conn: &mut DbConnection, work_id: &WorkId, record: &ImportRecord) -> Result<Outcome, ImportError> {
    let platform = record.platform.as_str();
    let Some(publication) = publications::for_work(conn, work_id)?.into_iter().find(|row| row.platform == platform)
    else {
        return Ok(Outcome::Unchanged);
    };
    let latest = publications::latest_metrics(conn, &publication.id)?.map(|row| row.metrics());
    if record.metrics.is_empty() || latest == Some(record.metrics) {
        return Ok(Outcome::Unchanged);
    }
    publications::insert_metrics(conn, &MetricsRow::new(&publication.id, record.metrics, now(), "import"))?;
    Ok(Outcome::Updated)
}

/// One problem, for the summary and the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The file's name as given.
    pub file: String,
    /// The row (CSV, after the header) or record (JSON), when the problem is one row's.
    pub row: Option<usize>,
    pub reason: String,
}

impl Problem {
    /// `articles.json row 3: no title`.
    pub fn line(&self) -> String {
        match self.row {
            Some(row) => format!("{} row {row}: {}", self.file, self.reason),
            None => format!("{}: {}", self.file, self.reason),
        }
    }
}

/// What an import did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Records (or files) that failed.
    pub problems: Vec<Problem>,
    /// Files of records that imported without them (missing, too large, not a medium).
    pub media_problems: Vec<Problem>,
}

impl Summary {
    /// The downloadable report: counts, then every problem with its file and row.
    pub fn report(&self) -> String {
        let mut text = format!(
            "created\t{}\nupdated\t{}\nunchanged\t{}\nfailed\t{}\n",
            self.created,
            self.updated,
            self.unchanged,
            self.problems.len()
        );
        for problem in &self.problems {
            text.push_str(&problem.line());
            text.push('\n');
        }
        if !self.media_problems.is_empty() {
            text.push_str(&format!("files not attached\t{}\n", self.media_problems.len()));
        }
        for problem in &self.media_problems {
            text.push_str(&problem.line());
            text.push('\n');
        }
        text
    }
}

/// Most bytes of one export file (10 000 articles of 3 KB are ~40 MB).
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// The records of one export file, read.
pub struct ReadFile {
    pub name: String,
    pub format: ArchiveFormat,
    /// Where its records' local media are found from (the file's folder; the archive's root
    /// for microcat's own export).
    pub base: PathBuf,
    pub rows: Vec<crate::domain::archive::ParsedRow>,
}

/// Reads one file into records (`wanted` forces a format), or says why it cannot be read.
pub fn read_file(path: &Path, name: &str, wanted: Option<ArchiveFormat>) -> Result<ReadFile, Problem> {
    let problem = |reason: String| Problem { file: name.to_owned(), row: None, reason };
    let size = std::fs::metadata(path).map_err(|error| problem(error.to_string()))?.len();
    if size > MAX_FILE_BYTES {
        return Err(problem(format!("{size} bytes is over the limit of {MAX_FILE_BYTES}")));
    }
    let bytes = std::fs::read(path).map_err(|error| problem(error.to_string()))?;
    let format = match wanted {
        Some(format) => format,
        None => archive::detect(&bytes).ok_or_else(|| {
            let what = if archive::decode_text(&bytes).is_none() && !archive::is_zip(&bytes) {
                "neither UTF-8 nor GB18030 text nor an Excel workbook"
            } else {
                "not an export microcat reads"
            };
            problem(format!("{what}; accepted: {}", ArchiveFormat::names()))
        })?,
    };
    let folder = path.parent().unwrap_or(Path::new("."));
    let folder_name = folder.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let rows = archive::parse(format, &bytes, &folder_name).map_err(problem)?;
    let base = match format {
        ArchiveFormat::MicrocatExport => folder.parent().unwrap_or(folder).to_path_buf(),
        _ => folder.to_path_buf(),
    };
    Ok(ReadFile { name: name.to_owned(), format, base, rows })
}

/// Reads every file: the readable ones, and a problem for each that is not.
pub fn read_files(files: &[(PathBuf, String)], wanted: Option<ArchiveFormat>) -> (Vec<ReadFile>, Vec<Problem>) {
    let mut read = Vec::new();
    let mut problems = Vec::new();
    for (path, name) in files {
        match read_file(path, name, wanted) {
            Ok(file) => read.push(file),
            Err(problem) => problems.push(problem),
        }
    }
    (read, problems)
}

/// An import's files, read: their records, the files that could not be read, the Weibo media.
pub struct Prepared {
    pub files: Vec<ReadFile>,
    pub problems: Vec<Problem>,
    pub weibo_media: HashMap<String, Vec<(PathBuf, MediaRole)>>,
}

impl Prepared {
    /// Records in all files (rows that failed to read included).
    pub fn rows(&self) -> usize {
        self.files.iter().map(|file| file.rows.len()).sum()
    }
}

/// Lays out what was given (zips unpacked under `scratch`) and reads every record file.
pub fn prepare(
    inputs: &[(PathBuf, String)],
    scratch: &Path,
    wanted: Option<ArchiveFormat>,
) -> Result<Prepared, SourceError> {
    let laid_out = import_sources::gather(inputs, scratch)?;
    let (files, problems) = read_files(&laid_out.documents, wanted);
    Ok(Prepared { files, problems, weibo_media: laid_out.weibo_media })
}

/// Imports everything prepared (blocking), calling `progress(done, total)` after each record.
pub fn import_prepared(
    importer: Importer<'_>,
    prepared: Prepared,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Summary, ImportError> {
    let started = Summary { problems: prepared.problems, ..Summary::default() };
    import_files(importer, prepared.files, &prepared.weibo_media, started, progress)
}

/// Imports every record of the read files, calling `progress(done, total)` after each
/// (blocking). Stops only when the caller may not import at all.
fn import_files(
    importer: Importer<'_>,
    files: Vec<ReadFile>,
    weibo_media: &HashMap<String, Vec<(PathBuf, MediaRole)>>,
    mut summary: Summary,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Summary, ImportError> {
    let total: usize = files.iter().map(|file| file.rows.len()).sum();
    let mut done = 0;
    for file in files {
        let origin = Origin { format: file.format, base: &file.base, weibo_media };
        for (index, parsed) in file.rows.into_iter().enumerate() {
            let problem = |reason: String| Problem { file: file.name.clone(), row: Some(index + 1), reason };
            match parsed {
                Ok(record) => match import_record(importer, origin, &record) {
                    Ok(done) => {
                        match done.outcome {
                            Outcome::Created => summary.created += 1,
                            Outcome::Updated => summary.updated += 1,
                            Outcome::Unchanged => summary.unchanged += 1,
                        }
                        let media = done.media_problems.into_iter();
                        summary
                            .media_problems
                            .extend(media.map(|reason| problem(format!("{}: {reason}", record.title))));
                    }
                    Err(ImportError::AdminRequired) => return Err(ImportError::AdminRequired),
                    Err(error) => summary.problems.push(problem(format!("{}: {error}", record.source_key))),
                },
                Err(row) => {
                    summary.problems.push(Problem { file: file.name.clone(), row: Some(row.row), reason: row.reason })
                }
            }
            done += 1;
            progress(done, total);
        }
    }
    Ok(summary)
}
