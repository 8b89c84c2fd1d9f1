//! What every page shares: who is looking (`Viewer`, from the session cookie), the layout's
//! data (`Chrome`), signed form posts (`SignedForm`: the session's CSRF token in a hidden
//! field), rendering with a strict Content-Security-Policy, and HTML error pages.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::assets;
use super::i18n::{LANG_COOKIE, Lang, Text};
use crate::domain::user::Role;
use crate::edge::auth::{self, Accept, Refusal};
use crate::error::ApiError;
use crate::service::accounts::AccountError;
use crate::service::auth::AuthUser;

/// No inline script or style, nothing from elsewhere: a stored title can never run code.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Largest form body a page accepts (a work's text is at most 1 MiB, percent-encoded ×3).
const FORM_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// A page failure: a trip to the login page, or an error page.
#[derive(Debug)]
pub enum WebError {
    /// Not logged in (or the session ended): go to `/login?next=…`.
    LoginRequired { next: String },
    /// Anything the services refused, shown as a page with the stable code.
    Api(ApiError),
}

impl From<ApiError> for WebError {
    fn from(error: ApiError) -> Self {
        WebError::Api(error)
    }
}

/// Service errors reach a page the way they reach the API: through [`ApiError`].
macro_rules! web_errors_through_api_error {
    ($($error:ty),*) => {
        $(impl From<$error> for WebError {
            fn from(error: $error) -> Self {
                WebError::Api(error.into())
            }
        })*
    };
}

web_errors_through_api_error!(
    crate::db::DbError,
    crate::service::works::WorkError,
    crate::service::review::ReviewError,
    crate::service::media::MediaError,
    crate::service::accounts::AccountError,
    crate::service::audit::AuditError,
    crate::service::search::SearchError,
    crate::service::stats::StatsError
);

impl std::fmt::Display for WebError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebError::LoginRequired { .. } => formatter.write_str("login required"),
            WebError::Api(error) => write!(formatter, "{error}"),
        }
    }
}

/// The language-neutral error page (the request's language is not known here).
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: &'static Text,
    html_lang: &'static str,
    status: u16,
    code: &'a str,
    message: &'static str,
    asset_version: &'static str,
}

/// What an error page was about, kept on the response so the error handler can render it
/// again in the reader's language (a `ResponseError` does not see the request).
#[derive(Debug, Clone, Copy)]
pub struct PageErrorInfo {
    pub status: u16,
    pub code: &'static str,
}

/// An error page's HTML in `lang`: the code's sentence from the catalogue, never the API's.
pub fn error_page_html(lang: super::i18n::Lang, info: PageErrorInfo) -> String {
    let page = ErrorPage {
        t: lang.text(),
        html_lang: lang.html_lang(),
        status: info.status,
        code: info.code,
        message: super::error_text::message(lang, info.code),
        asset_version: asset_version(),
    };
    page.render().unwrap_or_else(|_| "error".to_owned())
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            WebError::Api(error) => error.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let api_error = match self {
            WebError::LoginRequired { next } => return redirect(&login_url(next)),
            WebError::Api(ApiError::Unauthenticated(_)) => return redirect("/login?expired=1"),
            WebError::Api(error) => error,
        };
        if let ApiError::Internal(detail) = api_error {
            tracing::error!(%detail, "page failed");
        }
        let info = PageErrorInfo { status: api_error.status_code().as_u16(), code: api_error.code() };
        // Chinese, the default; the error handler renders it again for English readers.
        let mut response = with_page_headers(HttpResponse::build(api_error.status_code()))
            .body(error_page_html(super::i18n::Lang::Zh, info));
        response.extensions_mut().insert(info);
        response
    }
}

/// The result of a page handler.
pub type PageResult = Result<HttpResponse, WebError>;

fn login_url(next: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("/login?next={encoded}")
}

