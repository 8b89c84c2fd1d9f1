//! Media endpoints: upload (multipart, streamed), list, read, delete, reprocess, and serving
//! originals (with Range) and derivatives (strong ETags, long cache lifetimes).

use actix_files::NamedFile;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;

use super::AppState;
use super::extractors::{self, CurrentUser};
use super::multipart::{self, Multipart};
use crate::domain::ids::MediaId;
use crate::domain::media::{Derivative, MediaRole, MediaStatus};
use crate::domain::preview::PreviewStatus;
use crate::edge::links;
use crate::error::{ApiError, codes};
use crate::service::media::{self as service, MediaView, ServedFile};
use crate::storage::ingest::ReceivedFile;

/// Most bytes of an already refused upload read and discarded, so the client sees the answer
/// instead of a reset connection.
const DRAIN_LIMIT_BYTES: usize = 64 * 1024 * 1024;

/// Most bytes read after a complete form.
const EPILOGUE_LIMIT_BYTES: usize = 64 * 1024;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MediaError {
    code: String,
    message: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Thumbnails {
    #[serde(skip_serializing_if = "Option::is_none")]
    small: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    large: Option<String>,
}

/// A film's playable rendition: `not_needed` when the original plays in every browser.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preview {
    status: PreviewStatus,
    /// 0–100 while it is made; 100 when ready.
    progress: i32,
    /// Set once ready.
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Storyboard {
    image: String,
    vtt: String,
}

/// A medium as clients see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MediaResponse {
    id: String,
    work_id: String,
    sha256: String,
    size: i64,
    content_type: String,
    original_filename: Option<String>,
    role: MediaRole,
    version: i32,
    status: MediaStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<MediaError>,
    width: Option<i32>,
    height: Option<i32>,
    duration_ms: Option<i64>,
    rotation: Option<i32>,
    video_codec: Option<String>,
    /// The decoder's pixel format (`yuv420p`, `yuv420p10le` …).
    pixel_format: Option<String>,
    audio_codec: Option<String>,
    frame_rate: Option<f64>,
    bitrate: Option<i64>,
    taken_at: Option<String>,
    camera: Option<String>,
    original_url: String,
    thumbnails: Thumbnails,
    #[serde(skip_serializing_if = "Option::is_none")]
    poster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storyboard: Option<Storyboard>,
    preview: Preview,
    /// What a player should load: the preview when one is needed and ready, else the
    /// original (`null` for photos).
    playback_url: Option<String>,
    created_by: String,
    created_at: DateTime<Utc>,
}

