//! A work's history and the audit log.

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{self, ApiQuery, CurrentUser};
use crate::db::audit::AuditFilter;
use crate::domain::filter::{non_blank, parse_period};
use crate::domain::page::Page;
use crate::error::ApiError;
use crate::service::audit::{self as audit_service, AuditView};

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
