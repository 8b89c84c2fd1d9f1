//! Removes resumable uploads past their expiry (24 h after creation), with their stored
//! pieces. Every node runs it; removing an upload twice is harmless.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::db::Db;
use crate::service::media::MediaContext;
use crate::service::uploads;

/// How often expired uploads are looked for.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(300);

pub fn start(db: Db, media: MediaContext, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match uploads::sweep_expired(&db, &media).await {
                Ok(count) if count > 0 => tracing::info!(count, "expired uploads removed"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "removing expired uploads failed; will retry"),
            }
            tokio::time::sleep(interval).await;
        }
    })
}
