//! `GET /healthz`: 200 while the database answers, 503 otherwise.

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;
use serde::Serialize;

use super::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct HealthResponse {
    /// `ok` or `unavailable`.
    status: &'static str,
    /// `ok` or `unavailable`.
    database: &'static str,
    /// `sqlite` or `postgres`.
    backend: &'static str,
}

/// Reports whether the service can reach its database.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = HealthResponse), (status = 503, body = HealthResponse)))]
pub async fn get_health(app: web::Data<AppState>) -> HttpResponse {
    let reachable = app.db.read(|conn| conn.batch_execute("SELECT 1")).await.is_ok();
    let backend = if app.settings.database_url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let state = if reachable { "ok" } else { "unavailable" };
    let body = HealthResponse { status: state, database: state, backend };
    if reachable { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}
