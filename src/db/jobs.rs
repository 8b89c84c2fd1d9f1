//! The `jobs` table: a persisted queue shared by every node. Jobs survive restarts; a claimed
//! job carries a lease (`locked_until`, renewed by its worker's heartbeat) and the node
//! holding it (`locked_by`), so a job whose worker or node died is picked up again by any node.

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
    /// The node holding the lease of a running job.
    pub locked_by: Option<String>,
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
        locked_by: None,
    }
}

/// Claims the oldest due job of the first of `kinds` that has one for `node`, leasing it until
/// `lease_until`; call it inside a transaction. On PostgreSQL the candidate is locked with
/// `FOR UPDATE SKIP LOCKED`, so workers of several nodes each take a different job without
/// waiting on each other; on SQLite (one writer at a time) the UPDATE only succeeds on a queued
/// row. `None` when nothing is due.
pub fn claim_next(
    conn: &mut DbConnection,
    kinds: &[&str],
    node: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<Option<JobRow>> {
    let mut candidate: Option<String> = None;
    for kind in kinds {
        let due = jobs::table
            .filter(jobs::status.eq("queued"))
            .filter(jobs::kind.eq(*kind))
            .filter(jobs::run_after.le(now))
            .order((jobs::run_after.asc(), jobs::id.asc()))
            .select(jobs::id);
        candidate = match conn {
            DbConnection::Postgresql(pg) => due.for_update().skip_locked().first(pg).optional()?,
            DbConnection::Sqlite(sqlite) => due.first(sqlite).optional()?,
        };
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
            jobs::locked_by.eq(Some(node)),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    if claimed == 0 {
        return Ok(None);
    }
    jobs::table.find(&id).select(JobRow::as_select()).first(conn).optional()
}

/// Renews the lease `node` holds on a running job (its heartbeat); false when the lease is no
/// longer this node's (it ran out and another node took the job).
pub fn extend_lease(
    conn: &mut DbConnection,
    (id, attempts): (&str, i32),
    node: &str,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    let held = jobs::table
        .find(id)
        .filter(jobs::status.eq("running"))
        .filter(jobs::locked_by.eq(node))
        .filter(jobs::attempts.eq(attempts));
    let renewed = diesel::update(held).set(jobs::locked_until.eq(Some(lease_until))).execute(conn)?;
    Ok(renewed == 1)
}

/// Whether `node` still holds the lease of this attempt of a job (checked before recording
/// its outcome, in the same transaction).
pub fn holds(conn: &mut DbConnection, id: &str, node: &str, attempts: i32) -> QueryResult<bool> {
    let held = jobs::table
        .find(id)
        .filter(jobs::status.eq("running"))
        .filter(jobs::locked_by.eq(node))
        .filter(jobs::attempts.eq(attempts))
        .count()
        .get_result::<i64>(conn)?;
    Ok(held == 1)
}

/// The assignments that put a running job back in the queue.
type BackInQueue = (
    diesel::dsl::Eq<jobs::status, &'static str>,
    diesel::dsl::Eq<jobs::locked_until, Option<NaiveDateTime>>,
    diesel::dsl::Eq<jobs::locked_by, Option<String>>,
    diesel::dsl::Eq<jobs::run_after, NaiveDateTime>,
    diesel::dsl::Eq<jobs::updated_at, NaiveDateTime>,
);

/// The columns of a running job put back in the queue, due at once.
fn back_in_queue(now: NaiveDateTime) -> BackInQueue {
    (
        jobs::status.eq("queued"),
        jobs::locked_until.eq(None),
        jobs::locked_by.eq(None),
        jobs::run_after.eq(now),
        jobs::updated_at.eq(now),
    )
}

/// Returns the jobs a previous run of this node left running to the queue: the node has just
/// started, so none of them is running anywhere. Other nodes' jobs are left to their leases.
pub fn requeue_own(conn: &mut DbConnection, node: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(jobs::table.filter(jobs::status.eq("running")).filter(jobs::locked_by.eq(node)))
        .set(back_in_queue(now))
        .execute(conn)
}

/// Running jobs by the node holding them.
pub fn running_by_node(conn: &mut DbConnection) -> QueryResult<Vec<(Option<String>, i64)>> {
    jobs::table
        .filter(jobs::status.eq("running"))
        .group_by(jobs::locked_by)
        .select((jobs::locked_by, diesel::dsl::count_star()))
        .load(conn)
}

/// Marks a job done.
pub fn finish(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(jobs::table.find(id))
        .set((
            jobs::status.eq("done"),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::locked_by.eq(None::<String>),
            jobs::updated_at.eq(now),
        ))
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
            jobs::locked_by.eq(None::<String>),
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
            jobs::locked_by.eq(None::<String>),
            jobs::last_error.eq(error),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Returns running jobs whose lease ran out before `leased_before` (their worker or node
/// died) to the queue; any node does this for any other.
pub fn requeue_running(
    conn: &mut DbConnection,
    leased_before: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(jobs::table.filter(jobs::status.eq("running")).filter(jobs::locked_until.lt(leased_before)))
        .set(back_in_queue(now))
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
