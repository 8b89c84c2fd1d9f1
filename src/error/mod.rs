//! `ApiError`: every failure a client can see, each with its HTTP status and a stable
//! kebab-case code (from [`codes`]), rendered as one JSON envelope:
//! `{"error":{"code":"…","message":"…","field":"…"}}`. Services return their own errors and
//! know nothing of HTTP; `from_services.rs` turns each of them into an `ApiError`, in one place.

pub mod codes;
mod from_services;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::db::DbError;
use crate::domain::FieldError;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A body field was missing, of the wrong type or out of bounds (422).
    #[error("{}", .0.message)]
    Field(FieldError),
    /// The body was not JSON, or not UTF-8 (400).
    #[error("{0}")]
    MalformedJson(String),
    /// A form body (a page's form or an upload's multipart body) could not be read (400).
    #[error("{0}")]
    MalformedForm(String),
    /// A query-string parameter could not be used (400).
    #[error("{message}")]
    InvalidQuery { field: Option<String>, message: String },
    /// A search query that cannot be run, even after cleaning (400).
    #[error("{0}")]
    InvalidSearch(String),
    /// A path segment could not be used (400).
    #[error("{0}")]
    InvalidPath(String),
    /// A header could not be used (400).
    #[error("{message}")]
    InvalidHeader { field: String, message: String },
    /// The body is not of a content type this endpoint takes (415).
    #[error("{0}")]
    UnsupportedContentType(String),
    /// The body is larger than the endpoint takes (413).
    #[error("request body is larger than the limit of {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: usize },
    /// No valid session or token (401).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Wrong username or password (401).
    #[error("username or password is incorrect")]
    InvalidCredentials,
    /// The account is disabled (403).
    #[error("this account is disabled")]
    AccountDisabled,
    /// The caller lacks a role or ownership (403).
    #[error("{0}")]
    Forbidden(String),
    /// A reviewer deciding on a work they created or are credited on (403).
    #[error("reviewers cannot decide on works they created, are credited on or are assigned to")]
    SelfReview,
    /// A cookie-authenticated unsafe request without CSRF proof (403).
    #[error("cross-site request refused: send the x-csrf-token header or a same-origin origin header")]
    CsrfRejected,
    /// Something does not exist, or the caller may not know it exists (404).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// The route exists but not with this method (405).
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// A tus request in another protocol version (412).
    #[error("send Tus-Resumable: 1.0.0 (the tus version this server speaks)")]
    TusVersion,
    /// The requested byte range lies outside the file (416); `size` when known.
    #[error("the requested range lies outside the file")]
    RangeNotSatisfiable { size: Option<u64> },
    /// The client's version is not the stored one (409).
    #[error("work was changed by someone else: the current version is {current}, reload and retry")]
    VersionConflict { current: i64 },
    /// The request conflicts with the current state (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String, field: Option<String> },
    /// The compliance gate refused a step (409), listing the open findings.
    #[error("{message}")]
    Compliance { code: &'static str, message: String, findings: Vec<crate::service::compliance::OpenFinding> },
    /// An upload over its class's size limit (413); the message names the limit.
    #[error("{0}")]
    UploadTooLarge(String),
    /// An upload whose bytes are not an accepted format (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A request that is well-formed but cannot be processed (422).
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String, field: Option<String> },
    /// The disk is full (507); nothing already stored was touched.
    #[error("the server has no space left to store this upload")]
    InsufficientStorage,
    /// Too many failed logins (429).
    #[error("too many failed logins for this user: try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: u64 },
    /// A bug or an unavailable dependency (500); the detail (with its source chain) is
    /// logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// The open compliance findings a step was refused for.
    #[serde(skip_serializing_if = "Option::is_none")]
    findings: Option<&'a [crate::service::compliance::OpenFinding]>,
}

