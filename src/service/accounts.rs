//! Accounts: the admin's user management, the first admin, and password recovery (sessions
//! are in [`super::sessions`]).

use chrono::{DateTime, Utc};

use super::auth::{self, AuthUser};
use super::session_cache::SessionCache;
use crate::clock::now;
use crate::db::DbError;
use crate::db::users::{NewUserRow, UserChanges, UserRow};
use crate::db::{Db, sessions, users};
use crate::domain::FieldError;
use crate::domain::ids::UserId;
use crate::domain::page::Page;
use crate::domain::user::{self, NewUser, NewUserInput, Role, UserUpdate, Username};

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
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// Failed logins in a row, and the last one (a lockout follows from the login policy).
    pub failed_logins: i32,
    pub last_failed_login_at: Option<DateTime<Utc>>,
}

impl UserView {
    pub(crate) fn from_row(row: UserRow, roles: Vec<Role>) -> Self {
        Self {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            roles,
            disabled: row.disabled,
            created_at: row.created_at.and_utc(),
            failed_logins: row.failed_logins,
            last_failed_login_at: row.last_failed_login_at.map(|time| time.and_utc()),
        }
    }
}

/// Hashes a new password on a blocking thread (argon2 takes tens of milliseconds of CPU).
async fn hash_off_executor(password: String) -> Result<String, AccountError> {
    super::off_executor(move || Ok(auth::hash_password(&password))).await
}

/// Creates an account (admin only over the API; the CLI calls it directly).
pub async fn create_user(db: &Db, actor: Option<&AuthUser>, account: NewUser) -> Result<UserView, AccountError> {
    // `None` is the operator at the console (`microcat user add`); any signed-in caller must be an admin.
    if let Some(caller) = actor {
        ensure_admin_caller(caller)?;
    }
    let actor = actor.cloned();
    let NewUser { username, password, display_name, roles } = account;
    let password_hash = hash_off_executor(password).await?;
    let id = UserId::generate();
    let stamp = now();
    let view_id = id.clone();
    let name = username.as_str().to_owned();

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
        users::insert(conn, &row, &roles)?;
        let role_names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
        let details = serde_json::json!({"username": name, "roles": role_names});
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
            Ok(Some(UserView::from_row(row, roles)))
        })
        .await?;
    found.ok_or_else(|| AccountError::UserNotFound)
}

/// A page of accounts and the total.
pub async fn list_users(db: &Db, page: Page) -> Result<(Vec<UserView>, i64), AccountError> {
    let listed = db
        .read(move |conn| -> diesel::QueryResult<_> {
            let (rows, total) = users::list(conn, page.offset(), page.per_page)?;
            let ids: Vec<String> = rows.iter().map(|row| row.id.to_string()).collect();
            let pairs = users::roles_of_many(conn, &ids)?;
            let views = rows
                .into_iter()
                .map(|row| {
                    let roles = pairs.iter().filter(|held| held.user_id == row.id).map(|held| held.role).collect();
                    UserView::from_row(row, roles)
                })
                .collect();
            Ok((views, total))
        })
        .await?;
    Ok(listed)
}

/// Changes an account. Disabling it or changing its password revokes its sessions; an admin
/// cannot remove their own admin role or disable themselves (so one admin always remains).
pub async fn update_user(
    db: &Db,
    cache: &SessionCache,
    actor: &AuthUser,
    id: &str,
    update: UserUpdate,
) -> Result<UserView, AccountError> {
    ensure_admin_caller(actor)?;
    cache.forget_user(id);
    let UserUpdate { display_name, password, roles, disabled, unlock } = update;
    if actor.id.as_str() == id {
        refuse_self_lockout(roles.as_deref(), disabled)?;
    }
    let password_hash = match password {
        Some(password) => Some(hash_off_executor(password).await?),
        None => None,
    };
    let revoke = disabled == Some(true) || password_hash.is_some();
    let changes = UserChanges { display_name, password_hash, disabled, updated_at: Some(now()) };
    let target = id.to_owned();
    let caller = actor.clone();
    let password_changed = changes.password_hash.is_some();
    // A new password set by an admin is the usual way out of a lockout: it unlocks too.
    let unlock = unlock || password_changed;
    db.write(move |conn| {
        let roles_before: Vec<&str> = users::roles_of(conn, &target)?.into_iter().map(Role::as_str).collect();
        if !users::update(conn, &target, &changes)? {
            return Err(AccountError::UserNotFound);
        }
        if unlock {
            users::reset_failed_logins(conn, &target)?;
        }
        let mut details = serde_json::json!({"display_name": changes.display_name, "disabled": changes.disabled, "password_changed": password_changed, "unlocked": unlock});
        if let Some(roles) = &roles {
            let after: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
            details["roles"] = serde_json::json!({"before": roles_before, "after": after});
        }
        super::audit::record(conn, Some(&caller), "user.updated", ("user", &target), details, now())?;
        if let Some(roles) = &roles {
            users::replace_roles(conn, &target, roles)?;
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
    create_user(db, None, NewUser::parse(input)?).await?;
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

/// An enabled account as the caller of a command run on the server (`--as USERNAME`): what it
/// does is audited under that account, with its roles.
pub fn console_caller(db: &Db, username: &str) -> Result<AuthUser, AccountError> {
    let mut conn = db.connection()?;
    let row = crate::db::users::find_by_username(&mut conn, username)?.ok_or(AccountError::UserNotFound)?;
    if row.disabled {
        return Err(AccountError::AccountDisabled);
    }
    let roles = crate::db::users::roles_of(&mut conn, &row.id)?;
    Ok(AuthUser {
        id: row.id,
        username: row.username,
        display_name: row.display_name,
        roles,
        csrf_token: String::new(),
        token_hash: String::new(),
        credential: super::auth::Credential::Console,
        client_addr: Some("console".to_owned()),
    })
}
