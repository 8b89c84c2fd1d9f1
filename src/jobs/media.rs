//! Workers of the persisted job queue. Each worker claims a due job, runs the media worker
//! child on the stored original, moves the derivatives into place and records the outcome.
//! Failures a retry cannot fix (a broken or over-limit file) end the job at once; crashes and
//! timeouts are retried with exponential backoff until the last attempt.
//!
//! Two kinds of job: `process_media` (metadata, thumbnails, poster, storyboard: seconds) and,
//! queued by it when the preview policy says so, `make_preview` (a film's playable rendition:
//! minutes, with a time limit proportional to the film and its progress recorded). Workers
//! take derivative jobs first, and with two or more workers the first never transcodes, so a
//! new upload's card appears in seconds however many previews are waiting.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::clock::now;
use crate::db::jobs::{self, JobRow, MAKE_PREVIEW, PROCESS_MEDIA};
use crate::db::media::{self as media_rows, MediaRow, ProcessedFields};
use crate::db::types::Json;
use crate::db::{Db, DbError};
use crate::domain::media::Derivative;
use crate::domain::preview::{PlaybackFacts, PreviewPolicy, PreviewSettings, PreviewStatus, transcode_time_limit};
use crate::media::worker::{ChildFailure, ChildLimits, ProducedFile, Task, WorkOutcome, WorkRequest, run_child};
use crate::media::{DecodeLimits, MediaFailure, MediaMetadata};
use crate::storage::{BlobKey, DerivedName, Object, Storage};

/// How often idle workers look for due jobs (retries become due without a wake-up).
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Least time between two progress writes of one transcode.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);
/// How long a claimed job is leased: a node that stops renewing (it died) loses its jobs to
/// the other nodes this long after its last heartbeat.
const LEASE: Duration = Duration::from_secs(45);
/// How often a running job's lease is renewed.
const LEASE_RENEWAL: Duration = Duration::from_secs(10);

/// Everything a worker needs.
pub struct JobRunner {
    pub db: Db,
    /// This node (see `jobs::nodes`): the holder named on the jobs it claims.
    pub node: Arc<str>,
    pub store: Storage,
    pub child: ChildLimits,
    pub decode: DecodeLimits,
    pub wake: Arc<Notify>,
    pub retry_base: Duration,
    pub previews: PreviewRules,
}

/// When and how previews are made.
#[derive(Debug, Clone)]
pub struct PreviewRules {
    pub policy: PreviewPolicy,
    pub settings: PreviewSettings,
    /// Transcode time limit per second of film (plus a minute).
    pub seconds_per_second: u64,
}

/// The running workers; dropping it does not stop them, [`Workers::stop`] does.
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Stops every worker (a child in flight is killed with it).
    pub fn stop(&self) {
        for handle in &self.handles {
            handle.abort();
        }
    }
}

