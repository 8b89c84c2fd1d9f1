//! The `users` and `user_roles` tables.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{user_roles, users};
use crate::domain::ids::UserId;
use crate::domain::user::Role;

/// A stored account.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub disabled: bool,
    pub failed_logins: i32,
    pub last_failed_login_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The insert form of an account.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUserRow<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub disabled: bool,
    pub failed_logins: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The update form of an account; `None` leaves a column alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub disabled: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Inserts an account with its roles.
pub fn insert(conn: &mut DbConnection, user: &NewUserRow<'_>, roles: &[Role]) -> QueryResult<()> {
    diesel::insert_into(users::table).values(user).execute(conn)?;
    replace_roles(conn, user.id, roles)
}

/// Replaces an account's roles.
pub fn replace_roles(conn: &mut DbConnection, user_id: &str, roles: &[Role]) -> QueryResult<()> {
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user_id))).execute(conn)?;
    for role in roles {
        diesel::insert_into(user_roles::table)
            .values((user_roles::user_id.eq(user_id), user_roles::role.eq(role)))
            .execute(conn)?;
    }
    Ok(())
}

/// Finds an account by its (lowercase) username.
pub fn find_by_username(conn: &mut DbConnection, username: &str) -> QueryResult<Option<UserRow>> {
    users::table.filter(users::username.eq(username)).select(UserRow::as_select()).first(conn).optional()
}

/// Finds an account by id.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<UserRow>> {
    users::table.find(id).select(UserRow::as_select()).first(conn).optional()
}

/// Whether any username is already taken.
pub fn username_exists(conn: &mut DbConnection, username: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.filter(users::username.eq(username)))).get_result(conn)
}

/// The roles of one account (a role the code does not know is an error).
pub fn roles_of(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<Role>> {
    user_roles::table
        .filter(user_roles::user_id.eq(user_id))
        .select(user_roles::role)
        .order(user_roles::role)
        .load(conn)
}

/// One role of one account.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct UserRole {
    pub user_id: UserId,
    pub role: Role,
}

/// The roles of several accounts.
pub fn roles_of_many(conn: &mut DbConnection, user_ids: &[String]) -> QueryResult<Vec<UserRole>> {
    user_roles::table
        .filter(user_roles::user_id.eq_any(user_ids))
        .select((user_roles::user_id, user_roles::role))
        .order((user_roles::user_id, user_roles::role))
        .load(conn)
}

/// Which of these account ids exist.
pub fn existing(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<UserId>> {
    users::table.filter(users::id.eq_any(ids)).select(users::id).load(conn)
}

/// One page of accounts, by username, and the total.
pub fn list(conn: &mut DbConnection, offset: i64, limit: i64) -> QueryResult<(Vec<UserRow>, i64)> {
    let total = users::table.count().get_result(conn)?;
    let rows =
        users::table.order(users::username).offset(offset).limit(limit).select(UserRow::as_select()).load(conn)?;
    Ok((rows, total))
}

/// Number of accounts (zero on a fresh install).
pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// Applies changes to one account; returns whether it existed.
pub fn update(conn: &mut DbConnection, id: &str, changes: &UserChanges) -> QueryResult<bool> {
    Ok(diesel::update(users::table.find(id)).set(changes).execute(conn)? == 1)
}

/// Counts a failed login and stamps when it happened.
pub fn record_failed_login(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::failed_logins.eq(users::failed_logins + 1), users::last_failed_login_at.eq(Some(now))))
        .execute(conn)
        .map(drop)
}

/// Starts a new failure window with one failure (the previous window had expired).
pub fn restart_failed_logins(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::failed_logins.eq(1), users::last_failed_login_at.eq(Some(now))))
        .execute(conn)
        .map(drop)
}

/// Clears the failure count after a successful login.
pub fn reset_failed_logins(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::failed_logins.eq(0), users::last_failed_login_at.eq(None::<NaiveDateTime>)))
        .execute(conn)
        .map(drop)
}

/// `(id, display_name)` of several accounts.
pub fn display_names(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    users::table.filter(users::id.eq_any(ids)).select((users::id, users::display_name)).load(conn)
}
