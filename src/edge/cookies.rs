//! The session cookies a login sets and a logout removes (the API's and the pages' alike).

use actix_web::cookie::{Cookie, SameSite, time};
use chrono::Utc;

use super::auth::SESSION_COOKIE;
use crate::service::sessions;

/// Name of the readable cookie that carries the CSRF token for browser scripts.
pub const CSRF_COOKIE: &str = "microcat_csrf";

/// The HttpOnly session cookie and the script-readable CSRF cookie of a new session.
pub fn session_cookies(granted: &sessions::LoginGranted, secure: bool) -> [Cookie<'static>; 2] {
    let max_age = time::Duration::seconds((granted.expires_at - Utc::now()).num_seconds().max(0));
    let session_cookie = Cookie::build(SESSION_COOKIE, granted.token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(max_age)
        .finish();
    let csrf_cookie = Cookie::build(CSRF_COOKIE, granted.csrf_token.clone())
        .path("/")
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(max_age)
        .finish();
    [session_cookie, csrf_cookie]
}

/// Expired copies of the session cookies, which make the browser drop them.
pub fn removal_cookies() -> [Cookie<'static>; 2] {
    [SESSION_COOKIE, CSRF_COOKIE].map(|name| {
        let mut expired = Cookie::build(name, "").path("/").finish();
        expired.make_removal();
        expired
    })
}