/// A 303 to a local path.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// Only paths on this site are followed after login or a language switch.
pub fn local_path(candidate: Option<&str>) -> String {
    // Browsers drop tabs and newlines from URLs and read `\` as `/`, so `/\t/evil` or `/\evil`
    // would become `//evil`: any such character disqualifies the path.
    let is_local = |path: &str| {
        path.starts_with('/')
            && !path.starts_with("//")
            && !path.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control())
    };
    match candidate {
        Some(path) if is_local(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

fn with_page_headers(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}

/// Renders a page with the security headers.
pub fn render(template: &impl Template) -> PageResult {
    render_with_status(StatusCode::OK, template)
}

/// Renders a page with a chosen status (a form with errors answers 422).
pub fn render_with_status(status: StatusCode, template: &impl Template) -> PageResult {
    let body = template.render().map_err(|error| ApiError::internal(format!("template: {error}")))?;
    Ok(with_page_headers(HttpResponse::build(status)).body(body))
}

/// A short hash of the embedded script and stylesheet, so browsers refetch them after an upgrade.
pub fn asset_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let digest = Sha256::new()
            .chain_update(assets::APP_JS)
            .chain_update(assets::APP_CSS)
            .chain_update(assets::TUS_JS)
            .finalize();
        hex::encode(&digest[..6])
    })
}

/// The language of a request.
pub fn lang_of(req: &HttpRequest) -> Lang {
    req.cookie(LANG_COOKIE).map(|cookie| Lang::parse(cookie.value())).unwrap_or(Lang::Zh)
}

/// A logged-in person looking at a page.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: AuthUser,
    pub lang: Lang,
    /// The path and query being viewed, for the language switch.
    pub here: String,
}

impl Viewer {
    /// The strings of the viewer's language.
    pub fn t(&self) -> &'static Text {
        self.lang.text()
    }

    /// Whether the viewer may decide reviews.
    pub fn is_reviewer(&self) -> bool {
        self.user.has(Role::Reviewer) || self.user.is_admin()
    }

    /// The layout data of a page in the navigation section `current`.
    pub fn chrome(&self, current: &'static str, notice: Option<&str>) -> Chrome {
        Chrome {
            t: self.t(),
            html_lang: self.lang.html_lang(),
            csrf: self.user.csrf_token.clone(),
            user_name: self.user.display_name.clone(),
            logged_in: true,
            is_reviewer: self.is_reviewer(),
            is_admin: self.user.is_admin(),
            current,
            switch_href: switch_href(self.lang, &self.here),
            notice: notice.and_then(|key| notice_text(self.t(), key)),
            asset_version: asset_version(),
        }
    }
}

fn switch_href(lang: Lang, here: &str) -> String {
    let back: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
    format!("/lang?to={}&back={back}", lang.other().code())
}

/// The confirmation shown after a redirect (`?done=saved` …).
fn notice_text(t: &'static Text, key: &str) -> Option<String> {
    let text = match key {
        "saved" => t.saved,
        "step" => t.step_done,
        "comment" => t.comment_posted,
        "resolved" => t.comment_resolved,
        "reopened" => t.comment_reopened,
        "user-created" => t.user_created,
        "user-updated" => t.user_updated,
        "deleted" => t.work_deleted,
        "media-deleted" => t.media_deleted,
        "masked" | "overridden" => t.saved,
        "wordlist" => t.wordlist_saved,
        _ => return None,
    };
    Some(text.to_owned())
}

/// Layout data every page template carries.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub t: &'static Text,
    pub html_lang: &'static str,
    pub csrf: String,
    pub user_name: String,
    pub logged_in: bool,
    pub is_reviewer: bool,
    pub is_admin: bool,
    pub current: &'static str,
    pub switch_href: String,
    pub notice: Option<String>,
    pub asset_version: &'static str,
}

