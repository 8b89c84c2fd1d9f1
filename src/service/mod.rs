//! Services: one function per use case, combining domain rules with the database. Handlers
//! call exactly one of these; nothing here knows about HTTP requests or responses.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod comments;
pub mod media;
pub mod review;
pub mod search;
pub mod session_cache;
pub mod stats;
pub mod works;

use chrono::{NaiveDateTime, Utc};

/// The current time as stored in the database (UTC, without zone).
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}
