//! Production tracking and review: lifecycle transitions, comments, history and the audit
//! log, the review queue, the board, statistics and exports.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{self, ApiJson, ApiQuery, CurrentUser};
use super::works::WorkResponse;
use crate::db::audit::AuditFilter;
use crate::domain::filter::{Period, non_blank, parse_period};
use crate::domain::ids::UserId;
use crate::domain::lifecycle::Action;
use crate::domain::page::Page;
use crate::domain::work::{Kind, Status};
use crate::error::ApiError;
use crate::service::audit::{self as audit_service, AuditView};
use crate::service::comments::{self as comment_service, CommentView, NewComment};
use crate::service::review::{self as review_service, TransitionInput};
use crate::service::stats::{self as stats_service, GroupBy, Turnaround};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// start_shooting, start_editing, submit, approve, request_changes, reject, publish, archive,
    /// shortlist, recommend, report, adopt, decline, return.
    action: String,
    /// Required for request_changes, reject, return and decline.
    comment: Option<String>,
    /// The work's current version.
    version: Option<i64>,
    /// For publish: where it went out (else the work's own).
    channel: Option<String>,
    external_url: Option<String>,
    published_at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransitionResponse {
    #[serde(flatten)]
    work: WorkResponse,
    /// Reviewers who signed off the current round (两级审核: the first approval).
    signoffs: Vec<String>,
}