impl Chrome {
    /// The layout of the login page.
    pub fn anonymous(lang: Lang, here: &str) -> Self {
        Chrome {
            t: lang.text(),
            html_lang: lang.html_lang(),
            csrf: String::new(),
            user_name: String::new(),
            logged_in: false,
            is_reviewer: false,
            is_admin: false,
            current: "login",
            switch_href: switch_href(lang, here),
            notice: None,
            asset_version: asset_version(),
        }
    }

    /// `aria-current` for a navigation link.
    pub fn aria(&self, section: &str) -> &'static str {
        if self.current == section { "page" } else { "false" }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, WebError>>>>;

fn here_of(req: &HttpRequest) -> String {
    match req.uri().path_and_query() {
        Some(path) => path.as_str().to_owned(),
        None => "/".to_owned(),
    }
}

impl FromRequest for Viewer {
    type Error = WebError;
    type Future = BoxFuture<Self>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let here = here_of(&req);
            match auth::authenticate(&req, Accept::CookieOnly).await {
                Ok(user) => Ok(Viewer { user, lang: lang_of(&req), here }),
                Err(Refusal::NoToken | Refusal::Account(AccountError::Unauthenticated(_))) => {
                    Err(WebError::LoginRequired { next: here })
                }
                Err(Refusal::Account(other)) => Err(other.into()),
                Err(Refusal::NoState) => Err(ApiError::internal("application state missing").into()),
            }
        })
    }
}

/// A page's query string, refused as an HTML page (with the API's code) when unusable.
#[derive(Debug)]
pub struct PageQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for PageQuery<T> {
    type Error = WebError;
    type Future = std::future::Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let parsed = crate::edge::params::parse_query(req.query_string()).map(PageQuery);
        std::future::ready(parsed.map_err(WebError::Api))
    }
}

impl<T> PageQuery<T> {
    /// The parsed parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for PageQuery<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// A decoded `application/x-www-form-urlencoded` body; repeated names keep every value.
#[derive(Debug, Clone, Default)]
pub struct FormData(Vec<(String, String)>);

impl FormData {
    /// Decodes a body.
    pub fn parse(bytes: &[u8]) -> Self {
        FormData(url::form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The first value of a field, or "".
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    /// A field as an optional value: absent and blank are the same.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.get(name).map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned)
    }

    /// Every value of a repeated field (checkboxes, multiple selects).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(key, _)| key == name).map(|(_, value)| value.clone()).collect()
    }
}

/// A form post from a logged-in viewer whose hidden `csrf` field matches their session.
#[derive(Debug)]
pub struct SignedForm {
    pub viewer: Viewer,
    pub form: FormData,
}

impl FromRequest for SignedForm {
    type Error = WebError;
    type Future = BoxFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let viewer = Viewer::from_request(req, payload);
        let mut body = payload.take();
        Box::pin(async move {
            let viewer = viewer.await?;
            let form = FormData::parse(&read_limited(&mut body).await?);
            let sent = form.get("csrf").unwrap_or_default();
            if !crate::edge::auth::constant_time_eq(sent.as_bytes(), viewer.user.csrf_token.as_bytes()) {
                return Err(ApiError::CsrfRejected.into());
            }
            Ok(SignedForm { viewer, form })
        })
    }
}

/// Reads a form body, refusing it once it passes [`FORM_LIMIT_BYTES`].
async fn read_limited(body: &mut Payload) -> Result<Vec<u8>, WebError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| ApiError::MalformedForm(format!("form body could not be read: {error}")))?;
        if bytes.len() + chunk.len() > FORM_LIMIT_BYTES {
            return Err(ApiError::PayloadTooLarge { limit_bytes: FORM_LIMIT_BYTES }.into());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        assert_eq!(local_path(Some("/works?kind=micro_film")), "/works?kind=micro_film");
        for foreign in
            ["https://evil.example/", "//evil.example", "/\\evil", "/\t/evil.example", "/\n/evil", "works", ""]
        {
            assert_eq!(local_path(Some(foreign)), "/", "{foreign:?}");
        }
        assert_eq!(local_path(None), "/");
    }
}
