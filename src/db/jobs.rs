//! The `jobs` table: a persisted queue. Jobs survive restarts; a claimed job carries a lease
//! (`locked_until`) so a job whose worker died is picked up again.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::jobs;
use crate::domain::ids::MediaId;

/// The job that makes a medium's metadata and derivatives (seconds).
pub const PROCESS_MEDIA: &str = "process_media";
/// The job that makes a film's preview rendition (minutes); queued by the first.
pub const MAKE_PREVIEW: &str = "make_preview";

/// A queued, running, finished or failed job.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: String,
    pub media_id: MediaId,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Queues a job.
pub fn insert(conn: &mut DbConnection, job: &JobRow) -> QueryResult<()> {
    diesel::insert_into(jobs::table).values(job).execute(conn).map(drop)
}

/// A new queued job of `kind` for a medium.
pub fn new_job(media_id: &MediaId, kind: &str, max_attempts: i32, now: NaiveDateTime) -> JobRow {
    JobRow {
        id: uuid::Uuid::now_v7().to_string(),
        media_id: media_id.clone(),
        kind: kind.to_owned(),
        status: "queued".into(),
        attempts: 0,
        max_attempts,
        run_after: now,
        locked_until: None,
        last_error: None,
        created_at: now,
        updated_at: now,
    }
}

/// Claims the oldest due job of the first of `kinds` that has one, leasing it until
/// `lease_until`. `None` when nothing is due or another worker claimed the candidate first
/// (the UPDATE only succeeds on a queued row).
pub fn claim_next(
    conn: &mut DbConnection,
    kinds: &[&str],
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<Option<JobRow>> {
    let mut candidate: Option<String> = None;
    for kind in kinds {
        candidate = jobs::table
            .filter(jobs::status.eq("queued"))
            .filter(jobs::kind.eq(kind))
            .filter(jobs::run_after.le(now))
            .order((jobs::run_after.asc(), jobs::id.asc()))
            .select(jobs::id)
            .first(conn)
            .optional()?;
        if candidate.is_some() {
            break;
        }
    }
    let Some(id) = candidate else { return Ok(None) };
    let claimed = diesel::update(jobs::table.filter(jobs::id.eq(&id)).filter(jobs::status.eq("queued")))
        .set((
            jobs::status.eq("running"),
            jobs::attempts.eq(jobs::attempts + 1),
            jobs::locked_until.eq(Some(lease_until)),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    if claimed == 0 {
        return Ok(None);
    }
    jobs::table.find(&id).select(JobRow::as_select()).first(conn).optional()
}

/// Extends a running job's lease (a long transcode).
pub fn extend_lease(conn: &mut DbConnection, id: &str, lease_until: NaiveDateTime) -> QueryResult<()> {
    diesel::update(jobs::table.find(id).filter(jobs::status.eq("running")))
        .set(jobs::locked_until.eq(Some(lease_until)))
        .execute(conn)
        .map(drop)
}

/// Marks a job done.
pub fn finish(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(jobs::table.find(id))
        .set((jobs::status.eq("done"), jobs::locked_until.eq(None::<NaiveDateTime>), jobs::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

/// Puts a job back in the queue to run after `run_after`, noting why.
pub fn retry_later(
    conn: &mut DbConnection,
    id: &str,
    run_after: NaiveDateTime,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(jobs::table.find(id))
        .set((
            jobs::status.eq("queued"),
            jobs::run_after.eq(run_after),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(error),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Ends a job as failed.
pub fn fail(conn: &mut DbConnection, id: &str, error: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(jobs::table.find(id))
        .set((
            jobs::status.eq("failed"),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(error),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Returns running jobs whose lease ran out before `leased_before` (their worker or server
/// died) to the queue. At start, pass a time far ahead: no worker of ours can be running yet.
pub fn requeue_running(
    conn: &mut DbConnection,
    leased_before: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(jobs::table.filter(jobs::status.eq("running")).filter(jobs::locked_until.lt(leased_before)))
        .set((
            jobs::status.eq("queued"),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::run_after.eq(now),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
}

/// The jobs of one medium, newest first.
pub fn for_media(conn: &mut DbConnection, media_id: &str) -> QueryResult<Vec<JobRow>> {
    jobs::table
        .filter(jobs::media_id.eq(media_id))
        .order(jobs::created_at.desc())
        .select(JobRow::as_select())
        .load(conn)
}

/// Removes every job (a restored installation queues its own).
pub fn clear_all(conn: &mut DbConnection) -> QueryResult<usize> {
    diesel::delete(jobs::table).execute(conn)
}
