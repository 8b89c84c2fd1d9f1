//! Bringing the published archive in: records read from an export
//! (`domain::archive`) become published works with their original publication time, a
//! publication record and a metrics snapshot. Idempotent by source key: importing the same
//! export again creates nothing and only adds a snapshot when the metrics changed. Each
//! record is its own transaction, so one bad row fails alone and an interrupted import,
//! run again, finishes the job.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::audit;
use super::auth::AuthUser;
use crate::clock::now;
use crate::db::publications::{self, MetricsRow, PublicationRow};
use crate::db::types::Json;
use crate::db::works::{self as rows, WorkRow};
use crate::db::{Db, DbConnection, DbError, outbox};
use crate::domain::archive::{ArchiveFormat, ImportRecord};
use crate::domain::fields::{self, Credit, Title};
use crate::domain::ids::WorkId;
use crate::domain::user::Role;
use crate::domain::work::Status;

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

/// The work an import would create from a record (checked as any new work is).
fn work_of(record: &ImportRecord, user: &AuthUser, unit: Option<&str>) -> Result<WorkRow, ImportError> {
    let title = Title::parse(&record.title)?;
    let body = fields::parse_body(Some(record.body.clone()))?;
    let summary = fields::optional_text("summary", record.summary.as_deref(), fields::SUMMARY_MAX_CHARS)?;
    let published = record.published_at.naive_utc();
    let credits: Vec<Credit> = record.author.iter().map(|name| Credit::named("作者", name.as_str())).collect();
    Ok(WorkRow {
        id: WorkId::generate(),
        kind: record.kind,
        title: title.into_string(),
        body,
        summary,
        tags: Json::new(record.tags.clone()),
        unit: unit.map(str::to_owned),
        credits: Json::new(credits),
        channel: Some(record.platform.label_zh().to_owned()),
        external_url: record.url.clone(),
        published_at: Some(published),
        status: if record.deleted { Status::Archived } else { Status::Published },
        created_by: user.id.clone(),
        // Made when it was published: statistics and lists count it then, not today.
        created_at: published,
        updated_at: now(),
        version: 1,
        deleted_at: None,
        assignees: Json::new(Vec::new()),
        due_date: None,
        review_round: 0,
        status_changed_at: Some(published),
        source_key: Some(record.source_key.clone()),
    })
}

/// Imports one record (blocking: the command and the import job run on their own threads).
pub fn import_record(
    db: &Db,
    user: &AuthUser,
    format: ArchiveFormat,
    record: &ImportRecord,
    options: &ImportOptions,
) -> Result<Outcome, ImportError> {
    if !user.has(Role::Admin) {
        return Err(ImportError::AdminRequired);
    }
    let work = work_of(record, user, options.unit.as_deref())?;
    if options.dry_run {
        let mut conn = db.connection()?;
        let known = rows::find_by_source_key(&mut conn, &record.source_key)?.is_some();
        return Ok(if known { Outcome::Unchanged } else { Outcome::Created });
    }
    db.write_blocking(|conn| match rows::find_by_source_key(conn, &record.source_key)? {
        Some(existing) => refresh_metrics(conn, &existing.id, record),
        None => create(conn, user, format, record, work),
    })
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
    let publication = PublicationRow {
        id: uuid::Uuid::now_v7().to_string(),
        work_id: work.id.clone(),
        platform: record.platform.as_str().to_owned(),
        account: record.account.clone(),
        url: record.url.clone(),
        published_at: record.published_at.naive_utc(),
        created_by: Some(user.id.clone()),
        created_at: stamp,
        updated_at: stamp,
    };
    publications::insert(conn, &publication)?;
    if !record.metrics.is_empty() {
        publications::insert_metrics(conn, &MetricsRow::new(&publication.id, record.metrics, stamp, "import"))?;
    }
    outbox::enqueue(conn, &work.id, stamp)?;
    let details = json!({
        "format": format.as_str(), "source_key": record.source_key, "by": user.username,
        "status": work.status.as_str(), "title": work.title,
    });
    audit::record(conn, Some(user), "work.imported", ("work", work.id.as_str()), details, stamp)?;
    Ok(Outcome::Created)
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
    pub problems: Vec<Problem>,
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
        text
    }
}

/// Most bytes of one export file (10 000 articles of 3 KB are ~40 MB).
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// The records of one export file, read.
pub struct ReadFile {
    pub name: String,
    pub format: ArchiveFormat,
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
    let text = crate::domain::archive::decode_text(&bytes)
        .ok_or_else(|| problem("the file is neither UTF-8 nor GB18030 text".into()))?;
    let format = match wanted {
        Some(format) => format,
        None => crate::domain::archive::detect(&text)
            .ok_or_else(|| problem(format!("not an export microcat reads; accepted: {}", ArchiveFormat::names())))?,
    };
    let rows = crate::domain::archive::parse(format, &text).map_err(problem)?;
    Ok(ReadFile { name: name.to_owned(), format, rows })
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

/// Imports every record of the read files, calling `progress(done, total)` after each
/// (blocking). Stops only when the caller may not import at all.
pub fn import_files(
    db: &Db,
    user: &AuthUser,
    files: Vec<ReadFile>,
    mut summary: Summary,
    options: &ImportOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Summary, ImportError> {
    let total: usize = files.iter().map(|file| file.rows.len()).sum();
    let mut done = 0;
    for file in files {
        for parsed in file.rows {
            match parsed {
                Ok(record) => match import_record(db, user, file.format, &record, options) {
                    Ok(Outcome::Created) => summary.created += 1,
                    Ok(Outcome::Updated) => summary.updated += 1,
                    Ok(Outcome::Unchanged) => summary.unchanged += 1,
                    Err(ImportError::AdminRequired) => return Err(ImportError::AdminRequired),
                    Err(error) => summary.problems.push(Problem {
                        file: file.name.clone(),
                        row: None,
                        reason: format!("{}: {error}", record.source_key),
                    }),
                },
                Err(problem) => summary.problems.push(Problem {
                    file: file.name.clone(),
                    row: Some(problem.row),
                    reason: problem.reason,
                }),
            }
            done += 1;
            progress(done, total);
        }
    }
    Ok(summary)
}
