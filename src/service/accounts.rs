//! Accounts: login and logout, resolving a token to its user, throttling failed logins, and
//! the admin's user management.

use chrono::{DateTime, Duration, Utc};

use super::auth::{self, AuthUser, Credential};
use super::session_cache::SessionCache;
use crate::clock::now;
use crate::config::Settings;
use crate::db::DbError;
use crate::db::users::{NewUserRow, UserChanges, UserRow};
use crate::db::{Db, DbConnection, sessions, users};
use crate::domain::FieldError;
use crate::domain::ids::UserId;
use crate::domain::page::Page;
use crate::domain::user::{self, Role, Username};

/// Why a login, a session check or an account change was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Wrong username or password.
    #[error("username or password is incorrect")]
    InvalidCredentials,
    /// The account is disabled.
    #[error("this account is disabled")]
    AccountDisabled,
    /// Too many failed logins.
    #[error("too many failed logins for this user: try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The presented session is unknown, expired or revoked.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// No such account.
    #[error("no such user")]
    UserNotFound,
    /// The username belongs to another account.
    #[error("that username is already taken")]
    UsernameTaken,
    /// Accounts are managed by admins only.
    #[error("this action needs the admin role")]
    AdminRequired,
    /// An input field was refused.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// Password hashing on its blocking thread failed.
    #[error("password task")]
    Task(#[from] tokio::task::JoinError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(AccountError);

/// An account as shown to clients (never the password hash).
#[derive(Debug, Clone)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl UserView {
    fn from_row(row: UserRow, role_names: &[String]) -> Self {
        let roles = role_names.iter().filter_map(|name| Role::parse(name)).collect();
        Self {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            roles,
            disabled: row.disabled,
            created_at: row.created_at.and_utc(),
        }
    }
}

/// Login throttling and session lifetime, from settings.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    pub max_failures: i32,
    pub lockout: Duration,
    pub session_ttl: Duration,
}

impl LoginPolicy {
    /// The policy the settings describe.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            max_failures: settings.login_max_failures.max(1),
            lockout: Duration::minutes(settings.login_lockout_minutes.max(1)),
            session_ttl: Duration::minutes(settings.session_ttl_minutes.max(1)),
        }
    }

    /// Seconds left before a throttled user may try again; `None` when not throttled.
    pub fn throttled_for(&self, row: &UserRow, now: chrono::NaiveDateTime) -> Option<u64> {
        let last = row.last_failed_login_at?;
        let until = last + self.lockout;
        (row.failed_logins >= self.max_failures && until > now).then(|| (until - now).num_seconds().max(1) as u64)
    }
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct LoginGranted {
    pub user: UserView,
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Checks a username and password and opens a session.
pub async fn login(
    db: &Db,
    policy: LoginPolicy,
    username: &str,
    password: &str,
    client_addr: Option<String>,
) -> Result<LoginGranted, AccountError> {
    let Ok(name) = Username::parse(username) else {
        return Err(refuse_unknown_user(password.to_owned()).await);
    };
    let found = db.read(move |conn| load_user_with_roles(conn, name.as_str())).await?;
    let Some((row, role_names)) = found else {
        return Err(refuse_unknown_user(password.to_owned()).await);
    };
    if let Some(retry_after_secs) = policy.throttled_for(&row, now()) {
        return Err(AccountError::TooManyAttempts { retry_after_secs });
    }
    if !verify_off_executor(password.to_owned(), row.password_hash.clone()).await? {
        record_failure(db, policy, &row, client_addr).await?;
        return Err(AccountError::InvalidCredentials);
    }
    if row.disabled {
        return Err(AccountError::AccountDisabled);
    }
    open_session(db, policy, row, role_names).await
}

/// Spends the same time as a real check, then refuses.
async fn refuse_unknown_user(password: String) -> AccountError {
    match verify_off_executor(password, auth::decoy_hash().to_owned()).await {
        Ok(_) => AccountError::InvalidCredentials,
        Err(error) => error,
    }
}

async fn verify_off_executor(password: String, hash: String) -> Result<bool, AccountError> {
    Ok(tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash)).await?)
}

