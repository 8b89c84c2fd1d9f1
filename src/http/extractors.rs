//! Request extractors that answer in the API's error envelope: the authenticated caller
//! (`CurrentUser`, with CSRF checks for cookie sessions), JSON bodies and query strings that
//! name the offending field, and path ids.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::domain::FieldError;
use crate::edge::auth::{self, Accept, Refusal, csrf_proven, is_safe};
pub use crate::edge::params::{parse_query, user_id, work_id};
use crate::error::ApiError;
use crate::service::auth::{AuthUser, Credential};

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// The authenticated caller. Missing, expired or revoked credentials → 401.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub AuthUser);

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = BoxFuture<Self>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = match auth::authenticate(&req, Accept::BearerOrCookie).await {
                Ok(user) => user,
                Err(Refusal::NoToken) => {
                    return Err(ApiError::Unauthenticated("log in first: no session token was sent"));
                }
                Err(Refusal::Account(refused)) => return Err(refused.into()),
                Err(Refusal::NoState) => return Err(ApiError::internal("application state missing")),
            };
            if user.credential == Credential::Cookie && !is_safe(req.method()) && !csrf_proven(&req, &user.csrf_token) {
                return Err(ApiError::CsrfRejected);
            }
            Ok(CurrentUser(user))
        })
    }
}

/// An authenticated admin: anyone else is refused with 403 (401 when not logged in).
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = BoxFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let current = CurrentUser::from_request(req, payload);
        Box::pin(async move {
            let CurrentUser(user) = current.await?;
            if user.is_admin() { Ok(AdminUser(user)) } else { Err(ApiError::role_required("admin")) }
        })
    }
}

/// A JSON body, size-limited, whose errors name the field at fault. Reading never fails the
/// extraction: the handler asks for the value with [`ApiJson::into_inner`] after the caller
/// was authenticated and authorised, so a stranger learns nothing from validation errors
/// (actix resolves extractors concurrently and would otherwise answer whichever fails first).
#[derive(Debug)]
pub struct ApiJson<T>(Result<T, ApiError>);

impl<T> ApiJson<T> {
    /// The parsed body, or why it could not be read.
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = BoxFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let limit = crate::edge::app_state(&req)?.settings.json_limit_bytes;
            let parsed = match require_json_content_type(&req) {
                Ok(()) => read_limited(&req, &mut payload, limit).await.and_then(|body| parse_json(&body)),
                Err(error) => Err(error),
            };
            Ok(ApiJson(parsed))
        })
    }
}

/// A `text/plain` UTF-8 body (a word list), up to the word lists' size limit; like
/// [`ApiJson`], its errors wait for the handler.
#[derive(Debug)]
pub struct PlainText(Result<String, ApiError>);

impl PlainText {
    /// The text (without a byte-order mark), or why it could not be read.
    pub fn into_inner(self) -> Result<String, ApiError> {
        self.0
    }
}

impl FromRequest for PlainText {
    type Error = ApiError;
    type Future = BoxFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let limit = crate::service::wordlists::TERMS_MAX_BYTES;
            let text = match require_content_type(&req, "text/plain", |essence| essence == "text/plain") {
                Ok(()) => read_limited(&req, &mut payload, limit).await.and_then(|body| utf8_text(&body)),
                Err(error) => Err(error),
            };
            Ok(PlainText(text))
        })
    }
}

fn utf8_text(body: &[u8]) -> Result<String, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::MalformedForm("the text is not UTF-8: save it as UTF-8 and send it again".into()))?;
    Ok(text.trim_start_matches('\u{FEFF}').to_owned())
}

/// Refuses a body whose content type (without parameters) is not what `accepts` takes.
fn require_content_type(req: &HttpRequest, wanted: &str, accepts: fn(&str) -> bool) -> Result<(), ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if accepts(&essence) {
        return Ok(());
    }
    Err(ApiError::UnsupportedContentType(format!("request body must be {wanted}, not {content_type:?}")))
}

fn require_json_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    require_content_type(req, "application/json", |essence| essence == "application/json" || essence.ends_with("+json"))
}

async fn read_limited(req: &HttpRequest, payload: &mut Payload, limit: usize) -> Result<web::BytesMut, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge { limit_bytes: limit });
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|error| ApiError::MalformedJson(format!("request body could not be read: {error}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit_bytes: limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses JSON, turning serde's errors into envelope errors that name the field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(body).is_err() {
        return Err(ApiError::MalformedJson("request body is not valid utf-8".into()));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut *deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::Field(data_error(&path, &inner.to_string())),
            _ => ApiError::MalformedJson(format!("request body is not valid json: {inner}")),
        }
    })?;
    // Anything after the value but whitespace means the client sent something else than it thinks.
    deserializer.end().map_err(|error| ApiError::MalformedJson(format!("request body is not valid json: {error}")))?;
    Ok(value)
}

/// Maps serde's data errors (missing, unknown or mistyped fields) to a field error.
fn data_error(path: &str, message: &str) -> FieldError {
    let message = message.split(" at line ").next().unwrap_or(message);
    let quoted = |prefix: &str| message.strip_prefix(prefix).and_then(|rest| rest.split('`').nth(1)).map(str::to_owned);
    let join = |name: String| {
        if path == "." || path.is_empty() { name } else { format!("{path}.{name}") }
    };
    if let Some(name) = quoted("missing field") {
        return FieldError::required(join(name));
    }
    if let Some(name) = quoted("unknown field") {
        // The path already ends at the unknown key.
        let field = if path == "." || path.is_empty() { name } else { path.to_owned() };
        return FieldError::unknown(field);
    }
    let field = if path == "." { "body".to_owned() } else { path.to_owned() };
    FieldError::invalid(field, format!("is not acceptable: {message}"))
}

/// A query string whose errors name the parameter. Unknown parameters are ignored.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ApiQuery))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields are read only by the deserializer under test")]
    struct Sample {
        title: String,
        count: Option<i64>,
    }

    fn code_and_field(result: Result<Sample, ApiError>) -> (&'static str, Option<String>) {
        let error = result.unwrap_err();
        let field = match &error {
            ApiError::Field(field_error) => Some(field_error.field.clone()),
            _ => None,
        };
        (error.code(), field)
    }

    #[test]
    fn json_errors_name_their_field() {
        assert_eq!(code_and_field(parse_json(b"{}")), ("field-required", Some("title".into())));
        assert_eq!(code_and_field(parse_json(br#"{"title":"t","x":1}"#)), ("unknown-field", Some("x".into())));
        assert_eq!(code_and_field(parse_json(br#"{"title":5}"#)), ("invalid-field", Some("title".into())));
        assert_eq!(code_and_field(parse_json(br#"{"title":"#)).0, "malformed-json");
        assert_eq!(code_and_field(parse_json(b"{\"title\":\"\xff\"}")).0, "malformed-json");
    }

    #[test]
    fn query_errors_name_their_parameter() {
        let error = parse_query::<Sample>("title=a&count=lots").unwrap_err();
        assert_eq!(error.code(), "invalid-query-parameter");
        assert!(error.to_string().contains("count"));
    }
}
