//! `GET /healthz`: 200 while the database answers, 503 otherwise.

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;
use serde::Serialize;

use super::AppState;

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

async fn index_health(app: &AppState) -> Option<IndexHealth> {
    let counts = app
        .db
        .read(|conn| -> diesel::QueryResult<_> {
            let works = crate::db::works::count_live(conn)?;
            let backlog = crate::db::outbox::backlog(conn)?;
            Ok((works, backlog))
        })
        .await
        .ok()?;
    let (works, (pending_tasks, oldest)) = counts;
    let documents = app.search.document_count();
    let stale = oldest.is_some_and(|oldest| crate::clock::now() - oldest > chrono::TimeDelta::seconds(2));
    let status = if documents as i64 != works || stale { "behind" } else { "ok" };
    Some(IndexHealth { status, documents, works, pending_tasks })
}

/// Reports whether the service can reach its database, and how the search index keeps up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = HealthResponse), (status = 503, body = HealthResponse)))]
pub async fn get_health(app: web::Data<AppState>) -> HttpResponse {
    let reachable = app.db.read(|conn| conn.batch_execute("SELECT 1")).await.is_ok();
    let backend = if app.settings.database_url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let state = if reachable { "ok" } else { "unavailable" };
    let index = if reachable { index_health(&app).await } else { None };
    let body = HealthResponse { index, status: state, database: state, backend };
    if reachable { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}