/// Hashes a new password on a blocking thread (argon2 takes tens of milliseconds of CPU).
async fn hash_off_executor(password: String) -> Result<String, AccountError> {
    Ok(tokio::task::spawn_blocking(move || auth::hash_password(&password)).await?)
}

fn load_user_with_roles(
    conn: &mut DbConnection,
    username: &str,
) -> diesel::QueryResult<Option<(UserRow, Vec<String>)>> {
    let Some(row) = users::find_by_username(conn, username)? else {
        return Ok(None);
    };
    let roles = users::roles_of(conn, &row.id)?;
    Ok(Some((row, roles)))
}

async fn record_failure(
    db: &Db,
    policy: LoginPolicy,
    row: &UserRow,
    client_addr: Option<String>,
) -> Result<(), AccountError> {
    let id = row.id.clone();
    let username = row.username.clone();
    let window_expired = row.last_failed_login_at.is_none_or(|last| last + policy.lockout <= now());
    tracing::warn!(user.id = %id, "failed login");
    db.write(move |conn| {
        let stamp = now();
        if window_expired {
            users::restart_failed_logins(conn, &id, stamp)?;
        } else {
            users::record_failed_login(conn, &id, stamp)?;
        }
        let details = serde_json::json!({"username": username, "user_id": id});
        super::audit::record_anonymous(conn, client_addr.as_deref(), "login.failed", details, stamp)
    })
    .await?;
    Ok(())
}

async fn open_session(
    db: &Db,
    policy: LoginPolicy,
    row: UserRow,
    role_names: Vec<String>,
) -> Result<LoginGranted, AccountError> {
    let token = format!("mct_{}", auth::random_secret(32));
    let created_at = now();
    let session = sessions::SessionRow {
        token_hash: auth::token_hash(&token),
        user_id: row.id.clone(),
        csrf_token: auth::random_secret(16),
        created_at,
        expires_at: created_at + policy.session_ttl,
    };
    let csrf_token = session.csrf_token.clone();
    let expires_at = session.expires_at.and_utc();
    db.write(move |conn| {
        users::reset_failed_logins(conn, &session.user_id)?;
        sessions::insert(conn, &session)
    })
    .await?;
    Ok(LoginGranted { user: UserView::from_row(row, &role_names), token, csrf_token, expires_at })
}

/// Resolves a presented token to its user; expired, revoked or disabled → 401.
pub async fn authenticate(
    db: &Db,
    cache: &SessionCache,
    token: &str,
    credential: Credential,
) -> Result<AuthUser, AccountError> {
    let token_hash = auth::token_hash(token);
    if let Some(mut user) = cache.get(&token_hash, now()) {
        user.credential = credential;
        return Ok(user);
    }
    let lookup_hash = token_hash.clone();
    let found = db
        .read(move |conn| -> diesel::QueryResult<_> {
            let Some((session, row)) = sessions::find_with_user(conn, &lookup_hash)? else {
                return Ok(None);
            };
            let roles = users::roles_of(conn, &row.id)?;
            Ok(Some((session, row, roles)))
        })
        .await?;
    let Some((session, row, role_names)) = found else {
        return Err(AccountError::Unauthenticated("session is unknown or was revoked: log in again"));
    };
    if session.expires_at <= now() {
        return Err(AccountError::Unauthenticated("session expired: log in again"));
    }
    if row.disabled {
        return Err(AccountError::Unauthenticated("this account is disabled"));
    }
    let user = AuthUser {
        id: UserId::from_db(row.id),
        username: row.username,
        display_name: row.display_name,
        roles: role_names.iter().filter_map(|name| Role::parse(name)).collect(),
        csrf_token: session.csrf_token,
        token_hash,
        credential,
        client_addr: None,
    };
    cache.put(&user, session.expires_at);
    Ok(user)
}

/// Revokes the caller's session.
pub async fn logout(db: &Db, cache: &SessionCache, user: &AuthUser) -> Result<(), AccountError> {
    cache.forget_token(&user.token_hash);
    let token_hash = user.token_hash.clone();
    db.write(move |conn| sessions::delete(conn, &token_hash)).await?;
    Ok(())
}

