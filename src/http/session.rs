//! Login, logout and "who am I".

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{ApiJson, CurrentUser};
use super::users::UserResponse;
use crate::edge::cookies::{removal_cookies, session_cookies};
use crate::error::ApiError;
use crate::service::{accounts, sessions};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    user: UserResponse,
    /// Send as `Authorization: Bearer <token>`; browsers use the cookie instead.
    token: String,
    /// Send as `X-CSRF-Token` on unsafe requests authenticated by the cookie.
    csrf_token: String,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeResponse {
    user: UserResponse,
    csrf_token: String,
}

/// Logs in with a username and password; sets an HttpOnly, SameSite session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401), (status = 403), (status = 429)))]
pub async fn create_session(
    req: actix_web::HttpRequest,
    app: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let login = body.into_inner()?;
    let client_addr = req.peer_addr().map(|address| address.ip().to_string());
    let granted = sessions::login(&app.db, app.login_policy, &login.username, &login.password, client_addr).await?;
    let [session_cookie, csrf_cookie] = session_cookies(&granted, app.settings.cookie_secure);
    let response = LoginResponse {
        user: UserResponse::from(granted.user),
        token: granted.token,
        csrf_token: granted.csrf_token,
        expires_at: granted.expires_at,
    };
    Ok(HttpResponse::Ok().cookie(session_cookie).cookie(csrf_cookie).json(response))
}

/// Logs out: revokes the session and clears the cookies.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", responses((status = 204), (status = 401)))]
pub async fn delete_session(app: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, ApiError> {
    sessions::logout(&app.db, &app.sessions, &user.0).await?;
    let mut response = HttpResponse::NoContent().finish();
    for expired in removal_cookies() {
        response.add_cookie(&expired).map_err(|error| ApiError::internal(error.to_string()))?;
    }
    Ok(response)
}

/// The caller's account.
#[utoipa::path(get, path = "/api/v1/me", tag = "session", responses((status = 200, body = MeResponse), (status = 401)))]
pub async fn get_me(app: web::Data<AppState>, user: CurrentUser) -> Result<web::Json<MeResponse>, ApiError> {
    let CurrentUser(me) = user;
    let view = accounts::get_user(&app.db, me.id.as_str()).await?;
    Ok(web::Json(MeResponse { user: UserResponse::from(view), csrf_token: me.csrf_token }))
}
