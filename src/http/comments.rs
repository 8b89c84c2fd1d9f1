//! Comments on works, optionally pinned to a moment of a film cut.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{self, ApiJson, CurrentUser};
use crate::domain::frames::Drawing;
use crate::domain::ids::MediaId;
use crate::error::ApiError;
use crate::service::comments::{self as comment_service, CommentFilter, CommentView, NewComment};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    body: String,
    /// The cut the comment is about.
    media_id: Option<String>,
    /// A moment of the cut, in milliseconds.
    timecode_ms: Option<i64>,
    /// A frame of the cut (0 is the first); wins over `timecode_ms`.
    frame: Option<i64>,
    /// Shapes drawn on the frame, coordinates 0–1: `{"shapes": [{"type": "rect", "x", "y",
    /// "w", "h"} | {"type": "arrow", "x1", "y1", "x2", "y2"} | {"type": "path", "points": [[x, y] …]}]}`.
    #[schema(value_type = Option<Object>)]
    drawing: Option<serde_json::Value>,
    reply_to: Option<String>,
}

/// `PATCH /api/v1/comments/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentPatch {
    resolved: bool,
}

/// `?media_id=&resolved=` of the comment list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CommentQuery {
    /// Only comments on this cut.
    media_id: Option<String>,
    /// Only resolved (`true`) or open (`false`) comments.
    resolved: Option<bool>,
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
    frame: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    drawing: Option<Drawing>,
    reply_to: Option<String>,
    resolved: bool,
    resolved_by: Option<String>,
    resolved_at: Option<DateTime<Utc>>,
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
            frame: row.frame,
            drawing: row.drawing.map(|drawing| drawing.into_value()),
            reply_to: row.reply_to,
            resolved: row.resolved_at.is_some(),
            resolved_by: row.resolved_by.map(|id| id.into_string()),
            resolved_at: row.resolved_at.map(|at| at.and_utc()),
            created_at: view.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentListResponse {
    items: Vec<CommentResponse>,
}

/// A work's comments, oldest first; optionally those of one cut, open or resolved.
#[utoipa::path(get, path = "/api/v1/works/{id}/comments", tag = "production", params(CommentQuery), responses((status = 200, body = CommentListResponse), (status = 400), (status = 404)))]
pub async fn list_comments(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    req: actix_web::HttpRequest,
) -> Result<web::Json<CommentListResponse>, ApiError> {
    let id = extractors::work_id(&path)?;
    let query: CommentQuery = crate::edge::params::parse_query(req.query_string())?;
    let filter = CommentFilter { media_id: query.media_id, resolved: query.resolved };
    let views = comment_service::list(&app.db, &user.0, id, filter).await?;
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
        frame: request.frame,
        drawing: request.drawing.map(Drawing::parse).transpose()?,
        reply_to: request.reply_to,
    };
    let view = comment_service::create(&app.db, &user.0, id, input).await?;
    Ok(HttpResponse::Created().json(CommentResponse::from(view)))
}

/// Resolves a comment or opens it again (the work's creator, reviewers, admins).
#[utoipa::path(patch, path = "/api/v1/comments/{id}", tag = "production", request_body = CommentPatch,
    responses((status = 200, body = CommentResponse), (status = 403), (status = 404), (status = 422)))]
pub async fn patch_comment(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: ApiJson<CommentPatch>,
) -> Result<web::Json<CommentResponse>, ApiError> {
    let patch = body.into_inner()?;
    let view = comment_service::set_resolved(&app.db, &user.0, path.into_inner(), patch.resolved).await?;
    Ok(web::Json(CommentResponse::from(view)))
}
