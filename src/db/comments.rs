//! The `comments` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::comments;
use super::types::Json;
use crate::domain::frames::Drawing;
use crate::domain::ids::{MediaId, UserId, WorkId};

/// A comment on a work, optionally pinned to a moment of a film cut.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    pub id: String,
    pub work_id: WorkId,
    pub author_id: UserId,
    pub body: String,
    /// The film cut the comment is about, with `timecode_ms` the moment in it.
    pub media_id: Option<MediaId>,
    pub timecode_ms: Option<i64>,
    pub reply_to: Option<String>,
    pub created_at: NaiveDateTime,
    /// The frame of the cut shown at `timecode_ms`, when the cut's frame rate is known.
    pub frame: Option<i64>,
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<NaiveDateTime>,
    /// Shapes drawn on the frame (`domain::frames::Drawing`).
    pub drawing: Option<Json<Drawing>>,
}

/// Stores a comment.
pub fn insert(conn: &mut DbConnection, row: &CommentRow) -> QueryResult<()> {
    diesel::insert_into(comments::table).values(row).execute(conn).map(drop)
}

/// A work's comments, oldest first.
pub fn for_work(conn: &mut DbConnection, work_id: &str) -> QueryResult<Vec<CommentRow>> {
    comments::table
        .filter(comments::work_id.eq(work_id))
        .order((comments::created_at.asc(), comments::id.asc()))
        .select(CommentRow::as_select())
        .load(conn)
}

/// `(work, resolved)` of every review note (a top-level comment pinned to a cut) of several works.
pub fn notes_of(conn: &mut DbConnection, work_ids: &[String]) -> QueryResult<Vec<(WorkId, bool)>> {
    let rows: Vec<(WorkId, Option<NaiveDateTime>)> = comments::table
        .filter(comments::work_id.eq_any(work_ids))
        .filter(comments::media_id.is_not_null())
        .filter(comments::reply_to.is_null())
        .select((comments::work_id, comments::resolved_at))
        .load(conn)?;
    Ok(rows.into_iter().map(|(work, resolved)| (work, resolved.is_some())).collect())
}

/// One comment.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<CommentRow>> {
    comments::table.find(id).select(CommentRow::as_select()).first(conn).optional()
}

/// Marks a comment resolved by `by` at `at`, or (with `None`) open again.
pub fn set_resolved(conn: &mut DbConnection, id: &str, resolved: Option<(&UserId, NaiveDateTime)>) -> QueryResult<()> {
    let (by, at) = resolved.map_or((None, None), |(by, at)| (Some(by), Some(at)));
    diesel::update(comments::table.find(id))
        .set((comments::resolved_by.eq(by), comments::resolved_at.eq(at)))
        .execute(conn)
        .map(drop)
}

/// Whether a comment exists on this work (for replies).
pub fn exists_on(conn: &mut DbConnection, work_id: &str, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        comments::table.filter(comments::id.eq(id)).filter(comments::work_id.eq(work_id)),
    ))
    .get_result(conn)
}
