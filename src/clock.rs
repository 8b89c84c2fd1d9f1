//! The clock, as every layer reads it: UTC without a zone, as the database stores time. A
//! leaf module, so the job workers, the indexer and the services share it without any of
//! them reaching up into another.

use chrono::{FixedOffset, NaiveDateTime, Utc};

/// The team's time zone (Beijing time, UTC+8, no daylight saving): what people read and type.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The current time as stored in the database (UTC, without zone).
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}
