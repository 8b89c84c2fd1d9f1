//! Outgoing webhooks to group-chat robots (admins): add, change, remove, and see each
//! robot's latest deliveries with their outcome.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{ApiJson, CurrentUser};
use crate::db::webhooks::{DeliveryRow, WebhookRow};
use crate::error::ApiError;
use crate::service::webhooks as service;

/// `{"kind": "wecom" | "dingtalk", "url", "events": [...]}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    kind: String,
    url: String,
    events: Vec<String>,
}

/// A change: `url` and/or `events`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    url: Option<String>,
    events: Option<Vec<String>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryResponse {
    id: String,
    event: String,
    work_id: Option<String>,
    text: String,
    /// `pending`, `delivered` or `failed` (given up after the last attempt).
    state: String,
    attempts: i32,
    last_status: Option<i32>,
    last_error: Option<String>,
    next_attempt_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRow> for DeliveryResponse {
    fn from(row: DeliveryRow) -> Self {
        let pending = row.state == crate::db::webhooks::PENDING;
        Self {
            id: row.id,
            event: row.event,
            work_id: row.work_id,
            text: row.text,
            state: row.state,
            attempts: row.attempts,
            last_status: row.last_status,
            last_error: row.last_error,
            next_attempt_at: pending.then(|| row.next_attempt_at.and_utc()),
            created_at: row.created_at.and_utc(),
            delivered_at: row.delivered_at.map(|time| time.and_utc()),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookResponse {
    id: String,
    kind: String,
    url: String,
    events: Vec<String>,
    created_at: DateTime<Utc>,
    /// The latest deliveries, newest first.
    deliveries: Vec<DeliveryResponse>,
}

fn response(row: WebhookRow, deliveries: Vec<DeliveryRow>) -> WebhookResponse {
    WebhookResponse {
        events: row.event_names(),
        id: row.id,
        kind: row.kind,
        url: row.url,
        created_at: row.created_at.and_utc(),
        deliveries: deliveries.into_iter().map(DeliveryResponse::from).collect(),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookListResponse {
    items: Vec<WebhookResponse>,
}

/// Every robot with its latest deliveries.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "notifications", responses((status = 200, body = WebhookListResponse), (status = 403)))]
pub async fn list_webhooks(
    app: web::Data<AppState>,
    user: CurrentUser,
) -> Result<web::Json<WebhookListResponse>, ApiError> {
    let listed = service::list(&app.db, &user.0).await?;
    Ok(web::Json(WebhookListResponse {
        items: listed.into_iter().map(|(row, recent)| response(row, recent)).collect(),
    }))
}

/// Adds a robot.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "notifications", request_body = WebhookRequest,
    responses((status = 201, body = WebhookResponse), (status = 403), (status = 422)))]
pub async fn create_webhook(
    app: web::Data<AppState>,
    user: CurrentUser,
    body: ApiJson<WebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner()?;
    let input = service::parse_input(&request.kind, &request.url, &request.events)?;
    let row = service::create(&app.db, &user.0, input).await?;
    Ok(HttpResponse::Created().json(response(row, Vec::new())))
}

/// Changes a robot's address or events.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "notifications", request_body = WebhookPatch,
    responses((status = 200, body = WebhookResponse), (status = 403), (status = 404), (status = 422)))]
pub async fn update_webhook(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: ApiJson<WebhookPatch>,
) -> Result<web::Json<WebhookResponse>, ApiError> {
    let request = body.into_inner()?;
    let events = request.events.as_deref().map(service::parse_events).transpose()?;
    let row = service::update(&app.db, &user.0, path.into_inner(), (request.url, events)).await?;
    Ok(web::Json(response(row, Vec::new())))
}

/// Removes a robot and its queue.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "notifications", responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_webhook(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&app.db, &user.0, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
