//! Whether the service can do its work: the database answers, and the search index keeps up
//! with it.

use diesel::connection::SimpleConnection;

use crate::clock::now;
use crate::db::{Db, jobs, nodes, outbox, works};
use crate::search::SearchIndex;

/// How long an outbox task may wait before the index counts as behind.
const INDEX_LAG_SECS: i64 = 2;

/// What the health check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The database answered.
    pub database_reachable: bool,
    /// The index, when the database answered.
    pub index: Option<IndexHealth>,
    /// The nodes serving this database, when it answered.
    pub nodes: Vec<NodeHealth>,
}

/// One node as the others see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeHealth {
    pub id: String,
    pub address: String,
    pub version: String,
    /// Heard from within the last few heartbeats.
    pub alive: bool,
    pub seconds_since_heartbeat: i64,
    /// Media jobs whose lease it holds.
    pub running_jobs: i64,
    /// Search changes its index had not applied, at its last report.
    pub index_lag: i64,
}

/// How far the search index is from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexHealth {
    /// Documents differ from live works, or a task waited too long.
    pub behind: bool,
    pub documents: u64,
    pub works: i64,
    pub pending_tasks: i64,
}

/// Checks the database, then the index against it.
pub async fn check(db: &Db, index: &SearchIndex) -> Health {
    let database_reachable = db.read(|conn| conn.batch_execute("SELECT 1")).await.is_ok();
    let index = if database_reachable { index_health(db, index).await } else { None };
    let nodes = if database_reachable { nodes(db).await.unwrap_or_default() } else { Vec::new() };
    Health { database_reachable, index, nodes }
}

/// Every node serving this database, as the others see it.
pub async fn nodes(db: &Db) -> Result<Vec<NodeHealth>, crate::db::DbError> {
    let (rows, running) = db
        .read(|conn| -> Result<_, crate::db::DbError> { Ok((nodes::all(conn)?, jobs::running_by_node(conn)?)) })
        .await?;
    let stamp = now();
    let node_health = |row: nodes::NodeRow| {
        let running_jobs =
            running.iter().find(|(node, _)| node.as_deref() == Some(row.id.as_str())).map_or(0, |(_, count)| *count);
        NodeHealth {
            alive: stamp - row.heartbeat_at <= crate::jobs::nodes::SILENT_AFTER,
            seconds_since_heartbeat: (stamp - row.heartbeat_at).num_seconds().max(0),
            running_jobs,
            index_lag: row.index_lag,
            id: row.id,
            address: row.address,
            version: row.version,
        }
    };
    Ok(rows.into_iter().map(node_health).collect())
}

async fn index_health(db: &Db, index: &SearchIndex) -> Option<IndexHealth> {
    let position = crate::jobs::indexer::position_of(&index.payload());
    let counts = db
        .read(move |conn| -> diesel::QueryResult<_> {
            Ok((works::count_live(conn)?, outbox::backlog_after(conn, position)?))
        })
        .await
        .ok()?;
    let (works, (pending_tasks, oldest)) = counts;
    let documents = index.document_count();
    let stale = oldest.is_some_and(|oldest| now() - oldest > chrono::TimeDelta::seconds(INDEX_LAG_SECS));
    Some(IndexHealth { behind: documents as i64 != works || stale, documents, works, pending_tasks })
}