impl ApiError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Field(error) => error.code,
            ApiError::MalformedJson(_) => codes::MALFORMED_JSON,
            ApiError::MalformedForm(_) => codes::MALFORMED_FORM,
            ApiError::InvalidQuery { .. } => codes::INVALID_QUERY_PARAMETER,
            ApiError::InvalidPath(_) => codes::INVALID_PATH_PARAMETER,
            ApiError::InvalidSearch(_) => codes::INVALID_QUERY,
            ApiError::InvalidHeader { .. } => codes::INVALID_HEADER,
            ApiError::UnsupportedContentType(_) => codes::UNSUPPORTED_CONTENT_TYPE,
            ApiError::PayloadTooLarge { .. } => codes::PAYLOAD_TOO_LARGE,
            ApiError::Unauthenticated(_) => codes::UNAUTHENTICATED,
            ApiError::InvalidCredentials => codes::INVALID_CREDENTIALS,
            ApiError::AccountDisabled => codes::ACCOUNT_DISABLED,
            ApiError::Forbidden(_) => codes::FORBIDDEN,
            ApiError::CsrfRejected => codes::CSRF_REJECTED,
            ApiError::SelfReview => codes::SELF_REVIEW,
            ApiError::NotFound { code, .. } | ApiError::Conflict { code, .. } | ApiError::Compliance { code, .. } => {
                code
            }
            ApiError::MethodNotAllowed => codes::METHOD_NOT_ALLOWED,
            ApiError::RangeNotSatisfiable { .. } => codes::RANGE_NOT_SATISFIABLE,
            ApiError::TusVersion => codes::TUS_VERSION_UNSUPPORTED,
            ApiError::VersionConflict { .. } => codes::VERSION_CONFLICT,
            ApiError::TooManyAttempts { .. } => codes::TOO_MANY_ATTEMPTS,
            ApiError::UploadTooLarge(_) => codes::UPLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => codes::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { code, .. } => code,
            ApiError::InsufficientStorage => codes::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => codes::INTERNAL_ERROR,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::Field(error) => Some(&error.field),
            ApiError::InvalidQuery { field, .. } | ApiError::Conflict { field, .. } => field.as_deref(),
            ApiError::InvalidHeader { field, .. } => Some(field),
            ApiError::VersionConflict { .. } => Some("version"),
            ApiError::InvalidSearch(_) => Some("q"),
            _ => None,
        }
    }

    /// A query parameter error naming the parameter.
    pub fn query(field: &str, message: impl Into<String>) -> Self {
        ApiError::InvalidQuery { field: Some(field.to_owned()), message: message.into() }
    }

    /// A query parameter the domain refused (its field is the parameter's name).
    pub fn from_query(error: FieldError) -> Self {
        ApiError::query(&error.field, error.message)
    }

    /// A 404 for a work the caller cannot see (or that does not exist: we do not say which).
    pub fn comment_not_found() -> Self {
        ApiError::NotFound { code: codes::COMMENT_NOT_FOUND, message: "no such comment".into() }
    }

    /// No such work, or one the caller may not see.
    pub fn work_not_found() -> Self {
        ApiError::NotFound { code: codes::WORK_NOT_FOUND, message: "no such work".into() }
    }

    /// A 404 for a medium the caller cannot see (or that does not exist).
    pub fn media_not_found() -> Self {
        ApiError::NotFound { code: codes::MEDIA_NOT_FOUND, message: "no such media".into() }
    }

    /// A 404 for an unknown user.
    pub fn user_not_found() -> Self {
        ApiError::NotFound { code: codes::USER_NOT_FOUND, message: "no such user".into() }
    }

    /// A 500 for `source`, kept whole (with its own sources) for the log.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(source.into())
    }

    /// A 404 for an unknown route.
    pub fn route_not_found() -> Self {
        ApiError::NotFound { code: codes::ROUTE_NOT_FOUND, message: "no such route".into() }
    }

    /// A 403 naming the missing role.
    pub fn role_required(roles: &str) -> Self {
        ApiError::Forbidden(format!("this action needs the {roles} role"))
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::Field(error)
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        ApiError::internal(error)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Field(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::MalformedJson(_)
            | ApiError::MalformedForm(_)
            | ApiError::InvalidQuery { .. }
            | ApiError::InvalidPath(_)
            | ApiError::InvalidSearch(_)
            | ApiError::InvalidHeader { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthenticated(_) | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::AccountDisabled | ApiError::Forbidden(_) | ApiError::CsrfRejected | ApiError::SelfReview => {
                StatusCode::FORBIDDEN
            }
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::TusVersion => StatusCode::PRECONDITION_FAILED,
            ApiError::VersionConflict { .. } | ApiError::Conflict { .. } | ApiError::Compliance { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UploadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(source) = self {
            tracing::error!(error.detail = %source_chain(source.as_ref()), "internal error answered with 500");
        }
        let findings = match self {
            ApiError::Compliance { findings, .. } => Some(findings.as_slice()),
            _ => None,
        };
        let envelope =
            Envelope { error: Body { code: self.code(), message: self.to_string(), field: self.field(), findings } };
        let mut response = HttpResponse::build(self.status_code()).json(envelope);
        if let ApiError::TooManyAttempts { retry_after_secs } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if matches!(self, ApiError::TusVersion) {
            response.headers_mut().insert(HeaderName::from_static("tus-version"), HeaderValue::from_static("1.0.0"));
        }
        if let ApiError::RangeNotSatisfiable { size: Some(size) } = self
            && let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}"))
        {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
        if matches!(self, ApiError::Unauthenticated(_) | ApiError::InvalidCredentials) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// An error and its sources, `outer: inner: innermost`, for the log.
fn source_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = error.to_string();
    let mut next = error.source();
    while let Some(source) = next {
        chain.push_str(": ");
        chain.push_str(&source.to_string());
        next = source.source();
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_detail() {
        let error = ApiError::internal("password=hunter2 connection refused");
        assert_eq!(error.to_string(), "internal error");
        assert_eq!(error.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn internal_errors_log_their_whole_source_chain() {
        let query = diesel::result::Error::NotFound;
        let error = ApiError::from(DbError::from(query));
        let ApiError::Internal(source) = &error else { panic!("a database error is internal") };
        assert_eq!(source_chain(source.as_ref()), "database query failed: Record not found");
    }

    #[test]
    fn field_errors_keep_their_own_code_and_field() {
        let error = ApiError::from(FieldError::required("title"));
        assert_eq!(error.code(), "field-required");
        assert_eq!(error.field(), Some("title"));
        assert_eq!(error.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn version_conflict_names_the_current_version() {
        let error = ApiError::VersionConflict { current: 7 };
        assert!(error.to_string().contains("current version is 7"));
        assert_eq!(error.status_code(), StatusCode::CONFLICT);
    }
}
