//! `/admin/nodes`: the microcat nodes serving this database (admins only) — alive or silent,
//! their running jobs and index lag — with where the files are stored.

use actix_web::web;
use askama::Template;

use super::admin::require_admin;
use super::page::{self, Chrome, PageResult, Viewer};
use crate::service::health;
use crate::state::AppState;

struct NodeLine {
    id: String,
    address: String,
    version: String,
    alive: bool,
    seconds_since_heartbeat: i64,
    running_jobs: i64,
    index_lag: i64,
}

#[derive(Template)]
#[template(path = "admin_nodes.html")]
struct NodesPage {
    chrome: Chrome,
    nodes: Vec<NodeLine>,
    store: String,
    backend: &'static str,
}

/// `GET /admin/nodes`.
pub async fn get_nodes(app: web::Data<AppState>, viewer: Viewer) -> PageResult {
    require_admin(&viewer)?;
    let found = health::check(&app.db, &app.search).await;
    let nodes = found
        .nodes
        .into_iter()
        .map(|node| NodeLine {
            id: node.id,
            address: node.address,
            version: node.version,
            alive: node.alive,
            seconds_since_heartbeat: node.seconds_since_heartbeat,
            running_jobs: node.running_jobs,
            index_lag: node.index_lag,
        })
        .collect();
    let backend = if app.settings.database_url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    let store = match (&app.settings.storage_url, &app.settings.s3_endpoint) {
        (Some(url), Some(endpoint)) if url.starts_with("s3://") => format!("{url}（{endpoint}）"),
        (Some(url), _) => url.clone(),
        (None, _) => app.settings.media_dir.display().to_string(),
    };
    page::render(&NodesPage { chrome: viewer.chrome("nodes", None), nodes, store, backend })
}
