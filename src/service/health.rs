//! Whether the service can do its work: the database answers, and the search index keeps up
//! with it.

use diesel::connection::SimpleConnection;

use crate::clock::now;
use crate::db::{Db, outbox, works};
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
    Health { database_reachable, index }
}

async fn index_health(db: &Db, index: &SearchIndex) -> Option<IndexHealth> {
    let counts = db
        .read(|conn| -> diesel::QueryResult<_> { Ok((works::count_live(conn)?, outbox::backlog(conn)?)) })
        .await
        .ok()?;
    let (works, (pending_tasks, oldest)) = counts;
    let documents = index.document_count();
    let stale = oldest.is_some_and(|oldest| now() - oldest > chrono::TimeDelta::seconds(INDEX_LAG_SECS));
    Some(IndexHealth { behind: documents as i64 != works || stale, documents, works, pending_tasks })
}
