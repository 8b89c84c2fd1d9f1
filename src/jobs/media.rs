//! Workers of the persisted job queue. Each worker claims a due job, runs the media worker
//! child on the stored original, moves the derivatives into place and records the outcome.
//! Failures a retry cannot fix (a broken or over-limit file) end the job at once; crashes and
//! timeouts are retried with exponential backoff until the last attempt.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::clock::now;
use crate::db::jobs::{self, JobRow};
use crate::db::media::{self as media_rows, MediaRow, ProcessedFields};
use crate::db::types::Json;
use crate::db::{Db, DbError};
use crate::media::worker::{ChildFailure, ChildLimits, ProducedFile, WorkOutcome, WorkRequest, run_child};
use crate::media::{DecodeLimits, MediaFailure, MediaMetadata};
use crate::storage::{BlobKey, LocalStore};

/// How often idle workers look for due jobs (retries become due without a wake-up).
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Everything a worker needs.
pub struct JobRunner {
    pub db: Db,
    pub store: LocalStore,
    pub child: ChildLimits,
    pub decode: DecodeLimits,
    pub wake: Arc<Notify>,
    pub retry_base: Duration,
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
    /// Requeues jobs left running by a previous process, then starts `count` workers.
    pub async fn start(self, count: usize) -> Result<Workers, DbError> {
        let requeued =
            self.db.write(|conn| jobs::requeue_running(conn, now() + TimeDelta::days(36_500), now())).await?;
        if requeued > 0 {
            tracing::info!(jobs = requeued, "requeued jobs interrupted by a restart");
        }
        let runner = Arc::new(self);
        let handles = (0..count.max(1)).map(|_| tokio::spawn(Arc::clone(&runner).work_loop())).collect();
        Ok(Workers { handles })
    }

    async fn work_loop(self: Arc<Self>) {
        loop {
            match self.claim().await {
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

    async fn claim(&self) -> Result<Option<JobRow>, DbError> {
        let lease =
            TimeDelta::from_std(self.child.timeout * 2 + Duration::from_secs(30)).unwrap_or(TimeDelta::hours(1));
        let claimed = self
            .db
            .write_bookkeeping(move |conn| {
                let stamp = now();
                jobs::requeue_running(conn, stamp, stamp)?;
                jobs::claim_next(conn, stamp, stamp + lease)
            })
            .await?;
        Ok(claimed)
    }

    async fn run(&self, job: JobRow) {
        let started = std::time::Instant::now();
        let media_id = job.media_id.clone();
        let found = self.db.read(move |conn| media_rows::find(conn, &media_id)).await;
        let media = match found {
            Ok(Some(media)) => media,
            Ok(None) => return self.record(job, Recorded::Vanished).await,
            Err(error) => return tracing::error!(%error, job.id = %job.id, "loading a job's media failed"),
        };
        let outcome = self.process(&job, &media).await;
        tracing::info!(job.id = %job.id, media.id = %media.id, attempt = job.attempts, duration_ms = started.elapsed().as_millis() as u64, outcome = outcome.label(), "media job finished");
        self.record(job, outcome).await;
    }

    async fn process(&self, job: &JobRow, media: &MediaRow) -> Recorded {
        let Some(key) = BlobKey::parse(&media.sha256) else {
            return Recorded::Failed(MediaFailure::new(
                crate::error::codes::ORIGINAL_MISSING,
                "the stored digest is malformed",
            ));
        };
        let output_dir = match self.store.temp_folder(&format!("job-{}-{}", job.id, job.attempts)) {
            Ok(dir) => dir,
            Err(error) => return Recorded::Retry(ChildFailure::Spawn(format!("temp folder: {error}"))),
        };
        let request = WorkRequest {
            input: self.store.original_path(&key),
            format: media.format.clone(),
            output_dir: output_dir.clone(),
            limits: self.decode,
        };
        let result = match run_child(&self.child, &request).await {
            Ok(WorkOutcome::Ready { metadata, derivatives }) => {
                self.adopt(&key, derivatives).await.map(|names| Recorded::Ready(metadata, names))
            }
            Ok(WorkOutcome::Failed { failure }) => Ok(Recorded::Failed(failure)),
            Err(failure) => Ok(Recorded::Retry(failure)),
        };
        let _ = tokio::fs::remove_dir_all(&output_dir).await;
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
                let inside = derivative.file.parent().is_some_and(|parent| parent.starts_with(store.temp_dir()));
                if allowed && inside {
                    store.put_derived(&key, &derivative.name, &derivative.file)?;
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
        let written = self
            .db
            .write(move |conn| -> Result<_, diesel::result::Error> {
                let stamp = now();
                match outcome {
                    Recorded::Vanished => jobs::finish(conn, &job.id, stamp)?,
                    Recorded::Ready(metadata, names) => {
                        media_rows::set_ready(conn, &job.media_id, &processed_fields(&metadata, &names), stamp)?;
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
            })
            .await;
        if let Err(error) = written {
            tracing::error!(%error, "recording a job outcome failed; the lease will expire and the job will run again");
        }
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

fn processed_fields(metadata: &MediaMetadata, names: &[String]) -> ProcessedFields {
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
        derivatives: Json::new(names.to_vec()),
    }
}
