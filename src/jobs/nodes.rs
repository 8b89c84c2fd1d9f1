//! This node among the nodes serving one database: its id — kept in its own index folder, so a
//! restarted node is the same node and takes back the jobs it left running — and its
//! heartbeat in the `nodes` table, which the health check lists and the search log's pruning
//! reads (a node silent for long stops holding the log back).

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::clock::now;
use crate::db::{Db, DbError, nodes};

/// How often a node reports that it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(3);
/// A node not heard from for this long is shown as gone (its leases expire on their own).
pub const SILENT_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(15);
/// A node silent this long is forgotten (taken out of the cluster).
const FORGOTTEN_AFTER: chrono::TimeDelta = chrono::TimeDelta::days(7);

const ID_FILE: &str = "node-id";

/// This node's id: read from `<index_dir>/node-id`, created on the first start.
pub fn node_id(index_dir: &Path) -> io::Result<Arc<str>> {
    let path = index_dir.join(ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(Arc::from(text.trim())),
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    std::fs::create_dir_all(index_dir)?;
    let host = hostname();
    let id = format!("{host}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let partial = index_dir.join(format!("{ID_FILE}.partial"));
    std::fs::write(&partial, &id)?;
    std::fs::rename(&partial, &path)?;
    Ok(Arc::from(id.as_str()))
}

fn hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let clean: String = raw.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(32).collect();
    if clean.is_empty() { "node".into() } else { clean }
}

/// Beats every [`HEARTBEAT`] until aborted; `address` is where this node answers.
pub fn start(db: Db, node: Arc<str>, address: String) -> JoinHandle<()> {
    let started_at = now();
    tokio::spawn(async move {
        loop {
            let (id, address) = (Arc::clone(&node), address.clone());
            let beat = db
                .write_bookkeeping(move |conn| -> Result<(), DbError> {
                    let stamp = now();
                    nodes::beat(conn, &id, &address, started_at, stamp)?;
                    nodes::forget_silent(conn, stamp - FORGOTTEN_AFTER)?;
                    Ok(())
                })
                .await;
            if let Err(error) = beat {
                tracing::warn!(%error, "recording this node's heartbeat failed");
            }
            tokio::time::sleep(HEARTBEAT).await;
        }
    })
}
