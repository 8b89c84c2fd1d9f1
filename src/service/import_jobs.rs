//! Imports started from the page `/admin/import`: uploaded export files are read and checked
//! at once (a dry run: counts, the first rows as they will be created, every problem), then
//! imported by a background job on confirmation, with progress and a downloadable report.
//! The jobs live in this process; an import cut short by a restart is simply run again
//! (imports are idempotent).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::auth::AuthUser;
use super::import::{self, ImportError, ImportOptions, Importer, ReadFile, Summary};
use super::import_sources::SourceError;
use super::media::MediaContext;
use crate::db::Db;
use crate::domain::archive::{ArchiveFormat, ImportRecord};
use crate::domain::user::Role;

/// Rows shown in a preview.
pub const SAMPLE_ROWS: usize = 20;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Read and checked; waiting for confirmation.
    Previewed,
    Running,
    Done,
    Failed,
}

/// A record as the preview shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SampleRow {
    pub title: String,
    pub kind: &'static str,
    pub published_at: DateTime<Utc>,
    pub platform: &'static str,
    pub metrics: String,
    pub url: Option<String>,
}

/// One uploaded file, read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FilePreview {
    pub name: String,
    pub format: Option<&'static str>,
    pub records: usize,
}

/// What a job knows about itself.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JobView {
    pub id: String,
    pub phase: Phase,
    pub files: Vec<FilePreview>,
    pub unit: Option<String>,
    /// The dry run: what would be created, what is known already, every problem.
    pub preview: Summary,
    pub sample: Vec<SampleRow>,
    pub done: usize,
    pub total: usize,
    /// The import's outcome once it ran.
    pub result: Option<Summary>,
    pub error: Option<String>,
}

/// Files received for an import, in a folder of their own.
pub struct Staged {
    pub folder: PathBuf,
    /// Each file with the name it was uploaded as.
    pub files: Vec<(PathBuf, String)>,
    pub unit: Option<String>,
    pub format: Option<ArchiveFormat>,
}

struct Job {
    owner: crate::domain::ids::UserId,
    folder: PathBuf,
    files: Vec<(PathBuf, String)>,
    format: Option<ArchiveFormat>,
    view: JobView,
}

/// The jobs of this process.
#[derive(Clone, Default)]
pub struct ImportJobs {
    jobs: Arc<Mutex<HashMap<String, Job>>>,
}

/// Why a job could not be had.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no such import")]
    NotFound,
    #[error("this import has already been started")]
    AlreadyStarted,
    #[error("the report is ready when the import has finished")]
    NotFinished,
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("import task")]
    Task(#[from] tokio::task::JoinError),
}

fn sample_of(record: &ImportRecord) -> SampleRow {
    SampleRow {
        title: record.title.clone(),
        kind: record.kind.label_zh(),
        published_at: record.published_at,
        platform: record.platform.label_zh(),
        metrics: record.metrics.label_zh(),
        url: record.url.clone(),
    }
}

