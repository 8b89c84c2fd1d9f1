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

/// One node serving this database.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NodeHealth {
    id: String,
    /// Where it answers (its `public_url`, else its bound address).
    address: String,
    version: String,
    /// `alive`, or `silent` when not heard from for 15 s (its jobs go to others when their leases run out).
    status: &'static str,
    seconds_since_heartbeat: i64,
    running_jobs: i64,
    /// Search changes its index had not applied at its last report.
    index_lag: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HealthResponse {
    /// Every node on this database (one with SQLite).
    nodes: Vec<NodeHealth>,
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
    let nodes = health
        .nodes
        .into_iter()
        .map(|node| NodeHealth {
            status: if node.alive { "alive" } else { "silent" },
            seconds_since_heartbeat: node.seconds_since_heartbeat,
            running_jobs: node.running_jobs,
            index_lag: node.index_lag,
            id: node.id,
            address: node.address,
            version: node.version,
        })
        .collect();
    let body = HealthResponse { nodes, index, status: state, database: state, backend };
    if health.database_reachable {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
