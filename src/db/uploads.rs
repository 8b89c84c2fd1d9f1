//! The `uploads` table: resumable (tus) uploads in progress — who, for which work and role,
//! how long, how much has arrived, and the stored pieces holding it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::uploads;
use super::types::Json;

/// One resumable upload.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = uploads)]
pub struct UploadRow {
    pub id: String,
    pub user_id: String,
    pub work_id: String,
    pub role: String,
    pub filename: Option<String>,
    pub length: i64,
    pub upload_offset: i64,
    /// The stored pieces, in order.
    pub pieces: Json<Vec<Piece>>,
    /// The medium it became, once complete.
    pub media_id: Option<String>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One stored piece of an upload: `length` bytes from `offset`, stored under `name`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Piece {
    pub offset: i64,
    pub length: i64,
    pub name: crate::storage::PieceName,
}

pub fn insert(conn: &mut DbConnection, row: &UploadRow) -> QueryResult<()> {
    diesel::insert_into(uploads::table).values(row).execute(conn).map(drop)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<UploadRow>> {
    uploads::table.find(id).select(UploadRow::as_select()).first(conn).optional()
}

/// Moves the offset from `from` to `to`, recording a piece starting at `from`; false when the
/// offset was no longer `from` (another request appended first).
pub fn advance(
    conn: &mut DbConnection,
    id: &str,
    from: i64,
    to: i64,
    pieces: &Json<Vec<Piece>>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let moved = diesel::update(uploads::table.find(id).filter(uploads::upload_offset.eq(from)))
        .set((uploads::upload_offset.eq(to), uploads::pieces.eq(pieces), uploads::updated_at.eq(now)))
        .execute(conn)?;
    Ok(moved == 1)
}

/// Records the medium a complete upload became.
pub fn complete(conn: &mut DbConnection, id: &str, media_id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(uploads::table.find(id))
        .set((uploads::media_id.eq(Some(media_id)), uploads::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

pub fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(uploads::table.find(id)).execute(conn)? == 1)
}

/// Uploads past their expiry.
pub fn expired(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<UploadRow>> {
    uploads::table
        .filter(uploads::expires_at.lt(now))
        .order(uploads::expires_at.asc())
        .limit(limit)
        .select(UploadRow::as_select())
        .load(conn)
}
