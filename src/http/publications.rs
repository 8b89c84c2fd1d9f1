//! Publication records of works: where and when, with metrics snapshots.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{self, ApiJson, CurrentUser};
use crate::domain::archive::{Metrics, Platform};
use crate::domain::fields::parse_timestamp;
use crate::error::ApiError;
use crate::service::publications::{
    self as service, NewPublication, PublicationPatch, PublicationView, metrics_field, platform_field, url_field,
};

/// `POST /api/v1/works/{id}/publications`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicationRequest {
    /// wechat, weibo, douyin, kuaishou, channels, police_net, other.
    platform: String,
    account: Option<String>,
    /// `http` or `https` only.
    url: Option<String>,
    /// RFC 3339.
    published_at: String,
    metrics: Option<Metrics>,
}

/// `PATCH /api/v1/publications/{id}`: the fields to correct.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicationCorrection {
    platform: Option<String>,
    #[serde(default, deserialize_with = "super::works::present")]
    #[schema(value_type = Option<String>)]
    account: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::works::present")]
    #[schema(value_type = Option<String>)]
    url: Option<Option<String>>,
    published_at: Option<String>,
}

/// `POST /api/v1/publications/{id}/metrics`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsRequest {
    reads: Option<i64>,
    likes: Option<i64>,
    shares: Option<i64>,
    comments: Option<i64>,
    reposts: Option<i64>,
    /// When the platform showed these figures (RFC 3339); now when absent.
    as_of: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetricsSnapshot {
    #[serde(flatten)]
    metrics: Metrics,
    as_of: DateTime<Utc>,
    /// `import` or `manual`.
    source: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicationResponse {
    id: String,
    work_id: String,
    platform: String,
    platform_label: String,
    account: Option<String>,
    url: Option<String>,
    published_at: DateTime<Utc>,
    metrics: Option<MetricsSnapshot>,
}

impl From<PublicationView> for PublicationResponse {
    fn from(view: PublicationView) -> Self {
        let row = view.row;
        let label = Platform::parse(&row.platform).unwrap_or(Platform::Other).label_zh().to_owned();
        Self {
            metrics: view.latest.map(|snapshot| MetricsSnapshot {
                metrics: snapshot.metrics(),
                as_of: snapshot.as_of.and_utc(),
                source: snapshot.source,
            }),
            id: row.id,
            work_id: row.work_id.into_string(),
            platform: row.platform,
            platform_label: label,
            account: row.account,
            url: row.url,
            published_at: row.published_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicationListResponse {
    items: Vec<PublicationResponse>,
}

fn optional_url(raw: Option<String>) -> Result<Option<String>, ApiError> {
    Ok(raw.filter(|text| !text.trim().is_empty()).map(|text| url_field(&text)).transpose()?)
}

/// A work's publication records, earliest first, each with its newest metrics.
#[utoipa::path(get, path = "/api/v1/works/{id}/publications", tag = "production", responses((status = 200, body = PublicationListResponse), (status = 404)))]
pub async fn list_publications(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<PublicationListResponse>, ApiError> {
    let views = service::list(&app.db, &user.0, extractors::work_id(&path)?).await?;
    Ok(web::Json(PublicationListResponse { items: views.into_iter().map(PublicationResponse::from).collect() }))
}

/// Records another place a published work appeared (reviewers, admins).
#[utoipa::path(post, path = "/api/v1/works/{id}/publications", tag = "production", request_body = PublicationRequest,
    responses((status = 201, body = PublicationResponse), (status = 403), (status = 404), (status = 422)))]
pub async fn create_publication(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: ApiJson<PublicationRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = extractors::work_id(&path)?;
    let request = body.into_inner()?;
    let input = NewPublication {
        platform: platform_field(&request.platform)?,
        account: request.account.filter(|text| !text.trim().is_empty()),
        url: optional_url(request.url)?,
        published_at: parse_timestamp("published_at", &request.published_at)?,
        metrics: request.metrics.map(metrics_field).transpose()?,
    };
    let view = service::add(&app.db, &user.0, id, input).await?;
    Ok(HttpResponse::Created().json(PublicationResponse::from(view)))
}

/// Corrects a publication record (reviewers, admins; the audit keeps the old values).
#[utoipa::path(patch, path = "/api/v1/publications/{id}", tag = "production", request_body = PublicationCorrection,
    responses((status = 200, body = PublicationResponse), (status = 403), (status = 404), (status = 422)))]
pub async fn correct_publication(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: ApiJson<PublicationCorrection>,
) -> Result<web::Json<PublicationResponse>, ApiError> {
    let request = body.into_inner()?;
    let patch = PublicationPatch {
        platform: request.platform.as_deref().map(platform_field).transpose()?,
        account: request.account.map(|account| account.filter(|text| !text.trim().is_empty())),
        url: request.url.map(optional_url).transpose()?,
        published_at: request.published_at.as_deref().map(|raw| parse_timestamp("published_at", raw)).transpose()?,
    };
    let view = service::correct(&app.db, &user.0, path.into_inner(), patch).await?;
    Ok(web::Json(PublicationResponse::from(view)))
}

/// Adds a metrics snapshot (reads, likes, shares, comments, reposts) to a publication.
#[utoipa::path(post, path = "/api/v1/publications/{id}/metrics", tag = "production", request_body = MetricsRequest,
    responses((status = 201, body = PublicationResponse), (status = 403), (status = 404), (status = 422)))]
pub async fn add_metrics(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: ApiJson<MetricsRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner()?;
    let figures = Metrics {
        reads: request.reads,
        likes: request.likes,
        shares: request.shares,
        comments: request.comments,
        reposts: request.reposts,
    };
    let metrics = metrics_field(figures)?;
    let as_of = request.as_of.as_deref().map(|raw| parse_timestamp("as_of", raw)).transpose()?;
    let view = service::add_metrics(&app.db, &user.0, path.into_inner(), metrics, as_of).await?;
    Ok(HttpResponse::Created().json(PublicationResponse::from(view)))
}
