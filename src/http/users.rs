//! Account administration (admins), and reading one's own account.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{self, AdminUser, ApiJson, ApiQuery, CurrentUser};
use super::works::PageQuery;
use crate::domain::page::Page;
use crate::domain::user::Role;
use crate::domain::user::{NewUser, NewUserInput, UserUpdate, UserUpdateInput};
use crate::error::ApiError;
use crate::service::accounts::{self, UserView};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserResponse {
    id: String,
    username: String,
    display_name: String,
    roles: Vec<Role>,
    disabled: bool,
    created_at: DateTime<Utc>,
    /// Failed logins in a row (the login policy locks the account after enough of them).
    failed_logins: i32,
    last_failed_login_at: Option<DateTime<Utc>>,
}

impl From<UserView> for UserResponse {
    fn from(view: UserView) -> Self {
        Self {
            id: view.id.into_string(),
            username: view.username,
            display_name: view.display_name,
            roles: view.roles,
            disabled: view.disabled,
            created_at: view.created_at,
            failed_logins: view.failed_logins,
            last_failed_login_at: view.last_failed_login_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserListResponse {
    items: Vec<UserResponse>,
    total: i64,
    page: i64,
    per_page: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    username: String,
    password: String,
    display_name: Option<String>,
    /// Any of `contributor`, `reviewer`, `staff`, `admin`.
    roles: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    display_name: Option<String>,
    password: Option<String>,
    roles: Option<Vec<String>>,
    disabled: Option<bool>,
    /// `true` ends a lockout at once (a new password does too).
    unlock: Option<bool>,
}

/// Creates an account (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = UserResponse), (status = 403), (status = 409), (status = 422)))]
pub async fn create_user(
    app: web::Data<AppState>,
    admin: AdminUser,
    body: ApiJson<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner()?;
    let input = NewUserInput {
        username: request.username,
        password: request.password,
        display_name: request.display_name,
        roles: request.roles,
    };
    let created = accounts::create_user(&app.db, Some(&admin.0), NewUser::parse(input)?).await?;
    Ok(HttpResponse::Created().json(UserResponse::from(created)))
}

/// Lists accounts by username (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageQuery),
    responses((status = 200, body = UserListResponse), (status = 403)))]
pub async fn list_users(
    app: web::Data<AppState>,
    _admin: AdminUser,
    query: ApiQuery<PageQuery>,
) -> Result<web::Json<UserListResponse>, ApiError> {
    let page =
        Page::parse(query.0.page, query.0.per_page).map_err(|error| ApiError::query(&error.field, error.message))?;
    let (views, total) = accounts::list_users(&app.db, page).await?;
    let items = views.into_iter().map(UserResponse::from).collect();
    Ok(web::Json(UserListResponse { items, total, page: page.page, per_page: page.per_page }))
}

/// One account (admin, or the account's owner).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", responses((status = 200, body = UserResponse), (status = 403), (status = 404)))]
pub async fn get_user(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<UserResponse>, ApiError> {
    let id = extractors::user_id(&path)?;
    if user.0.id != id && !user.0.is_admin() {
        return Err(ApiError::role_required("admin"));
    }
    Ok(web::Json(UserResponse::from(accounts::get_user(&app.db, id.as_str()).await?)))
}

/// Changes an account's name, password, roles or disabled flag (admin).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UpdateUserRequest,
    responses((status = 200, body = UserResponse), (status = 403), (status = 404), (status = 422)))]
pub async fn update_user(
    app: web::Data<AppState>,
    admin: AdminUser,
    path: web::Path<String>,
    body: ApiJson<UpdateUserRequest>,
) -> Result<web::Json<UserResponse>, ApiError> {
    let id = extractors::user_id(&path)?;
    let request = body.into_inner()?;
    let input = UserUpdateInput {
        display_name: request.display_name,
        password: request.password,
        roles: request.roles,
        disabled: request.disabled,
        unlock: request.unlock,
    };
    let updated =
        accounts::update_user(&app.db, &app.sessions, &admin.0, id.as_str(), UserUpdate::parse(input)?).await?;
    Ok(web::Json(UserResponse::from(updated)))
}
