//! The `sessions` table: login tokens, stored only as SHA-256 hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{sessions, users};
use super::users::UserRow;

/// A stored session.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Stores a new session.
pub fn insert(conn: &mut DbConnection, session: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table).values(session).execute(conn).map(drop)
}

/// The session with this token hash and its account, if any.
pub fn find_with_user(conn: &mut DbConnection, token_hash: &str) -> QueryResult<Option<(SessionRow, UserRow)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .select((SessionRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()
}

/// Revokes one session.
pub fn delete(conn: &mut DbConnection, token_hash: &str) -> QueryResult<()> {
    diesel::delete(sessions::table.find(token_hash)).execute(conn).map(drop)
}

/// Revokes every session of an account (on disable or password change).
pub fn delete_for_user(conn: &mut DbConnection, user_id: &str) -> QueryResult<()> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn).map(drop)
}

/// Removes sessions that expired before `now`.
pub fn delete_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.lt(now))).execute(conn)
}
