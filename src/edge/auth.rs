//! Who is asking: one request-authentication function for the API's `CurrentUser` and the
//! pages' `Viewer`, and the CSRF proof that cookie-authenticated unsafe requests need.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, web};

use crate::service::accounts::AccountError;
use crate::service::auth::{AuthUser, Credential};
use crate::service::sessions;
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "microcat_session";
/// Header carrying the CSRF token for cookie-authenticated unsafe requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Which credentials a caller may present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// The API: `Authorization: Bearer …`, else the session cookie.
    BearerOrCookie,
    /// The pages: the session cookie only.
    CookieOnly,
}

/// Why a request is not authenticated.
#[derive(Debug)]
pub enum Refusal {
    /// No token was presented.
    NoToken,
    /// The token was refused (unknown, expired, revoked, disabled), or checking it failed.
    Account(AccountError),
    /// The application's state is missing from the request (a wiring bug).
    NoState,
}

/// The caller behind a request, with the peer address kept for the audit trail.
pub async fn authenticate(req: &HttpRequest, accept: Accept) -> Result<AuthUser, Refusal> {
    let (token, credential) = presented_token(req, accept).ok_or(Refusal::NoToken)?;
    let app = req.app_data::<web::Data<AppState>>().ok_or(Refusal::NoState)?;
    let mut user =
        sessions::authenticate(&app.db, &app.sessions, &token, credential).await.map_err(Refusal::Account)?;
    user.client_addr = req.peer_addr().map(|address| address.ip().to_string());
    Ok(user)
}

/// The bearer token (where accepted), else the session cookie.
fn presented_token(req: &HttpRequest, accept: Accept) -> Option<(String, Credential)> {
    if accept == Accept::BearerOrCookie
        && let Some(token) = bearer_token(req)
    {
        return Some((token, Credential::Bearer));
    }
    req.cookie(SESSION_COOKIE)
        .map(|cookie| (cookie.value().to_owned(), Credential::Cookie))
        .filter(|(token, _)| !token.is_empty())
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(value.strip_prefix("Bearer ")?.trim().to_owned()).filter(|token| !token.is_empty())
}

/// Methods that change nothing, so need no CSRF proof.
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A cookie request proves it is not cross-site with the session's CSRF token in a header,
/// or with an `Origin` naming this very host.
pub fn csrf_proven(req: &HttpRequest, csrf_token: &str) -> bool {
    let header_token = req.headers().get(CSRF_HEADER).and_then(|value| value.to_str().ok());
    if header_token.is_some_and(|token| constant_time_eq(token.as_bytes(), csrf_token.as_bytes())) {
        return true;
    }
    let origin = req.headers().get(header::ORIGIN).and_then(|value| value.to_str().ok());
    let host = req.headers().get(header::HOST).and_then(|value| value.to_str().ok());
    match (origin.and_then(|origin| url::Url::parse(origin).ok()), host) {
        (Some(origin), Some(host)) => {
            origin_authority(&origin).is_some_and(|authority| authority.eq_ignore_ascii_case(host))
        }
        _ => false,
    }
}

fn origin_authority(origin: &url::Url) -> Option<String> {
    let host = origin.host_str()?;
    Some(match origin.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// Compares secrets without an early exit that would time how much of them matched.
pub fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison_matches_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