/// What an admin sends to create an account.
#[derive(Debug, Clone)]
pub struct NewUserInput {
    pub username: String,
    pub password: String,
    pub display_name: Option<String>,
    pub roles: Vec<String>,
}

/// Creates an account (admin only over the API; the CLI calls it directly).
pub async fn create_user(db: &Db, actor: Option<&AuthUser>, input: NewUserInput) -> Result<UserView, AccountError> {
    // `None` is the operator at the console (`microcat user add`); any signed-in caller must be an admin.
    if let Some(caller) = actor {
        ensure_admin_caller(caller)?;
    }
    let actor = actor.cloned();
    let username = Username::parse(&input.username)?;
    user::parse_new_password(&input.password)?;
    let roles = user::parse_roles(&input.roles)?;
    let display_name = match input.display_name.as_deref() {
        Some(name) if !name.trim().is_empty() => user::parse_display_name(name)?,
        _ => username.as_str().to_owned(),
    };
    let password_hash = hash_off_executor(input.password).await?;
    let id = UserId::generate();
    let stamp = now();
    let view_id = id.clone();
    let name = username.as_str().to_owned();
    let role_names: Vec<String> = roles.iter().map(|role| role.as_str().to_owned()).collect();
    let stored_roles = role_names.clone();
    db.write(move |conn| {
        if users::username_exists(conn, &name)? {
            return Err(AccountError::UsernameTaken);
        }
        let row = NewUserRow {
            id: id.as_str(),
            username: &name,
            display_name: &display_name,
            password_hash: &password_hash,
            disabled: false,
            failed_logins: 0,
            created_at: stamp,
            updated_at: stamp,
        };
        let role_refs: Vec<&str> = stored_roles.iter().map(String::as_str).collect();
        users::insert(conn, &row, &role_refs)?;
        let details = serde_json::json!({"username": name, "roles": stored_roles});
        super::audit::record(conn, actor.as_ref(), "user.created", ("user", id.as_str()), details, stamp)?;
        Ok(())
    })
    .await?;
    get_user(db, view_id.as_str()).await
}

/// One account by id.
pub async fn get_user(db: &Db, id: &str) -> Result<UserView, AccountError> {
    let id = id.to_owned();
    let found = db
        .read(move |conn| -> diesel::QueryResult<_> {
            let Some(row) = users::find(conn, &id)? else {
                return Ok(None);
            };
            let roles = users::roles_of(conn, &row.id)?;
            Ok(Some(UserView::from_row(row, &roles)))
        })
        .await?;
    found.ok_or_else(|| AccountError::UserNotFound)
}

/// A page of accounts and the total.
pub async fn list_users(db: &Db, page: Page) -> Result<(Vec<UserView>, i64), AccountError> {
    let listed = db
        .read(move |conn| -> diesel::QueryResult<_> {
            let (rows, total) = users::list(conn, page.offset(), page.per_page)?;
            let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
            let pairs = users::roles_of_many(conn, &ids)?;
            let views = rows
                .into_iter()
                .map(|row| {
                    let roles: Vec<String> =
                        pairs.iter().filter(|(user, _)| *user == row.id).map(|(_, role)| role.clone()).collect();
                    UserView::from_row(row, &roles)
                })
                .collect();
            Ok((views, total))
        })
        .await?;
    Ok(listed)
}

/// What an admin may change on an account.
#[derive(Debug, Clone, Default)]
pub struct UserUpdateInput {
    pub display_name: Option<String>,
    pub password: Option<String>,
    pub roles: Option<Vec<String>>,
    pub disabled: Option<bool>,
}

