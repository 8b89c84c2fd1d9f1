//! Comments on works, optionally pinned to a moment of a film cut.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{self, ApiJson, CurrentUser};
use crate::domain::ids::MediaId;
use crate::error::ApiError;
use crate::service::comments::{self as comment_service, CommentView, NewComment};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    body: String,
    media_id: Option<String>,
    /// A moment of the film cut, in milliseconds.
    timecode_ms: Option<i64>,
    reply_to: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentResponse {
    id: String,
    work_id: String,
    author_id: String,
    author_name: String,
    body: String,
    media_id: Option<String>,
    timecode_ms: Option<i64>,
    reply_to: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<CommentView> for CommentResponse {
    fn from(view: CommentView) -> Self {
        let row = view.row;
        Self {
            id: row.id,
            work_id: row.work_id.into_string(),
            author_id: row.author_id.into_string(),
            author_name: view.author_name,
            body: row.body,
            media_id: row.media_id.map(MediaId::into_string),
            timecode_ms: row.timecode_ms,
            reply_to: row.reply_to,
            created_at: view.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentListResponse {
    items: Vec<CommentResponse>,
}

/// A work's comments, oldest first.
#[utoipa::path(get, path = "/api/v1/works/{id}/comments", tag = "production", responses((status = 200, body = CommentListResponse), (status = 404)))]
pub async fn list_comments(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<CommentListResponse>, ApiError> {
    let id = extractors::work_id(&path)?;
    let views = comment_service::list(&app.db, &user.0, id).await?;
    Ok(web::Json(CommentListResponse { items: views.into_iter().map(CommentResponse::from).collect() }))
}

/// Comments on a work (optionally on a media's moment, or as a reply).
#[utoipa::path(post, path = "/api/v1/works/{id}/comments", tag = "production", request_body = CommentRequest,
    responses((status = 201, body = CommentResponse), (status = 404), (status = 422)))]
pub async fn create_comment(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: ApiJson<CommentRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = extractors::work_id(&path)?;
    let request = body.into_inner()?;
    let input = NewComment {
        body: request.body,
        media_id: request.media_id,
        timecode_ms: request.timecode_ms,
        reply_to: request.reply_to,
    };
    let view = comment_service::create(&app.db, &user.0, id, input).await?;
    Ok(HttpResponse::Created().json(CommentResponse::from(view)))
}
