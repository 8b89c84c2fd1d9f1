//! Sessions: login (with throttling of failed attempts), logout, and resolving a presented
//! token to its user.

use chrono::{DateTime, Duration, Utc};

use super::accounts::{AccountError, UserView};
use super::auth::{self, AuthUser, Credential};
use super::off_executor;
use super::session_cache::SessionCache;
use crate::clock::now;
use crate::config::Settings;
use crate::db::users::UserRow;
use crate::db::{Db, DbConnection, sessions, users};
use crate::domain::user::{Role, Username};

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
            max_failures: settings.login_max_failures,
            lockout: Duration::minutes(settings.login_lockout_minutes),
            session_ttl: Duration::minutes(settings.session_ttl_minutes),
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
    let Some((row, roles)) = found else {
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
    open_session(db, policy, row, roles).await
}

/// Spends the same time as a real check, then refuses.
async fn refuse_unknown_user(password: String) -> AccountError {
    match verify_off_executor(password, auth::decoy_hash().to_owned()).await {
        Ok(_) => AccountError::InvalidCredentials,
        Err(error) => error,
    }
}

async fn verify_off_executor(password: String, hash: String) -> Result<bool, AccountError> {
    off_executor(move || Ok(auth::verify_password(&password, &hash))).await
}

fn load_user_with_roles(conn: &mut DbConnection, username: &str) -> diesel::QueryResult<Option<(UserRow, Vec<Role>)>> {
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
    roles: Vec<Role>,
) -> Result<LoginGranted, AccountError> {
    let token = format!("mct_{}", auth::random_secret(32));
    let created_at = now();
    let session = sessions::SessionRow {
        token_hash: auth::token_hash(&token),
        user_id: row.id.to_string(),
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
    Ok(LoginGranted { user: UserView::from_row(row, roles), token, csrf_token, expires_at })
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
    let Some((session, row, roles)) = found else {
        return Err(AccountError::Unauthenticated("session is unknown or was revoked: log in again"));
    };
    if session.expires_at <= now() {
        return Err(AccountError::Unauthenticated("session expired: log in again"));
    }
    if row.disabled {
        return Err(AccountError::Unauthenticated("this account is disabled"));
    }
    let user = AuthUser {
        id: row.id,
        username: row.username,
        display_name: row.display_name,
        roles,
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
