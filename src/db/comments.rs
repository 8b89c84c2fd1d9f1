//! The `comments` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::comments;
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

/// Whether a comment exists on this work (for replies).
pub fn exists_on(conn: &mut DbConnection, work_id: &str, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        comments::table.filter(comments::id.eq(id)).filter(comments::work_id.eq(work_id)),
    ))
    .get_result(conn)
}
