//! The `transitions` and `signoffs` tables: every lifecycle step taken, and first-level
//! approvals waiting for a second reviewer.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{signoffs, transitions, works};
use crate::domain::ids::{UserId, WorkId};
use crate::domain::lifecycle::Action;
use crate::domain::work::Status;

/// A lifecycle step taken.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = transitions)]
pub struct TransitionRow {
    pub id: String,
    pub work_id: WorkId,
    pub action: Action,
    pub from_status: Status,
    pub to_status: Status,
    pub actor_id: String,
    pub comment: Option<String>,
    pub created_at: NaiveDateTime,
}

/// What a transition changes on the work.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = works)]
pub struct StatusChange {
    pub status: Status,
    pub review_round: i32,
    pub status_changed_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    pub channel: Option<Option<String>>,
    pub external_url: Option<Option<String>>,
    pub published_at: Option<Option<NaiveDateTime>>,
}

/// Moves a work if its version is still `expected_version` (bumping it); returns whether it did.
pub fn move_if_version(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    change: &StatusChange,
) -> QueryResult<bool> {
    let target = works::table
        .filter(works::id.eq(id))
        .filter(works::version.eq(expected_version))
        .filter(works::deleted_at.is_null());
    Ok(diesel::update(target).set((change, works::version.eq(works::version + 1))).execute(conn)? == 1)
}

/// Bumps a work's version without other changes (a first sign-off), if still `expected_version`.
pub fn touch_if_version(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let target = works::table.filter(works::id.eq(id)).filter(works::version.eq(expected_version));
    Ok(diesel::update(target).set((works::version.eq(works::version + 1), works::updated_at.eq(now))).execute(conn)?
        == 1)
}

/// Records a step.
pub fn insert_transition(conn: &mut DbConnection, row: &TransitionRow) -> QueryResult<()> {
    diesel::insert_into(transitions::table).values(row).execute(conn).map(drop)
}

/// Steps taken between two times, oldest first (for statistics).
pub fn transitions_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<TransitionRow>> {
    transitions::table
        .filter(transitions::created_at.ge(from))
        .filter(transitions::created_at.le(to))
        .order(transitions::created_at.asc())
        .select(TransitionRow::as_select())
        .load(conn)
}

/// Every submit step of these works, oldest first.
pub fn submissions_of(conn: &mut DbConnection, work_ids: &[String]) -> QueryResult<Vec<TransitionRow>> {
    transitions::table
        .filter(transitions::work_id.eq_any(work_ids))
        .filter(transitions::action.eq("submit"))
        .order(transitions::created_at.asc())
        .select(TransitionRow::as_select())
        .load(conn)
}

/// Reviewers who signed off a work's current round.
pub fn signoffs_of(conn: &mut DbConnection, work_id: &str, round: i32) -> QueryResult<Vec<UserId>> {
    signoffs::table
        .filter(signoffs::work_id.eq(work_id))
        .filter(signoffs::review_round.eq(round))
        .order(signoffs::created_at.asc())
        .select(signoffs::reviewer_id)
        .load(conn)
}

/// Records a first-level sign-off.
pub fn insert_signoff(
    conn: &mut DbConnection,
    work_id: &str,
    round: i32,
    reviewer_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(signoffs::table)
        .values((
            signoffs::work_id.eq(work_id),
            signoffs::review_round.eq(round),
            signoffs::reviewer_id.eq(reviewer_id),
            signoffs::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// A first-level approval: who signed which round of which work off.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Signoff {
    pub work_id: WorkId,
    pub reviewer_id: UserId,
    pub round: i32,
}

/// All sign-offs of these works.
pub fn signoffs_for(conn: &mut DbConnection, work_ids: &[String]) -> QueryResult<Vec<Signoff>> {
    signoffs::table
        .filter(signoffs::work_id.eq_any(work_ids))
        .select((signoffs::work_id, signoffs::reviewer_id, signoffs::review_round))
        .load(conn)
}