impl From<MediaView> for MediaResponse {
    fn from(view: MediaView) -> Self {
        let id = view.row.id.clone();
        let url = |derivative: Derivative| view.has(derivative).then(|| links::derivative(&id, derivative));
        let storyboard = url(Derivative::StoryboardImage)
            .zip(url(Derivative::StoryboardVtt))
            .map(|(image, vtt)| Storyboard { image, vtt });
        let thumbnails = Thumbnails { small: url(Derivative::Small), large: url(Derivative::Large) };
        let poster = url(Derivative::Poster);
        let preview_url = url(Derivative::Preview).filter(|_| view.row.preview_status == PreviewStatus::Ready);
        let playback_url = links::playback(&view);
        let row = view.row;
        let preview = Preview {
            status: row.preview_status,
            progress: row.preview_progress,
            url: preview_url,
            error: row.preview_error.clone(),
        };
        let error = row
            .error_code
            .clone()
            .map(|code| MediaError { code, message: row.error_message.clone().unwrap_or_default() });
        Self {
            thumbnails,
            poster,
            storyboard,
            preview,
            playback_url,
            original_url: links::original(&id),
            error,
            role: row.role,
            status: row.status,
            id: row.id.into_string(),
            work_id: row.work_id.into_string(),
            sha256: row.sha256,
            size: row.size,
            content_type: row.content_type,
            original_filename: row.original_filename,
            version: row.version,
            width: row.width,
            height: row.height,
            duration_ms: row.duration_ms,
            rotation: row.rotation,
            video_codec: row.video_codec,
            pixel_format: row.pixel_format,
            audio_codec: row.audio_codec,
            frame_rate: row.frame_rate,
            bitrate: row.bitrate,
            taken_at: row.taken_at,
            camera: row.camera,
            created_by: row.created_by.into_string(),
            created_at: row.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MediaListResponse {
    items: Vec<MediaResponse>,
}

/// Uploads one file to a work (multipart field `file`, optional `role`).
#[utoipa::path(post, path = "/api/v1/works/{id}/media", tag = "media",
    request_body(content_type = "multipart/form-data", description = "field `file` (required) and `role`: main | cover | still | attachment"),
    responses((status = 201, body = MediaResponse), (status = 400), (status = 403), (status = 404), (status = 409), (status = 413), (status = 415), (status = 422), (status = 507)))]
pub async fn upload_media(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    request: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let work_id = extractors::work_id(&path)?;
    let boundary = multipart::boundary(request.headers().get(header::CONTENT_TYPE))?;
    let mut form = Multipart::new(&boundary, body, app.media.limits.form_bytes());
    let (received, role) = match receive_form(&app, &user, &work_id, &mut form).await {
        Ok(parts) => parts,
        Err(error) => {
            form.drain(DRAIN_LIMIT_BYTES).await;
            return Err(error);
        }
    };
    let view = service::store_upload(&app.db, &app.media, &user.0, work_id, received, role).await?;
    let location = links::media(&view.row.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(MediaResponse::from(view)))
}

async fn receive_form(
    app: &AppState,
    user: &CurrentUser,
    work_id: &crate::domain::ids::WorkId,
    form: &mut Multipart<web::Payload>,
) -> Result<(ReceivedFile, MediaRole), ApiError> {
    service::authorize_upload(&app.db, &user.0, work_id).await?;
    let mut received: Option<ReceivedFile> = None;
    let mut role = MediaRole::Main;
    while let Some(part) = form.next_part().await? {
        match part.name.as_str() {
            "file" if received.is_some() => return Err(one_file_only()),
            "file" => {
                let body = form.part_body();
                received = Some(service::receive_file(&app.media, body, part.filename.as_deref()).await?);
            }
            "role" => role = MediaRole::parse_field(&read_text(form, &part.name, 64).await?)?,
            // Other fields are skipped by the next `next_part`.
            _ => {}
        }
    }
    // What may follow the form's end (a CRLF, at most an epilogue) is read, so the
    // connection can serve the client's next request.
    form.drain(EPILOGUE_LIMIT_BYTES).await;
    let file = received.ok_or_else(|| ApiError::Field(crate::domain::FieldError::required("file")))?;
    Ok((file, role))
}

fn one_file_only() -> ApiError {
    ApiError::Unprocessable {
        code: codes::TOO_MANY_FILES,
        message: "send one file per request".into(),
        field: Some("file".into()),
    }
}

async fn read_text(form: &mut Multipart<web::Payload>, name: &str, limit: usize) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    let mut body = form.part_body();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::Field(crate::domain::FieldError::too_long(
                name,
                limit,
                crate::domain::fields::LimitUnit::Bytes,
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ApiError::MalformedForm("form field is not valid utf-8".into()))
}

/// A work's media.
#[utoipa::path(get, path = "/api/v1/works/{id}/media", tag = "media", responses((status = 200, body = MediaListResponse), (status = 404)))]
pub async fn list_media(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<MediaListResponse>, ApiError> {
    let views = service::list_media(&app.db, &user.0, extractors::work_id(&path)?).await?;
    Ok(web::Json(MediaListResponse { items: views.into_iter().map(MediaResponse::from).collect() }))
}

fn media_id(raw: &str) -> Result<MediaId, ApiError> {
    MediaId::parse(raw).ok_or_else(|| ApiError::InvalidPath(format!("media id {raw:?} is not a uuid")))
}

/// One medium, with processing status, metadata and derivative URLs.
#[utoipa::path(get, path = "/api/v1/media/{id}", tag = "media", responses((status = 200, body = MediaResponse), (status = 404)))]
pub async fn get_media(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<MediaResponse>, ApiError> {
    let view = service::get_media(&app.db, &user.0, media_id(&path)?).await?;
    Ok(web::Json(MediaResponse::from(view)))
}

/// Removes a medium while its work is editable.
#[utoipa::path(delete, path = "/api/v1/media/{id}", tag = "media", responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn delete_media(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    service::delete_media(&app.db, &app.media, &user.0, media_id(&path)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Queues processing again (reviewers and admins).
#[utoipa::path(post, path = "/api/v1/media/{id}/reprocess", tag = "media", responses((status = 202, body = MediaResponse), (status = 403), (status = 404)))]
pub async fn reprocess_media(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = service::reprocess(&app.db, &app.media, &user.0, media_id(&path)?).await?;
    Ok(HttpResponse::Accepted().json(MediaResponse::from(view)))
}

/// The original bytes, with Range support.
#[utoipa::path(get, path = "/api/v1/media/{id}/original", tag = "media", responses((status = 200), (status = 206), (status = 404), (status = 416)))]
pub async fn get_original(
    req: HttpRequest,
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let served = service::original(&app.db, &user.0, media_id(&path)?).await?;
    let mut response = serve_file(&req, &app, &served, true).await?;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    Ok(response)
}

/// A thumbnail, poster or storyboard file.
#[utoipa::path(get, path = "/api/v1/media/{id}/derivatives/{name}", tag = "media",
    params(("name" = String, Path, description = "small.jpg, large.jpg, poster.jpg, storyboard.jpg or storyboard.vtt")),
    responses((status = 200), (status = 304), (status = 404)))]
pub async fn get_derivative(
    req: HttpRequest,
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = path.into_inner();
    let served = service::derivative(&app.db, &user.0, media_id(&id)?, &name).await?;
    if if_none_match(&req, &served.etag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, served.etag)).finish());
    }
    let mut response = serve_file(&req, &app, &served, false).await?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    Ok(response)
}

fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"))
}

/// Streams a file with its type, a disposition (inline only for plain images, video and
/// audio), our strong ETag, and Range handling.
async fn serve_file(
    req: &HttpRequest,
    app: &AppState,
    served: &ServedFile,
    original: bool,
) -> Result<HttpResponse, ApiError> {
    let mime: actix_web::mime::Mime = served.content_type.parse().unwrap_or(actix_web::mime::APPLICATION_OCTET_STREAM);
    let disposition = disposition_of(served, &mime, original);
    let mut response = match service::locate(&app.media, served).await? {
        service::Located::Path(path) => serve_local(req, &path, mime, disposition).await?,
        service::Located::Stored { size } => serve_stored(req, app, served, size, mime, disposition)?,
    };
    if let Ok(value) = HeaderValue::from_str(&served.etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}

/// Inline only for plain images, video and audio (and derivatives); a download otherwise.
fn disposition_of(served: &ServedFile, mime: &actix_web::mime::Mime, original: bool) -> ContentDisposition {
    let inline =
        matches!(mime.type_(), actix_web::mime::IMAGE | actix_web::mime::VIDEO | actix_web::mime::AUDIO) || !original;
    let mut parameters = Vec::new();
    if let Some(name) = &served.filename {
        parameters.push(DispositionParam::FilenameExt(actix_web::http::header::ExtendedValue {
            charset: actix_web::http::header::Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: name.clone().into_bytes(),
        }));
    }
    ContentDisposition {
        disposition: if inline { DispositionType::Inline } else { DispositionType::Attachment },
        parameters,
    }
}

/// A file in a folder store, through actix-files (Range, sendfile).
async fn serve_local(
    req: &HttpRequest,
    path: &std::path::Path,
    mime: actix_web::mime::Mime,
    disposition: ContentDisposition,
) -> Result<HttpResponse, ApiError> {
    let file = NamedFile::open_async(path).await.map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            ApiError::from(service::MediaError::FileMissing)
        } else {
            ApiError::internal(format!("opening {}: {error}", path.display()))
        }
    })?;
    Ok(file
        .set_content_type(mime)
        .set_content_disposition(disposition)
        .use_etag(false)
        .use_last_modified(false)
        .into_response(req))
}

/// An object in a remote store, streamed through with one Range (several ranges get the
/// whole file, which HTTP allows; an unsatisfiable one gets 416 with the size).
fn serve_stored(
    req: &HttpRequest,
    app: &AppState,
    served: &ServedFile,
    size: u64,
    mime: actix_web::mime::Mime,
    disposition: ContentDisposition,
) -> Result<HttpResponse, ApiError> {
    let requested = req.headers().get(header::RANGE).and_then(|value| value.to_str().ok());
    let ranges = requested.map(|value| actix_files::HttpRange::parse(value, size));
    let (mut builder, offset, length) = match ranges {
        Some(Ok(ranges)) if ranges.len() == 1 => {
            let range = &ranges[0];
            let mut partial = HttpResponse::PartialContent();
            let last = range.start + range.length.saturating_sub(1);
            partial.insert_header((header::CONTENT_RANGE, format!("bytes {}-{last}/{size}", range.start)));
            (partial, range.start, range.length)
        }
        Some(Err(_)) => return Err(ApiError::RangeNotSatisfiable { size: Some(size) }),
        Some(Ok(_)) | None => (HttpResponse::Ok(), 0, size),
    };
    Ok(builder
        .content_type(mime)
        .insert_header(disposition)
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .no_chunking(length)
        .streaming(service::stream(&app.media, served, offset, length)))
}
