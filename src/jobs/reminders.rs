//! The daily sweep that tells people about overdue works. It runs every
//! [`SWEEP_INTERVAL`]; a notice carries the day in its dedupe key, so however often it runs
//! (and however many servers run it), each person hears about a work once a day.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::db::Db;
use crate::service::notify;

/// How often the sweep looks for overdue works.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// Starts the sweep; the first run comes right after start.
pub fn start(db: Db, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let handle = db.clone();
            // The team's day is Beijing's.
            let today = chrono::Utc::now().with_timezone(&crate::clock::beijing()).date_naive();
            match tokio::task::spawn_blocking(move || notify::remind_overdue(&handle, today)).await {
                Ok(Ok(count)) if count > 0 => tracing::info!(count, "overdue works reminded"),
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::error!(%error, "overdue reminders failed; will retry"),
                Err(error) => tracing::error!(%error, "overdue reminder task failed"),
            }
            tokio::time::sleep(interval).await;
        }
    })
}
