//! Imports of the published archive from the page (admins): upload export files for a dry
//! run, confirm, follow the progress, download the report.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::AppState;
use super::extractors::CurrentUser;
use super::multipart::{self, Multipart};
use crate::domain::FieldError;
use crate::domain::archive::ArchiveFormat;
use crate::domain::media::sanitize_filename;
use crate::error::ApiError;
use crate::service::import::MAX_FILE_BYTES;
use crate::service::import_jobs::{JobView, Staged};

/// Most files in one import.
const MAX_FILES: usize = 20;

async fn read_text(form: &mut Multipart<web::Payload>, limit: usize) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    let mut body = form.part_body();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk?);
        if bytes.len() > limit {
            return Err(FieldError::invalid("form", format!("a text field is over {limit} bytes")).into());
        }
    }
    Ok(String::from_utf8_lossy(&bytes).trim().to_owned())
}

async fn receive(app: &AppState, form: &mut Multipart<web::Payload>) -> Result<Staged, ApiError> {
    let folder = app
        .media
        .store
        .scratch()
        .temp_folder(&format!("import-{}", uuid::Uuid::now_v7()))
        .map_err(|error| ApiError::internal(anyhow::anyhow!("import folder: {error}")))?;
    let mut upload = Staged { folder, files: Vec::new(), unit: None, format: None };
    while let Some(part) = form.next_part().await? {
        match part.name.as_str() {
            "file" => {
                if upload.files.len() >= MAX_FILES {
                    return Err(FieldError::invalid("file", format!("at most {MAX_FILES} files per import")).into());
                }
                let name = part.filename.as_deref().and_then(sanitize_filename).unwrap_or_else(|| "export".into());
                let path = upload.folder.join(format!("{:02}", upload.files.len()));
                let mut file = tokio::fs::File::create(&path)
                    .await
                    .map_err(|error| ApiError::internal(anyhow::anyhow!("import file: {error}")))?;
                let mut body = form.part_body();
                while let Some(chunk) = body.next().await {
                    file.write_all(&chunk?)
                        .await
                        .map_err(|error| ApiError::internal(anyhow::anyhow!("import file: {error}")))?;
                }
                // tokio writes in the background: without this the import could read the file
                // before its last bytes are in it.
                file.flush().await.map_err(|error| ApiError::internal(anyhow::anyhow!("import file: {error}")))?;
                upload.files.push((path, name));
            }
            "unit" => upload.unit = Some(read_text(form, 200).await?).filter(|unit| !unit.is_empty()),
            "format" => {
                let raw = read_text(form, 64).await?;
                upload.format = match raw.as_str() {
                    "" | "auto" => None,
                    name => Some(ArchiveFormat::parse(name).ok_or_else(|| {
                        FieldError::invalid("format", format!("must be auto or one of {}", ArchiveFormat::names()))
                    })?),
                };
            }
            _ => {}
        }
    }
    if upload.files.is_empty() {
        return Err(FieldError::required("file").into());
    }
    Ok(upload)
}

/// Uploads export files (multipart `file`, repeatable; optional `unit`, `format`) and answers
/// with the dry run: files, counts, the first rows as they will be created, every problem.
#[utoipa::path(post, path = "/api/v1/imports", tag = "archive",
    request_body(content_type = "multipart/form-data", description = "`file` (one or more export files), `unit`, `format` (auto by default)"),
    responses((status = 201, description = "the dry run"), (status = 403), (status = 413), (status = 422)))]
pub async fn create_import(
    app: web::Data<AppState>,
    user: CurrentUser,
    request: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    if !user.0.is_admin() {
        return Err(ApiError::Forbidden("importing needs the admin role".into()));
    }
    let boundary = multipart::boundary(request.headers().get(header::CONTENT_TYPE))?;
    let mut form = Multipart::new(&boundary, body, MAX_FILE_BYTES);
    let upload = match receive(&app, &mut form).await {
        Ok(upload) => upload,
        Err(error) => {
            form.drain(64 * 1024 * 1024).await;
            return Err(error);
        }
    };
    let view = app.imports.stage((&app.db, &app.media), &user.0, upload).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Starts a previewed import.
#[utoipa::path(post, path = "/api/v1/imports/{id}/run", tag = "archive", responses((status = 202), (status = 404), (status = 409)))]
pub async fn run_import(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view: JobView = app.imports.start((&app.db, &app.media), &user.0, &path)?;
    Ok(HttpResponse::Accepted().json(view))
}

/// An import as it stands: phase, progress, outcome.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "archive", responses((status = 200), (status = 404)))]
pub async fn get_import(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<JobView>, ApiError> {
    Ok(web::Json(app.imports.view(&user.0, &path)?))
}

/// The report of a finished import (counts, then every problem with file and row).
#[utoipa::path(get, path = "/api/v1/imports/{id}/report", tag = "archive", responses((status = 200, content_type = "text/plain"), (status = 404), (status = 409)))]
pub async fn import_report(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let report = app.imports.report(&user.0, &path)?;
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(format!("import-report-{}.txt", path.as_str()))],
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .body(report))
}
