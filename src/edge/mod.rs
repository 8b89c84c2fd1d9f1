//! What the two edges — the API (`http/`) and the pages (`web/`) — share, so neither reaches
//! into the other: who is asking (one request-authentication function and the CSRF proof),
//! the session cookies, query-string parsing and the API's own URLs.

pub mod auth;
pub mod cookies;
pub mod links;
pub mod params;

use actix_web::{HttpRequest, web};

use crate::error::ApiError;
use crate::state::AppState;

/// The application's state, as every handler and extractor finds it on a request.
pub fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>().cloned().ok_or_else(|| ApiError::internal("application state missing"))
}
