//! The clock, as every layer reads it: UTC without a zone, as the database stores time. A
//! leaf module, so the job workers, the indexer and the services share it without any of
//! them reaching up into another.

use chrono::{NaiveDateTime, Utc};

/// The current time as stored in the database (UTC, without zone).
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}