impl ImportJobs {
    fn with<T>(
        &self,
        id: &str,
        user: &AuthUser,
        act: impl FnOnce(&mut Job) -> Result<T, JobError>,
    ) -> Result<T, JobError> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let job = jobs.get_mut(id).filter(|job| job.owner == user.id || user.is_admin()).ok_or(JobError::NotFound)?;
        act(job)
    }

    /// Reads and checks uploaded files (a dry run) and keeps them for [`ImportJobs::start`].
    pub async fn stage(
        &self,
        (db, media): (&Db, &MediaContext),
        user: &AuthUser,
        upload: Staged,
    ) -> Result<JobView, JobError> {
        if !user.has(Role::Admin) {
            return Err(ImportError::AdminRequired.into());
        }
        let (db, media, caller) = (db.clone(), media.clone(), user.clone());
        let (staged, folder, format) = (upload.files.clone(), upload.folder.clone(), upload.format);
        let options = ImportOptions { unit: upload.unit.clone(), dry_run: true };
        let (previews, sample, summary) = tokio::task::spawn_blocking(move || -> Result<_, JobError> {
            let scratch = folder.join("preview");
            let prepared = import::prepare(&staged, &scratch, format);
            let prepared = prepared.inspect_err(|_| drop(std::fs::remove_dir_all(&scratch)))?;
            let previews = file_previews(&prepared.files, &prepared.problems);
            let sample: Vec<SampleRow> = prepared
                .files
                .iter()
                .flat_map(|file| file.rows.iter().flatten())
                .take(SAMPLE_ROWS)
                .map(sample_of)
                .collect();
            let importer = Importer { db: &db, media: &media, user: &caller, options: &options };
            let summary = import::import_prepared(importer, prepared, &mut |_, _| {});
            let _ = std::fs::remove_dir_all(&scratch);
            Ok((previews, sample, summary?))
        })
        .await??;
        let id = uuid::Uuid::now_v7().to_string();
        let view = JobView {
            id: id.clone(),
            phase: Phase::Previewed,
            files: previews,
            unit: upload.unit,
            total: summary.created
                + summary.updated
                + summary.unchanged
                + summary.problems.iter().filter(|problem| problem.row.is_some()).count(),
            preview: summary,
            sample,
            done: 0,
            result: None,
            error: None,
        };
        let job =
            Job { owner: user.id.clone(), folder: upload.folder, files: upload.files, format, view: view.clone() };
        self.jobs.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(id, job);
        Ok(view)
    }

    /// Starts a previewed import in the background.
    pub fn start(&self, (db, media): (&Db, &MediaContext), user: &AuthUser, id: &str) -> Result<JobView, JobError> {
        let (files, format, unit, folder) = self.with(id, user, |job| {
            if job.view.phase != Phase::Previewed {
                return Err(JobError::AlreadyStarted);
            }
            job.view.phase = Phase::Running;
            Ok((job.files.clone(), job.format, job.view.unit.clone(), job.folder.clone()))
        })?;
        let (jobs, db, media, caller, id_owned) =
            (self.clone(), db.clone(), media.clone(), user.clone(), id.to_owned());
        tokio::task::spawn_blocking(move || {
            let options = ImportOptions { unit, dry_run: false };
            let mut progress = |done: usize, total: usize| {
                let _ = jobs.with(&id_owned, &caller, |job| {
                    job.view.done = done;
                    job.view.total = total;
                    Ok(())
                });
            };
            let importer = Importer { db: &db, media: &media, user: &caller, options: &options };
            let outcome = import::prepare(&files, &folder.join("run"), format)
                .map_err(JobError::from)
                .and_then(|prepared| Ok(import::import_prepared(importer, prepared, &mut progress)?));
            let _ = std::fs::remove_dir_all(&folder);
            let _ = jobs.with(&id_owned, &caller, |job| {
                match outcome {
                    Ok(summary) => {
                        job.view.phase = Phase::Done;
                        job.view.result = Some(summary);
                    }
                    Err(error) => {
                        job.view.phase = Phase::Failed;
                        job.view.error = Some(error.to_string());
                    }
                }
                Ok(())
            });
        });
        self.view(user, id)
    }

    /// A job as it stands.
    pub fn view(&self, user: &AuthUser, id: &str) -> Result<JobView, JobError> {
        self.with(id, user, |job| Ok(job.view.clone()))
    }

    /// The report of a finished import.
    pub fn report(&self, user: &AuthUser, id: &str) -> Result<String, JobError> {
        self.with(id, user, |job| job.view.result.as_ref().map(Summary::report).ok_or(JobError::NotFinished))
    }
}

fn file_previews(read: &[ReadFile], unreadable: &[import::Problem]) -> Vec<FilePreview> {
    let readable = read.iter().map(|file| FilePreview {
        name: file.name.clone(),
        format: Some(file.format.as_str()),
        records: file.rows.len(),
    });
    let others = unreadable.iter().filter(|problem| problem.row.is_none()).map(|problem| FilePreview {
        name: problem.file.clone(),
        format: None,
        records: 0,
    });
    readable.chain(others).collect()
}
