//! The application's shared state: what every API handler and page can reach. It sits above
//! the services (it holds their handles) and below both edges, `http/` and `web/`.

use crate::config::Settings;
use crate::db::Db;
use crate::service::media::MediaContext;
use crate::service::sessions::LoginPolicy;

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    /// Recently authenticated sessions.
    pub sessions: crate::service::session_cache::SessionCache,
    /// Kinds whose approval needs two reviewers.
    pub two_level_kinds: Vec<crate::domain::work::Kind>,
    pub search: std::sync::Arc<crate::search::SearchIndex>,
    /// The compliance check's current word lists.
    pub compliance: std::sync::Arc<crate::service::compliance::Compliance>,
    pub media: MediaContext,
    pub settings: Settings,
    pub login_policy: LoginPolicy,
    /// Imports started from `/admin/import`.
    pub imports: crate::service::import_jobs::ImportJobs,
}