/// Moves a work one step along its lifecycle.
#[utoipa::path(post, path = "/api/v1/works/{id}/transitions", tag = "production", request_body = TransitionRequest,
    responses((status = 200, body = TransitionResponse), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn create_transition(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: ApiJson<TransitionRequest>,
) -> Result<web::Json<TransitionResponse>, ApiError> {
    let id = extractors::work_id(&path)?;
    let request = body.into_inner()?;
    let input = TransitionInput {
        action: request.action,
        comment: request.comment,
        version: request.version,
        channel: request.channel,
        external_url: request.external_url,
        published_at: request.published_at,
    };
    let outcome = review_service::transition(&app.db, &app.two_level_kinds, &user.0, id.into_string(), input).await?;
    Ok(web::Json(TransitionResponse {
        work: WorkResponse::full(outcome.work),
        signoffs: outcome.signoffs.into_iter().map(UserId::into_string).collect(),
    }))
}

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
            work_id: row.work_id,
            author_id: row.author_id,
            author_name: view.author_name,
            body: row.body,
            media_id: row.media_id,
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
    let views = comment_service::list(&app.db, &user.0, id.into_string()).await?;
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
    let view = comment_service::create(&app.db, &user.0, id.into_string(), input).await?;
    Ok(HttpResponse::Created().json(CommentResponse::from(view)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntryResponse {
    seq: i64,
    at: DateTime<Utc>,
    actor_id: Option<String>,
    client_addr: Option<String>,
    action: String,
    target_type: String,
    target_id: Option<String>,
    #[schema(value_type = Object)]
    details: serde_json::Value,
    hash: String,
}

impl From<AuditView> for AuditEntryResponse {
    fn from(view: AuditView) -> Self {
        Self {
            seq: view.seq,
            at: view.at,
            actor_id: view.actor_id,
            client_addr: view.client_addr,
            action: view.action,
            target_type: view.target_type,
            target_id: view.target_id,
            details: view.details,
            hash: view.hash,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditListResponse {
    items: Vec<AuditEntryResponse>,
    total: i64,
    page: i64,
    per_page: i64,
}

/// A work's history, oldest first.
#[utoipa::path(get, path = "/api/v1/works/{id}/history", tag = "production", responses((status = 200, body = AuditListResponse), (status = 404)))]
pub async fn get_history(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<AuditListResponse>, ApiError> {
    let id = extractors::work_id(&path)?;
    let entries = crate::service::works::work_history(&app.db, &user.0, id.into_string()).await?;
    let total = entries.len() as i64;
    Ok(web::Json(AuditListResponse {
        items: entries.into_iter().map(AuditEntryResponse::from).collect(),
        total,
        page: 1,
        per_page: total,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// The audit log, newest first (admins).
#[utoipa::path(get, path = "/api/v1/audit", tag = "production", params(AuditQuery), responses((status = 200, body = AuditListResponse), (status = 403)))]
pub async fn list_audit(
    app: web::Data<AppState>,
    user: CurrentUser,
    query: ApiQuery<AuditQuery>,
) -> Result<web::Json<AuditListResponse>, ApiError> {
    let ApiQuery(query) = query;
    let page = Page::parse(query.page, query.per_page).map_err(ApiError::from_query)?;
    let (from, to) = parse_period(query.from, query.to).map_err(ApiError::from_query)?;
    let filter = AuditFilter {
        actor_id: non_blank(query.actor),
        action: non_blank(query.action),
        target_id: non_blank(query.target),
        from: from.map(|time| time.naive_utc()),
        to: to.map(|time| time.naive_utc()),
    };
    let (entries, total) = audit_service::list(&app.db, &user.0, filter, page).await?;
    Ok(web::Json(AuditListResponse {
        items: entries.into_iter().map(AuditEntryResponse::from).collect(),
        total,
        page: page.page,
        per_page: page.per_page,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueItemResponse {
    #[serde(flatten)]
    work: WorkResponse,
    waiting_ms: i64,
    allowed_actions: Vec<Action>,
    signoffs: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueResponse {
    items: Vec<QueueItemResponse>,
    total: usize,
}

/// Works waiting for the caller's decision, oldest first.
#[utoipa::path(get, path = "/api/v1/review-queue", tag = "production", responses((status = 200, body = QueueResponse), (status = 403)))]
pub async fn get_review_queue(
    app: web::Data<AppState>,
    user: CurrentUser,
) -> Result<web::Json<QueueResponse>, ApiError> {
    let items = review_service::review_queue(&app.db, &user.0).await?;
    let total = items.len();
    let items = items
        .into_iter()
        .map(|item| QueueItemResponse {
            work: WorkResponse::summary_of(item.work),
            waiting_ms: item.waiting_ms,
            allowed_actions: item.allowed_actions,
            signoffs: item.signoffs.into_iter().map(UserId::into_string).collect(),
        })
        .collect();
    Ok(web::Json(QueueResponse { items, total }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct BoardQuery {
    kind: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Assignee {
    id: String,
    display_name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoardCardResponse {
    id: String,
    kind: Kind,
    title: String,
    status: Status,
    unit: Option<String>,
    assignees: Vec<Assignee>,
    due_date: Option<String>,
    overdue: bool,
    version: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoardColumn {
    status: Status,
    label: String,
    works: Vec<BoardCardResponse>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoardResponse {
    columns: Vec<BoardColumn>,
}

/// The production board: the works the caller may see, by state.
#[utoipa::path(get, path = "/api/v1/board", tag = "production", params(BoardQuery), responses((status = 200, body = BoardResponse)))]
pub async fn get_board(
    app: web::Data<AppState>,
    user: CurrentUser,
    query: ApiQuery<BoardQuery>,
) -> Result<web::Json<BoardResponse>, ApiError> {
    let kind =
        non_blank(query.0.kind).map(|raw| Kind::parse_field("kind", &raw)).transpose().map_err(ApiError::from_query)?;
    let grouped = review_service::board(&app.db, &user.0, kind).await?;
    let columns = grouped
        .into_iter()
        .map(|(status, cards)| BoardColumn {
            status,
            label: status.label_zh().to_owned(),
            works: cards
                .into_iter()
                .map(|card| BoardCardResponse {
                    id: card.work.id.into_string(),
                    kind: card.work.kind,
                    title: card.work.title,
                    status: card.work.status,
                    unit: card.work.unit,
                    assignees: card
                        .assignees
                        .into_iter()
                        .map(|person| Assignee { id: person.id.into_string(), display_name: person.name })
                        .collect(),
                    due_date: card.work.due_date,
                    overdue: card.overdue,
                    version: card.work.version,
                })
                .collect(),
        })
        .collect();
    Ok(web::Json(BoardResponse { columns }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
    /// kind (default), status, unit or month: how works created in the period are grouped.
    group_by: Option<String>,
    /// For exports: csv or xlsx.
    format: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TurnaroundResponse {
    count: usize,
    median_ms: i64,
    p90_ms: i64,
}

impl From<Turnaround> for TurnaroundResponse {
    fn from(value: Turnaround) -> Self {
        Self { count: value.count, median_ms: value.median_ms, p90_ms: value.p90_ms }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatsResponse {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    group_by: String,
    /// Works created in the period, grouped.
    #[schema(value_type = Object)]
    created: std::collections::BTreeMap<String, u64>,
    /// Works published in the period, by kind.
    #[schema(value_type = Object)]
    published: std::collections::BTreeMap<String, u64>,
    /// Works by state now.
    #[schema(value_type = Object)]
    by_status: std::collections::BTreeMap<String, u64>,
    /// Submission → decision, by kind.
    #[schema(value_type = Object)]
    review_turnaround: std::collections::BTreeMap<String, TurnaroundResponse>,
}

fn period_of(query: &StatsQuery) -> Result<Period, ApiError> {
    parse_period(query.from.clone(), query.to.clone()).map_err(ApiError::from_query)
}

/// Production statistics over a period (this year by default).
#[utoipa::path(get, path = "/api/v1/stats", tag = "production", params(StatsQuery), responses((status = 200, body = StatsResponse)))]
pub async fn get_stats(
    app: web::Data<AppState>,
    user: CurrentUser,
    query: ApiQuery<StatsQuery>,
) -> Result<web::Json<StatsResponse>, ApiError> {
    let ApiQuery(query) = query;
    let (from, to) = period_of(&query)?;
    let group_name = non_blank(query.group_by).unwrap_or_else(|| "kind".into());
    let group_by = GroupBy::parse(&group_name)
        .ok_or_else(|| ApiError::query("group_by", "group_by must be kind, status, unit or month"))?;
    let stats = stats_service::stats(&app.db, &user.0, from, to, group_by).await?;
    Ok(web::Json(StatsResponse {
        from: stats.from,
        to: stats.to,
        group_by: group_name,
        created: stats.created,
        published: stats.published,
        by_status: stats.by_status,
        review_turnaround: stats.review_turnaround.into_iter().map(|(kind, value)| (kind, value.into())).collect(),
    }))
}

/// The works of a period as CSV or Excel, with Chinese headers, for reporting upward.
#[utoipa::path(get, path = "/api/v1/stats/export", tag = "production", params(StatsQuery), responses((status = 200), (status = 400)))]
pub async fn export_stats(
    app: web::Data<AppState>,
    user: CurrentUser,
    query: ApiQuery<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ApiQuery(query) = query;
    let (from, to) = period_of(&query)?;
    let stamp = stats_service::export_stamp();
    let (bytes, content_type, extension) = match non_blank(query.format).as_deref().unwrap_or("csv") {
        "csv" => (stats_service::export_csv(&app.db, &user.0, from, to).await?, "text/csv; charset=utf-8", "csv"),
        "xlsx" => (
            stats_service::export_xlsx(&app.db, &user.0, from, to).await?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        _ => return Err(ApiError::query("format", "format must be csv or xlsx")),
    };
    let disposition = format!("attachment; filename=\"microcat-{stamp}.{extension}\"");
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .body(bytes))
}