impl JobRunner {
    /// Requeues the jobs this node's previous run left running (other nodes' jobs are theirs
    /// until their leases run out), then starts `count` workers.
    pub async fn start(self, count: usize) -> Result<Workers, DbError> {
        let node = Arc::clone(&self.node);
        let requeued = self.db.write(move |conn| jobs::requeue_own(conn, &node, now())).await?;
        if requeued > 0 {
            tracing::info!(jobs = requeued, "requeued jobs interrupted by a restart");
        }
        let runner = Arc::new(self);
        let count = count.max(1);
        let handles = (0..count)
            .map(|index| {
                let kinds: &'static [&'static str] =
                    if index == 0 && count > 1 { &[PROCESS_MEDIA] } else { &[PROCESS_MEDIA, MAKE_PREVIEW] };
                tokio::spawn(Arc::clone(&runner).work_loop(kinds))
            })
            .collect();
        Ok(Workers { handles })
    }

    async fn work_loop(self: Arc<Self>, kinds: &'static [&'static str]) {
        loop {
            match self.claim(kinds).await {
                Ok(Some(job)) => self.run(job).await,
                Ok(None) => {
                    let _ = tokio::time::timeout(POLL_INTERVAL, self.wake.notified()).await;
                }
                Err(error) => {
                    tracing::error!(%error, "claiming a job failed");
                    tokio::time::sleep(POLL_INTERVAL * 4).await;
                }
            }
        }
    }

    async fn claim(&self, kinds: &'static [&'static str]) -> Result<Option<JobRow>, DbError> {
        let node = Arc::clone(&self.node);
        let claimed = self
            .db
            .write_bookkeeping(move |conn| {
                let stamp = now();
                jobs::requeue_running(conn, stamp, stamp)?;
                jobs::claim_next(conn, kinds, &node, stamp, stamp + lease())
            })
            .await?;
        Ok(claimed)
    }

    /// Runs a claimed job while renewing its lease; a job whose lease was lost (this node
    /// stalled past it and another took the job) is dropped, child and all, unrecorded.
    async fn run(&self, job: JobRow) {
        let heartbeat = self.renew_lease(&job);
        tokio::select! {
            () = self.run_leased(job.clone()) => {}
            () = heartbeat => {
                tracing::warn!(job.id = %job.id, "lost the lease of a running job: another node runs it now");
            }
        }
    }

    /// Renews the lease every [`LEASE_RENEWAL`]; returns only when the lease is lost.
    async fn renew_lease(&self, job: &JobRow) {
        loop {
            tokio::time::sleep(LEASE_RENEWAL).await;
            let (id, attempts, node) = (job.id.clone(), job.attempts, Arc::clone(&self.node));
            let renewed = self
                .db
                .write_bookkeeping(move |conn| jobs::extend_lease(conn, (&id, attempts), &node, now() + lease()))
                .await;
            match renewed {
                Ok(true) => {}
                Ok(false) => return,
                Err(error) => tracing::warn!(%error, job.id = %job.id, "renewing a job's lease failed; retrying"),
            }
        }
    }

    async fn run_leased(&self, job: JobRow) {
        let started = std::time::Instant::now();
        let media_id = job.media_id.clone();
        let found = self.db.read(move |conn| media_rows::find(conn, &media_id)).await;
        let media = match found {
            Ok(Some(media)) => media,
            Ok(None) => return self.record(job, Recorded::Vanished).await,
            Err(error) => return tracing::error!(%error, job.id = %job.id, "loading a job's media failed"),
        };
        let outcome = if job.kind == MAKE_PREVIEW {
            self.make_preview(&job, &media).await
        } else {
            self.process(&job, &media, Task::Derivatives, &self.child, None).await
        };
        tracing::info!(job.id = %job.id, job.kind = %job.kind, media.id = %media.id, attempt = job.attempts, duration_ms = started.elapsed().as_millis() as u64, outcome = outcome.label(), "media job finished");
        self.record(job, outcome).await;
    }

    /// Runs a preview transcode under a time limit proportional to the film, recording its
    /// progress as it goes.
    async fn make_preview(&self, job: &JobRow, media: &MediaRow) -> Recorded {
        let duration_ms = media.duration_ms.unwrap_or(0).max(0) as u64;
        let limits = ChildLimits {
            timeout: transcode_time_limit(duration_ms, self.previews.seconds_per_second),
            ..self.child.clone()
        };
        let media_id = media.id.clone();
        let started = self
            .db
            .write(move |conn| -> Result<_, diesel::result::Error> {
                media_rows::set_preview(conn, &media_id, PreviewStatus::Processing, 0, None, now())
            })
            .await;
        if let Err(error) = started {
            return Recorded::Retry(ChildFailure::Spawn(format!("recording the start: {error}")));
        }
        let (sender, receiver) = tokio::sync::watch::channel(0u8);
        let reporter = tokio::spawn(record_progress(self.db.clone(), media.id.clone(), receiver));
        let task = Task::Preview(self.previews.settings.clone());
        let outcome = self.process(job, media, task, &limits, Some(&sender)).await;
        reporter.abort();
        outcome
    }

    async fn process(
        &self,
        job: &JobRow,
        media: &MediaRow,
        task: Task,
        limits: &ChildLimits,
        progress: Option<&tokio::sync::watch::Sender<u8>>,
    ) -> Recorded {
        let Some(key) = BlobKey::parse(&media.sha256) else {
            return Recorded::Failed(MediaFailure::new(
                crate::error::codes::ORIGINAL_MISSING,
                "the stored digest is malformed",
            ));
        };
        let output_dir = match self.store.scratch().temp_folder(&format!("job-{}-{}", job.id, job.attempts)) {
            Ok(dir) => dir,
            Err(error) => return Recorded::Retry(ChildFailure::Spawn(format!("temp folder: {error}"))),
        };
        let store = self.store.clone();
        let original = Object::Original(key.clone());
        let fetched = tokio::task::spawn_blocking(move || store.local_copy(&original)).await;
        let input = match fetched.map_err(std::io::Error::other).and_then(|copy| copy) {
            Ok(input) => input,
            Err(error) => {
                let _ = tokio::fs::remove_dir_all(&output_dir).await;
                return Recorded::Retry(ChildFailure::Spawn(format!("fetching the original: {error}")));
            }
        };
        let request = WorkRequest {
            input: input.path().to_owned(),
            format: media.format.clone(),
            output_dir: output_dir.clone(),
            limits: self.decode,
            task,
        };
        let result = match run_child(limits, &request, progress).await {
            Ok(WorkOutcome::Ready { metadata, derivatives }) => {
                self.adopt(&key, derivatives).await.map(|names| Recorded::Ready(metadata, names))
            }
            Ok(WorkOutcome::Failed { failure }) => Ok(Recorded::Failed(failure)),
            Err(failure) => Ok(Recorded::Retry(failure)),
        };
        let _ = tokio::fs::remove_dir_all(&output_dir).await;
        drop(input);
        result.unwrap_or_else(|error| Recorded::Retry(ChildFailure::Crashed(format!("storing derivatives: {error}"))))
    }

    /// Moves produced files into the derived folder, keeping only names the worker may make.
    async fn adopt(&self, key: &BlobKey, derivatives: Vec<ProducedFile>) -> std::io::Result<Vec<String>> {
        let store = self.store.clone();
        let key = key.clone();
        tokio::task::spawn_blocking(move || {
            let mut names = Vec::new();
            for derivative in derivatives {
                let allowed = crate::domain::media::Derivative::from_file_name(&derivative.name).is_some();
                let inside =
                    derivative.file.parent().is_some_and(|parent| parent.starts_with(store.scratch().temp_dir()));
                let name = DerivedName::parse(&derivative.name).filter(|_| allowed && inside);
                if let Some(name) = name {
                    store.blobs().put_file(&Object::Derived(key.clone(), name), &derivative.file)?;
                    names.push(derivative.name);
                }
            }
            Ok(names)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    async fn record(&self, job: JobRow, outcome: Recorded) {
        let retry_at = now()
            + TimeDelta::from_std(self.retry_base * 2u32.saturating_pow(job.attempts.max(1) as u32 - 1))
                .unwrap_or(TimeDelta::minutes(5));
        let rules = self.previews.clone();
        let node = Arc::clone(&self.node);
        let written = self
            .db
            .write(move |conn| -> Result<_, diesel::result::Error> {
                if !jobs::holds(conn, &job.id, &node, job.attempts)? {
                    tracing::warn!(job.id = %job.id, "not recording a job whose lease this node lost");
                    return Ok(());
                }
                if job.kind == MAKE_PREVIEW {
                    record_preview(conn, &job, outcome, retry_at)
                } else {
                    record_derivatives(conn, &job, outcome, retry_at, &rules)
                }
            })
            .await;
        if let Err(error) = written {
            tracing::error!(%error, "recording a job outcome failed; the lease will expire and the job will run again");
        } else {
            self.wake.notify_one();
        }
    }
}

fn lease() -> TimeDelta {
    TimeDelta::from_std(LEASE).expect("a short lease")
}

/// Writes a transcode's progress as it changes, at most once a second.
async fn record_progress(
    db: Db,
    media_id: crate::domain::ids::MediaId,
    mut progress: tokio::sync::watch::Receiver<u8>,
) {
    while progress.changed().await.is_ok() {
        let percent = i32::from(*progress.borrow_and_update());
        let id = media_id.clone();
        let written = db
            .write_bookkeeping(move |conn| -> Result<_, DbError> {
                Ok(media_rows::set_preview_progress(conn, &id, percent)?)
            })
            .await;
        if let Err(error) = written {
            tracing::warn!(%error, "recording preview progress failed");
        }
        tokio::time::sleep(PROGRESS_INTERVAL).await;
    }
}

/// Records a `process_media` outcome; a ready film the preview rules pick gets its preview
/// queued in the same transaction.
fn record_derivatives(
    conn: &mut crate::db::DbConnection,
    job: &JobRow,
    outcome: Recorded,
    retry_at: chrono::NaiveDateTime,
    rules: &PreviewRules,
) -> Result<(), diesel::result::Error> {
    let stamp = now();
    match outcome {
        Recorded::Vanished => jobs::finish(conn, &job.id, stamp)?,
        Recorded::Ready(metadata, names) => {
            let Some(row) = media_rows::find(conn, &job.media_id)? else { return jobs::finish(conn, &job.id, stamp) };
            let preview = preview_status_for(&metadata, &row.format, rules);
            media_rows::set_ready(conn, &job.media_id, &processed_fields(&metadata, &names, preview), stamp)?;
            // What processing learned (GPS, subtitles) is for the compliance sweep to check.
            crate::db::compliance::mark_unchecked(conn, row.work_id.as_str())?;
            if metadata.transcript.is_some() {
                // Its lines are searchable now: index the work again.
                crate::db::outbox::enqueue(conn, &row.work_id, stamp)?;
            }
            if preview == PreviewStatus::Pending {
                jobs::insert(conn, &jobs::new_job(&job.media_id, MAKE_PREVIEW, job.max_attempts, stamp))?;
            }
            jobs::finish(conn, &job.id, stamp)?;
        }
        Recorded::Failed(failure) => {
            media_rows::set_failed(conn, &job.media_id, &failure.code, &failure.message, stamp)?;
            jobs::fail(conn, &job.id, &failure.to_string(), stamp)?;
        }
        Recorded::Retry(failure) if job.attempts < job.max_attempts => {
            jobs::retry_later(conn, &job.id, retry_at, &failure.to_string(), stamp)?;
        }
        Recorded::Retry(failure) => {
            let message = format!("{failure} (after {} attempts)", job.attempts);
            media_rows::set_failed(conn, &job.media_id, failure.code(), &message, stamp)?;
            jobs::fail(conn, &job.id, &message, stamp)?;
        }
    }
    Ok(())
}

/// Records a `make_preview` outcome. The medium stays ready whatever happens to its preview:
/// players fall back to the original.
fn record_preview(
    conn: &mut crate::db::DbConnection,
    job: &JobRow,
    outcome: Recorded,
    retry_at: chrono::NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    let stamp = now();
    let id = &job.media_id;
    match outcome {
        Recorded::Vanished => jobs::finish(conn, &job.id, stamp)?,
        Recorded::Ready(..) => {
            let Some(row) = media_rows::find(conn, id)? else { return jobs::finish(conn, &job.id, stamp) };
            let mut names = row.derivatives.into_value();
            let preview = Derivative::Preview.file_name().to_owned();
            if !names.contains(&preview) {
                names.push(preview);
            }
            media_rows::set_preview_ready(conn, id, &Json::new(names), stamp)?;
            jobs::finish(conn, &job.id, stamp)?;
        }
        Recorded::Failed(failure) => {
            media_rows::set_preview(conn, id, PreviewStatus::Failed, 0, Some(&failure.to_string()), stamp)?;
            jobs::fail(conn, &job.id, &failure.to_string(), stamp)?;
        }
        Recorded::Retry(failure) if job.attempts < job.max_attempts => {
            media_rows::set_preview(conn, id, PreviewStatus::Pending, 0, None, stamp)?;
            jobs::retry_later(conn, &job.id, retry_at, &failure.to_string(), stamp)?;
        }
        Recorded::Retry(failure) => {
            let message = format!("{failure} (after {} attempts)", job.attempts);
            media_rows::set_preview(conn, id, PreviewStatus::Failed, 0, Some(&message), stamp)?;
            jobs::fail(conn, &job.id, &message, stamp)?;
        }
    }
    Ok(())
}

/// `pending` when the rules want a preview of this film, else `not_needed`.
fn preview_status_for(metadata: &MediaMetadata, container: &str, rules: &PreviewRules) -> PreviewStatus {
    let facts = PlaybackFacts {
        container,
        has_video: metadata.video_codec.is_some() && metadata.width.is_some(),
        video_codec: metadata.video_codec.as_deref(),
        pixel_format: metadata.pixel_format.as_deref(),
        audio_codec: metadata.audio_codec.as_deref(),
        width: metadata.width.unwrap_or(0),
        height: metadata.height.unwrap_or(0),
    };
    if rules.policy.needs_preview(&facts, rules.settings.short_side) {
        PreviewStatus::Pending
    } else {
        PreviewStatus::NotNeeded
    }
}

/// What a run amounts to.
enum Recorded {
    Ready(MediaMetadata, Vec<String>),
    Failed(MediaFailure),
    Retry(ChildFailure),
    Vanished,
}

impl Recorded {
    fn label(&self) -> &'static str {
        match self {
            Recorded::Ready(..) => "ready",
            Recorded::Failed(_) => "failed",
            Recorded::Retry(_) => "retry",
            Recorded::Vanished => "media-deleted",
        }
    }
}

fn processed_fields(metadata: &MediaMetadata, names: &[String], preview: PreviewStatus) -> ProcessedFields {
    let small = |value: Option<u32>| value.and_then(|value| i32::try_from(value).ok());
    let big = |value: Option<u64>| value.and_then(|value| i64::try_from(value).ok());
    ProcessedFields {
        width: small(metadata.width),
        height: small(metadata.height),
        duration_ms: big(metadata.duration_ms),
        rotation: small(metadata.rotation),
        video_codec: metadata.video_codec.clone(),
        audio_codec: metadata.audio_codec.clone(),
        frame_rate: metadata.frame_rate,
        bitrate: big(metadata.bitrate),
        taken_at: metadata.taken_at.clone(),
        camera: metadata.camera.clone(),
        pixel_format: metadata.pixel_format.clone(),
        derivatives: Json::new(names.to_vec()),
        preview_status: preview,
        preview_progress: 0,
        preview_error: None,
        transcript: metadata.transcript.clone().map(Json::new),
        gps: metadata.gps,
    }
}
