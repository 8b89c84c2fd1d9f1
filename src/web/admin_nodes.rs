//! `/admin/nodes`: the microcat nodes serving this database (admins only) — alive or silent,
//! their running jobs and index lag — with where the files are stored.

use actix_web::web;
use askama::Template;

use super::admin::require_admin;
use super::page::{self, Chrome, PageResult, Viewer};
use crate::db::DatabaseUrl;
use crate::error::ApiError;
use crate::service::health::{self, NodeHealth};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin_nodes.html")]
struct NodesPage {
    chrome: Chrome,
    nodes: Vec<NodeHealth>,
    store: String,
    backend: &'static str,
}

/// `GET /admin/nodes`.
pub async fn get_nodes(app: web::Data<AppState>, viewer: Viewer) -> PageResult {
    require_admin(&viewer)?;
    let nodes = health::nodes(&app.db).await.map_err(ApiError::from)?;
    let backend = match DatabaseUrl::parse(&app.settings.database_url).map(|url| url.backend()) {
        Ok("postgres") => "PostgreSQL",
        _ => "SQLite",
    };
    // Where the files are, as configured (the store's own description is for logs, in English).
    let store = match (&app.settings.storage_url, &app.settings.s3_endpoint) {
        (Some(url), Some(endpoint)) if url.starts_with("s3://") => format!("{url}（{endpoint}）"),
        (Some(url), _) => url.clone(),
        (None, _) => app.settings.media_dir.display().to_string(),
    };
    page::render(&NodesPage { chrome: viewer.chrome("nodes", None), nodes, store, backend })
}
