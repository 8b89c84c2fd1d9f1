//! `/api/v1/uploads`: resumable uploads over the tus 1.0 protocol (core, creation,
//! creation-with-upload, termination, expiration), authenticated like the rest of the API.
//! `Upload-Metadata` names the work (`work_id`), the `role` and the `filename`; the last PATCH
//! answers with `Microcat-Media-Id`, the medium the upload became.

use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use base64::Engine;

use super::AppState;
use super::extractors::CurrentUser;
use crate::domain::ids::WorkId;
use crate::domain::media::MediaRole;
use crate::error::ApiError;
use crate::service::uploads::{self as service, NewUpload, UploadState};

const TUS_VERSION: &str = "1.0.0";
const OFFSET_CONTENT_TYPE: &str = "application/offset+octet-stream";

/// The server's tus capabilities.
#[utoipa::path(options, path = "/api/v1/uploads", tag = "uploads", responses((status = 204)))]
pub async fn options(app: web::Data<AppState>) -> HttpResponse {
    let mut response = tus(HttpResponse::NoContent());
    response
        .insert_header(("Tus-Version", TUS_VERSION))
        .insert_header(("Tus-Extension", "creation,creation-with-upload,termination,expiration"))
        .insert_header(("Tus-Max-Size", service::max_length(&app.media).to_string()));
    response.finish()
}

/// Creates an upload (`Upload-Length`, `Upload-Metadata: work_id …,role …,filename …`), with
/// its first bytes when the body has some.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "uploads",
    responses((status = 201), (status = 400), (status = 403), (status = 404), (status = 412), (status = 413)))]
pub async fn create(
    app: web::Data<AppState>,
    user: CurrentUser,
    request: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    check_version(request.headers())?;
    let new = new_upload(request.headers())?;
    let mut state = service::create(&app.db, &app.media, &user.0, new).await?;
    if is_offset_stream(request.headers()) {
        state = service::append(&app.db, &app.media, &user.0, (&state.id, 0), body).await?;
    }
    let mut response = tus(HttpResponse::Created());
    response.insert_header((header::LOCATION, format!("/api/v1/uploads/{}", state.id)));
    Ok(with_state(&mut response, &state).finish())
}

/// Where an upload stands (`Upload-Offset`, `Upload-Length`, `Upload-Expires`).
#[utoipa::path(head, path = "/api/v1/uploads/{id}", tag = "uploads", responses((status = 200), (status = 404), (status = 412)))]
pub async fn head(
    app: web::Data<AppState>,
    user: CurrentUser,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    check_version(request.headers())?;
    let state = service::status(&app.db, &user.0, &path).await?;
    let mut response = tus(HttpResponse::Ok());
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    Ok(with_state(&mut response, &state).finish())
}

/// Appends bytes at `Upload-Offset` (`Content-Type: application/offset+octet-stream`).
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", tag = "uploads",
    responses((status = 204), (status = 404), (status = 409), (status = 412), (status = 413), (status = 415), (status = 422)))]
pub async fn patch(
    app: web::Data<AppState>,
    user: CurrentUser,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    check_version(request.headers())?;
    if !is_offset_stream(request.headers()) {
        return Err(ApiError::UnsupportedContentType(format!("a PATCH body must be {OFFSET_CONTENT_TYPE}")));
    }
    let offset = number_header(request.headers(), "upload-offset")?;
    let state = service::append(&app.db, &app.media, &user.0, (&path, offset), body).await?;
    let mut response = tus(HttpResponse::NoContent());
    Ok(with_state(&mut response, &state).finish())
}

/// Ends an upload and removes what it stored (tus termination).
#[utoipa::path(delete, path = "/api/v1/uploads/{id}", tag = "uploads", responses((status = 204), (status = 404), (status = 412)))]
pub async fn terminate(
    app: web::Data<AppState>,
    user: CurrentUser,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    check_version(request.headers())?;
    service::terminate(&app.db, &app.media, &user.0, &path).await?;
    Ok(tus(HttpResponse::NoContent()).finish())
}

