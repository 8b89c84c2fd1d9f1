//! The webhook delivery worker: drains the persisted queue every [`POLL`], on a blocking
//! thread (the HTTP client blocks), one round at a time.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::db::Db;
use crate::service::webhooks::{self, DeliveryRules};

/// How often the queue is looked at.
pub const POLL: Duration = Duration::from_secs(1);

/// Starts the worker.
pub fn start(db: Db, rules: DeliveryRules) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let (handle, round) = (db.clone(), rules.clone());
            match tokio::task::spawn_blocking(move || webhooks::deliver_due(&handle, &round)).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::error!(%error, "webhook deliveries failed; will retry"),
                Err(error) => tracing::error!(%error, "webhook delivery task failed"),
            }
            tokio::time::sleep(POLL).await;
        }
    })
}