/// Changes an account. Disabling it or changing its password revokes its sessions; an admin
/// cannot remove their own admin role or disable themselves (so one admin always remains).
pub async fn update_user(
    db: &Db,
    cache: &SessionCache,
    actor: &AuthUser,
    id: &str,
    input: UserUpdateInput,
) -> Result<UserView, AccountError> {
    ensure_admin_caller(actor)?;
    cache.forget_user(id);
    let roles = input.roles.as_deref().map(user::parse_roles).transpose()?;
    let display_name = input.display_name.as_deref().map(user::parse_display_name).transpose()?;
    let password = input.password.as_deref().map(user::parse_new_password).transpose()?.map(str::to_owned);
    if actor.id.as_str() == id {
        refuse_self_lockout(roles.as_deref(), input.disabled)?;
    }
    let password_hash = match password {
        Some(password) => Some(hash_off_executor(password).await?),
        None => None,
    };
    let revoke = input.disabled == Some(true) || password_hash.is_some();
    let changes = UserChanges { display_name, password_hash, disabled: input.disabled, updated_at: Some(now()) };
    let target = id.to_owned();
    let caller = actor.clone();
    let password_changed = changes.password_hash.is_some();
    db.write(move |conn| {
        let roles_before = users::roles_of(conn, &target)?;
        if !users::update(conn, &target, &changes)? {
            return Err(AccountError::UserNotFound);
        }
        let mut details = serde_json::json!({"display_name": changes.display_name, "disabled": changes.disabled, "password_changed": password_changed});
        if let Some(roles) = &roles {
            let after: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
            details["roles"] = serde_json::json!({"before": roles_before, "after": after});
        }
        super::audit::record(conn, Some(&caller), "user.updated", ("user", &target), details, now())?;
        if let Some(roles) = &roles {
            let names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
            users::replace_roles(conn, &target, &names)?;
        }
        if revoke {
            sessions::delete_for_user(conn, &target)?;
        }
        Ok(())
    })
    .await?;
    // Again after the commit: a request between the first eviction and the commit may have
    // cached the account as it was.
    cache.forget_user(id);
    get_user(db, id).await
}

/// Accounts are managed by admins only, whichever page or route asks.
fn ensure_admin_caller(caller: &AuthUser) -> Result<(), AccountError> {
    if caller.is_admin() { Ok(()) } else { Err(AccountError::AdminRequired) }
}

fn refuse_self_lockout(roles: Option<&[Role]>, disabled: Option<bool>) -> Result<(), AccountError> {
    if disabled == Some(true) {
        return Err(FieldError::invalid("disabled", "cannot be set on your own account").into());
    }
    if roles.is_some_and(|roles| !roles.contains(&Role::Admin)) {
        return Err(FieldError::invalid("roles", "must keep admin on your own account").into());
    }
    Ok(())
}

/// On a fresh install, creates `admin` with the configured password, or a generated one that
/// is returned so the caller can print it once.
pub async fn ensure_admin(db: &Db, configured_password: Option<&str>) -> Result<Option<String>, AccountError> {
    if db.read(users::count).await? > 0 {
        return Ok(None);
    }
    let generated = configured_password.is_none().then(auth::generate_password);
    let password = configured_password.map(str::to_owned).or_else(|| generated.clone()).unwrap_or_default();
    let input = NewUserInput {
        username: "admin".into(),
        password,
        display_name: Some("管理员".into()),
        roles: vec!["admin".into()],
    };
    create_user(db, None, input).await?;
    Ok(generated)
}

/// Sets a password by username (the CLI's recovery path); revokes sessions and clears the
/// failed-login count.
pub async fn set_password(db: &Db, username: &str, password: &str) -> Result<(), AccountError> {
    let name = Username::parse(username)?;
    let password = user::parse_new_password(password)?.to_owned();
    let password_hash = hash_off_executor(password).await?;
    db.write(move |conn| {
        let row = users::find_by_username(conn, name.as_str())?.ok_or(AccountError::UserNotFound)?;
        let changes =
            UserChanges { password_hash: Some(password_hash), updated_at: Some(now()), ..UserChanges::default() };
        users::update(conn, &row.id, &changes)?;
        users::reset_failed_logins(conn, &row.id)?;
        sessions::delete_for_user(conn, &row.id)?;
        Ok(())
    })
    .await
}

/// Display names of accounts by id (unknown ids are absent).
pub async fn display_names(db: &Db, ids: Vec<UserId>) -> Result<std::collections::HashMap<UserId, String>, DbError> {
    let ids: Vec<String> = ids.into_iter().map(UserId::into_string).collect();
    let pairs = db.read(move |conn| users::display_names(conn, &ids)).await?;
    Ok(pairs.into_iter().map(|(id, name)| (UserId::from_db(id), name)).collect())
}
