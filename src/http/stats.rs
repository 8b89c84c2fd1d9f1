//! Production statistics and their CSV and Excel exports.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{ApiQuery, CurrentUser};
use crate::domain::filter::{Period, non_blank, parse_period};
use crate::error::ApiError;
use crate::service::stats::{self as stats_service, GroupBy, Turnaround};

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
    /// Publications in the period by platform (`wechat`, `weibo` …); a work published in two
    /// places counts in both.
    published_by_platform: std::collections::BTreeMap<String, u64>,
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
    let asked = period_of(&query)?;
    let group_name = non_blank(query.group_by).unwrap_or_else(|| "kind".into());
    let group_by = GroupBy::parse(&group_name)
        .ok_or_else(|| ApiError::query("group_by", "group_by must be kind, status, unit or month"))?;
    let stats = stats_service::stats(&app.db, &user.0, asked, group_by).await?;
    Ok(web::Json(StatsResponse {
        from: stats.from,
        to: stats.to,
        group_by: group_name,
        created: stats.created,
        published: stats.published,
        published_by_platform: stats.published_by_platform,
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
    let asked = period_of(&query)?;
    let stamp = stats_service::export_stamp();
    let (bytes, content_type, extension) = match non_blank(query.format).as_deref().unwrap_or("csv") {
        "csv" => (stats_service::export_csv(&app.db, &user.0, asked).await?, "text/csv; charset=utf-8", "csv"),
        "xlsx" => (
            stats_service::export_xlsx(&app.db, &user.0, asked).await?,
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
