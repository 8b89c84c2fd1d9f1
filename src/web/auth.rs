//! `/login`, `/logout` and `/lang`. The login form is protected against cross-site posting by
//! a double-submit token: a random value in a SameSite=Strict cookie and in a hidden field.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::i18n::{LANG_COOKIE, Lang};
use super::page::{self, Chrome, FormData, PageQuery, PageResult, SignedForm, Viewer};
use crate::edge::auth::constant_time_eq;
use crate::edge::cookies::{removal_cookies, session_cookies};
use crate::error::ApiError;
use crate::service::accounts::AccountError;
use crate::service::{auth, sessions};
use crate::state::AppState;

const LOGIN_CSRF_COOKIE: &str = "microcat_login_csrf";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

/// Where to go after logging in, and why the login page was shown.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

fn login_page(req: &HttpRequest, status: StatusCode, page: LoginPage) -> PageResult {
    let mut response = page::render_with_status(status, &page)?;
    let cookie = Cookie::build(LOGIN_CSRF_COOKIE, page.csrf.clone())
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.app_data::<web::Data<AppState>>().is_some_and(|app| app.settings.cookie_secure))
        .max_age(time::Duration::hours(12))
        .finish();
    response.add_cookie(&cookie).map_err(|error| ApiError::internal(error.to_string()))?;
    Ok(response)
}

fn new_login_page(req: &HttpRequest, next: String, username: String, error: Option<String>) -> LoginPage {
    let lang = page::lang_of(req);
    LoginPage { chrome: Chrome::anonymous(lang, "/login"), csrf: auth::random_secret(24), next, username, error }
}

/// `GET /login`.
pub async fn get_login(req: HttpRequest, viewer: Option<Viewer>, query: PageQuery<LoginQuery>) -> PageResult {
    let query = query.into_inner();
    let next = page::local_path(query.next.as_deref());
    if viewer.is_some() {
        return Ok(page::redirect(&next));
    }
    let lang = page::lang_of(&req);
    let error = query.expired.is_some().then_some(lang.text().login_expired);
    login_page(&req, StatusCode::OK, new_login_page(&req, next, String::new(), error.map(str::to_owned)))
}

/// `POST /login`: checks the password, sets the session cookies, goes on to `next`.
pub async fn post_login(req: HttpRequest, app: web::Data<AppState>, body: web::Bytes) -> PageResult {
    let form = FormData::parse(&body);
    let next = page::local_path(form.get("next"));
    let username = form.text("username");
    let sent = form.get("csrf").unwrap_or_default();
    let expected = req.cookie(LOGIN_CSRF_COOKIE).map(|cookie| cookie.value().to_owned()).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::CsrfRejected.into());
    }
    let client_addr = req.peer_addr().map(|address| address.ip().to_string());
    let text = page::lang_of(&req).text();
    let result = sessions::login(&app.db, app.login_policy, &username, &form.text("password"), client_addr).await;
    let (status, message) = match result {
        Ok(granted) => return Ok(logged_in(&granted, app.settings.cookie_secure, &next)),
        Err(AccountError::TooManyAttempts { retry_after_secs }) => {
            // Say until when, in the team's clock: "try later" leaves people guessing.
            let until = chrono::Utc::now() + chrono::TimeDelta::seconds(retry_after_secs as i64 + 59);
            let until = until.with_timezone(&crate::clock::beijing()).format("%H:%M");
            let message =
                format!("{}{} {until} {}", text.login_throttled, text.retry_after_prefix, text.retry_after_suffix);
            (StatusCode::TOO_MANY_REQUESTS, message)
        }
        Err(AccountError::InvalidCredentials | AccountError::AccountDisabled) => {
            (StatusCode::UNAUTHORIZED, text.login_failed.to_owned())
        }
        Err(other) => return Err(other.into()),
    };
    login_page(&req, status, new_login_page(&req, next, username, Some(message)))
}

fn logged_in(granted: &sessions::LoginGranted, secure: bool, next: &str) -> HttpResponse {
    let mut response = page::redirect(next);
    for cookie in session_cookies(granted, secure) {
        // Adding a well-formed cookie cannot fail.
        let _ = response.add_cookie(&cookie);
    }
    response
}

/// `POST /logout`: revokes the session and clears the cookies.
pub async fn post_logout(app: web::Data<AppState>, signed: SignedForm) -> PageResult {
    sessions::logout(&app.db, &app.sessions, &signed.viewer.user).await?;
    let mut response = page::redirect("/login");
    for cookie in removal_cookies() {
        response.add_cookie(&cookie).map_err(|error| ApiError::internal(error.to_string()))?;
    }
    Ok(response)
}

/// Which language to switch to and where to come back.
#[derive(Debug, Deserialize)]
pub struct LangQuery {
    to: Option<String>,
    back: Option<String>,
}

/// `GET /lang?to=en&back=/works`: remembers the language for a year.
pub async fn get_lang(query: PageQuery<LangQuery>) -> HttpResponse {
    let lang = Lang::parse(query.to.as_deref().unwrap_or_default());
    let cookie = Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(365))
        .finish();
    let mut response = page::redirect(&page::local_path(query.back.as_deref()));
    let _ = response.add_cookie(&cookie);
    response
}
