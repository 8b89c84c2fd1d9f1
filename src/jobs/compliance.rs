//! The compliance sweep: checks works whose word lists changed, whose media were processed or
//! whose publication records changed — everything that is not a save of the work itself
//! (a save checks synchronously). Woken when a list changes; otherwise looks every
//! [`SWEEP_INTERVAL`].

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::db::Db;
use crate::service::compliance::{self, Compliance};

/// How often the sweep looks for unchecked works when nobody wakes it.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(2);

pub fn start(db: Db, checker: Arc<Compliance>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match compliance::sweep_once(&db, &checker).await {
                // A full batch: there may be more right away.
                Ok(count) if count > 0 => {
                    tracing::debug!(count, "works checked for compliance");
                    continue;
                }
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "compliance sweep failed; will retry"),
            }
            let _ = tokio::time::timeout(SWEEP_INTERVAL, checker.sweep.notified()).await;
        }
    })
}
