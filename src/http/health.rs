//! `GET /healthz`: 200 while the database answers, 503 otherwise.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::AppState;
use crate::service::health;

/// How far the search index is from the database.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IndexHealth {
    /// `ok`, or `behind` when documents differ from live works or tasks wait over 2 s.
    status: &'static str,
    documents: u64,
    works: i64,
    pending_tasks: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HealthResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<IndexHealth>,
    /// `ok` or `unavailable`.
    status: &'static str,
    /// `ok` or `unavailable`.
    database: &'static str,
    /// `sqlite` or `postgres`.
    backend: &'static str,
}

/// Reports whether the service can reach its database, and how the search index keeps up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = HealthResponse), (status = 503, body = HealthResponse)))]
pub async fn get_health(app: web::Data<AppState>) -> HttpResponse {
    let health = health::check(&app.db, &app.search).await;
    let backend = if app.settings.database_url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let state = if health.database_reachable { "ok" } else { "unavailable" };
    let index = health.index.map(|index| IndexHealth {
        status: if index.behind { "behind" } else { "ok" },
        documents: index.documents,
        works: index.works,
        pending_tasks: index.pending_tasks,
    });
    let body = HealthResponse { index, status: state, database: state, backend };
    if health.database_reachable {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
