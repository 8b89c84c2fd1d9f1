//! The `notifications` and `notification_mutes` tables: each person's inbox, and the kinds of
//! notice they turned off.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{notification_mutes, notifications, user_roles, users};
use crate::domain::ids::UserId;
use crate::domain::user::Role;

/// One notice to one person.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub user_id: UserId,
    /// `domain::notice::Event` spelling.
    pub event: String,
    pub work_id: Option<String>,
    pub actor_id: Option<String>,
    pub text: String,
    pub read_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub dedupe_key: Option<String>,
}

/// Stores notices; one whose `dedupe_key` is already there is skipped. Returns how many
/// were stored.
pub fn insert(conn: &mut DbConnection, rows: &[NotificationRow]) -> QueryResult<usize> {
    let mut stored = 0;
    for row in rows {
        if let Some(key) = &row.dedupe_key {
            let known: i64 = notifications::table.filter(notifications::dedupe_key.eq(key)).count().get_result(conn)?;
            if known > 0 {
                continue;
            }
        }
        stored += diesel::insert_into(notifications::table).values(row).execute(conn)?;
    }
    Ok(stored)
}

/// A page of a person's inbox, newest first (only unread ones if asked).
pub fn inbox(
    conn: &mut DbConnection,
    user_id: &str,
    unread_only: bool,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    let mut query = notifications::table.filter(notifications::user_id.eq(user_id)).into_boxed::<super::MultiBackend>();
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    query
        .order((notifications::created_at.desc(), notifications::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(NotificationRow::as_select())
        .load(conn)
}

/// Marks one of the person's notices read; the work it is about, if it is theirs.
pub fn open(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Option<String>>> {
    let mine = notifications::table.filter(notifications::user_id.eq(user_id)).filter(notifications::id.eq(id));
    let work = mine.select(notifications::work_id).first::<Option<String>>(conn).optional()?;
    if work.is_some() {
        diesel::update(mine.filter(notifications::read_at.is_null()))
            .set(notifications::read_at.eq(Some(now)))
            .execute(conn)?;
    }
    Ok(work)
}

/// How many notices the person has not read.
pub fn unread_count(conn: &mut DbConnection, user_id: &str) -> QueryResult<i64> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
}

/// Marks the person's notices read: those named, or all of them.
pub fn mark_read(
    conn: &mut DbConnection,
    user_id: &str,
    ids: Option<&[String]>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mine = notifications::table.filter(notifications::user_id.eq(user_id)).filter(notifications::read_at.is_null());
    match ids {
        Some(ids) => diesel::update(mine.filter(notifications::id.eq_any(ids)))
            .set(notifications::read_at.eq(Some(now)))
            .execute(conn),
        None => diesel::update(mine).set(notifications::read_at.eq(Some(now))).execute(conn),
    }
}

/// The kinds of notice the person turned off.
pub fn mutes_of(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<String>> {
    notification_mutes::table
        .filter(notification_mutes::user_id.eq(user_id))
        .select(notification_mutes::event)
        .load(conn)
}

/// Of `user_ids`, those who turned `event` off.
pub fn muting(conn: &mut DbConnection, event: &str, user_ids: &[String]) -> QueryResult<Vec<String>> {
    notification_mutes::table
        .filter(notification_mutes::event.eq(event))
        .filter(notification_mutes::user_id.eq_any(user_ids))
        .select(notification_mutes::user_id)
        .load(conn)
}

/// Replaces the person's muted kinds.
pub fn set_mutes(conn: &mut DbConnection, user_id: &str, events: &[&str]) -> QueryResult<()> {
    diesel::delete(notification_mutes::table.filter(notification_mutes::user_id.eq(user_id))).execute(conn)?;
    for event in events {
        diesel::insert_into(notification_mutes::table)
            .values((notification_mutes::user_id.eq(user_id), notification_mutes::event.eq(*event)))
            .execute(conn)?;
    }
    Ok(())
}

/// Active accounts holding a role (who a new submission waits for).
pub fn active_with_role(conn: &mut DbConnection, role: Role) -> QueryResult<Vec<String>> {
    user_roles::table
        .inner_join(users::table)
        .filter(user_roles::role.eq(role))
        .filter(users::disabled.eq(false))
        .select(users::id)
        .load(conn)
}

/// Active accounts by username (mentions).
pub fn active_by_username(conn: &mut DbConnection, usernames: &[String]) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::username.eq_any(usernames))
        .filter(users::disabled.eq(false))
        .select(users::id)
        .load(conn)
}
