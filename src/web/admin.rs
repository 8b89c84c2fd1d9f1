//! `/admin/users`: accounts and their roles (admins only).

use crate::domain::archive::ArchiveFormat;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::forms;
use super::page::{self, Chrome, PageQuery, PageResult, SignedForm, Viewer};
use crate::domain::page::Page;
use crate::domain::user::Role;
use crate::domain::user::{NewUser, NewUserInput, UserUpdate, UserUpdateInput};
use crate::error::ApiError;
use crate::service::accounts;
use crate::state::AppState;

const ROLES: [Role; 4] = [Role::Contributor, Role::Reviewer, Role::Staff, Role::Admin];

struct RoleBox {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

struct UserRow {
    id: String,
    username: String,
    display_name: String,
    roles: Vec<RoleBox>,
    disabled: bool,
    created: String,
    /// Until when failed logins lock the account out (Beijing time), if they do.
    locked_until: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    new_roles: Vec<RoleBox>,
    error: Option<String>,
}

pub(super) fn require_admin(viewer: &Viewer) -> Result<(), ApiError> {
    if viewer.user.is_admin() { Ok(()) } else { Err(ApiError::role_required("admin")) }
}

async fn users_page(app: &AppState, viewer: &Viewer, notice: Option<&str>, error: Option<String>) -> PageResult {
    let (users, _) = accounts::list_users(&app.db, Page { page: 1, per_page: 1_000 }).await?;
    let lang = viewer.lang;
    let boxes = |held: &[Role]| {
        ROLES
            .iter()
            .map(|role| RoleBox { value: role.as_str(), label: lang.role(*role), checked: held.contains(role) })
            .collect()
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = UsersPage {
        chrome: viewer.chrome("admin", notice),
        users: users
            .into_iter()
            .map(|user| UserRow {
                locked_until: locked_until(app, &user).map(forms::show_time),
                roles: boxes(&user.roles),
                created: forms::show_time(user.created_at),
                id: user.id.into_string(),
                username: user.username,
                display_name: user.display_name,
                disabled: user.disabled,
            })
            .collect(),
        new_roles: boxes(&[Role::Contributor]),
        error,
    };
    page::render_with_status(status, &page)
}

/// When the account's lockout ends, if failed logins locked it.
fn locked_until(app: &AppState, user: &accounts::UserView) -> Option<chrono::DateTime<chrono::Utc>> {
    let policy = app.login_policy;
    let until = user.last_failed_login_at? + policy.lockout;
    (user.failed_logins >= policy.max_failures && until > chrono::Utc::now()).then_some(until)
}

/// The confirmation to show after a redirect.
#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// `GET /admin/users`.
pub async fn get_users(app: web::Data<AppState>, viewer: Viewer, done: PageQuery<Done>) -> PageResult {
    require_admin(&viewer)?;
    users_page(&app, &viewer, done.done.as_deref(), None).await
}

fn refusal(viewer: &Viewer, error: &ApiError) -> String {
    super::error_text::refusal(viewer.lang, error)
}

/// `POST /admin/users`: creates an account.
pub async fn post_user(app: web::Data<AppState>, signed: SignedForm) -> PageResult {
    let SignedForm { viewer, form } = signed;
    require_admin(&viewer)?;
    let input = NewUserInput {
        username: form.text("username"),
        password: form.text("password"),
        display_name: form.optional("display_name"),
        roles: form.all("roles"),
    };
    let created = match NewUser::parse(input) {
        Ok(account) => accounts::create_user(&app.db, Some(&viewer.user), account).await.map_err(ApiError::from),
        Err(refused) => Err(refused.into()),
    };
    match created {
        Ok(_) => Ok(page::redirect("/admin/users?done=user-created")),
        Err(ApiError::Internal(detail)) => Err(ApiError::Internal(detail).into()),
        Err(error) => users_page(&app, &viewer, None, Some(refusal(&viewer, &error))).await,
    }
}

/// `POST /admin/users/{id}`: roles and the disabled flag (and a new password if typed).
pub async fn post_user_update(app: web::Data<AppState>, signed: SignedForm, path: web::Path<String>) -> PageResult {
    let SignedForm { viewer, form } = signed;
    require_admin(&viewer)?;
    let input = UserUpdateInput {
        display_name: form.optional("display_name"),
        password: form.optional("password"),
        roles: Some(form.all("roles")),
        disabled: Some(form.get("disabled").is_some()),
        unlock: Some(form.get("unlock").is_some()),
    };
    let updated = match UserUpdate::parse(input) {
        Ok(update) => accounts::update_user(&app.db, &app.sessions, &viewer.user, &path, update).await,
        Err(refused) => Err(refused.into()),
    };
    match updated.map_err(ApiError::from) {
        Ok(_) => Ok(page::redirect("/admin/users?done=user-updated")),
        Err(ApiError::Internal(detail)) => Err(ApiError::Internal(detail).into()),
        Err(error) => users_page(&app, &viewer, None, Some(refusal(&viewer, &error))).await,
    }
}

#[derive(Template)]
#[template(path = "admin_import.html")]
struct ImportPage {
    chrome: Chrome,
    formats: Vec<&'static str>,
}

/// `GET /admin/import`: upload exports, see the dry run, confirm, follow the import (the
/// page drives `/api/v1/imports`).
pub async fn get_import(viewer: Viewer) -> PageResult {
    require_admin(&viewer)?;
    let page = ImportPage {
        chrome: viewer.chrome("import", None),
        formats: ArchiveFormat::ALL.iter().map(|format| format.as_str()).collect(),
    };
    page::render(&page)
}