/// Routes OPTIONS and the methods actix has no shorthand for.
pub fn routes(config: &mut web::ServiceConfig) {
    config.service(web::resource("/uploads").route(web::method(Method::OPTIONS).to(options)).post(create)).service(
        web::resource("/uploads/{id}")
            .route(web::method(Method::OPTIONS).to(options))
            .route(web::method(Method::HEAD).to(head))
            .route(web::method(Method::PATCH).to(patch))
            .delete(terminate),
    );
}

fn tus(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder.insert_header(("Tus-Resumable", TUS_VERSION));
    builder
}

fn with_state<'a>(response: &'a mut HttpResponseBuilder, state: &UploadState) -> &'a mut HttpResponseBuilder {
    let expires = state.expires_at.and_utc().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    response
        .insert_header(("Upload-Offset", state.offset.to_string()))
        .insert_header(("Upload-Length", state.length.to_string()))
        .insert_header(("Upload-Expires", expires));
    if let Some(media) = &state.media_id
        && let Ok(value) = HeaderValue::from_str(media)
    {
        response.insert_header(("Microcat-Media-Id", value));
    }
    response
}

/// A client speaking another tus version gets 412 with the version we speak.
fn check_version(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("tus-resumable").and_then(|value| value.to_str().ok()) {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(ApiError::TusVersion),
    }
}

fn is_offset_stream(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|value| value.as_bytes().starts_with(OFFSET_CONTENT_TYPE.as_bytes()))
}

fn number_header(headers: &HeaderMap, name: &str) -> Result<u64, ApiError> {
    let raw = headers.get(name).and_then(|value| value.to_str().ok());
    raw.and_then(|text| text.trim().parse().ok()).ok_or_else(|| ApiError::InvalidHeader {
        field: name.to_owned(),
        message: format!("{name} must be a whole number of bytes"),
    })
}

/// `Upload-Length` and the metadata: `work_id`, `role` (default `main`), `filename`.
fn new_upload(headers: &HeaderMap) -> Result<NewUpload, ApiError> {
    if headers.contains_key("upload-defer-length") {
        return Err(ApiError::InvalidHeader {
            field: "upload-defer-length".into(),
            message: "give Upload-Length: uploads of unknown length are not taken".into(),
        });
    }
    let length = number_header(headers, "upload-length")?;
    let metadata = metadata(headers)?;
    let value = |key: &str| metadata.iter().find(|(name, _)| name == key).map(|(_, value)| value.clone());
    let work_id = value("work_id")
        .and_then(|raw| WorkId::parse(&raw))
        .ok_or_else(|| invalid_metadata("work_id names no work"))?;
    let role = match value("role") {
        Some(raw) => MediaRole::parse_field(&raw).map_err(ApiError::from)?,
        None => MediaRole::Main,
    };
    Ok(NewUpload { work_id, role, filename: value("filename"), length })
}

/// `Upload-Metadata`: comma-separated `key base64(value)` pairs.
fn metadata(headers: &HeaderMap) -> Result<Vec<(String, String)>, ApiError> {
    let Some(raw) = headers.get("upload-metadata") else { return Ok(Vec::new()) };
    let raw = raw.to_str().map_err(|_| invalid_metadata("Upload-Metadata is not ASCII"))?;
    let mut pairs = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|pair| !pair.is_empty()) {
        let (key, encoded) = pair.split_once(' ').unwrap_or((pair, ""));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| invalid_metadata("an Upload-Metadata value is not base64"))?;
        let value = String::from_utf8(bytes).map_err(|_| invalid_metadata("an Upload-Metadata value is not UTF-8"))?;
        pairs.push((key.to_owned(), value));
    }
    Ok(pairs)
}

fn invalid_metadata(message: &str) -> ApiError {
    ApiError::InvalidHeader { field: "upload-metadata".into(), message: message.into() }
}
