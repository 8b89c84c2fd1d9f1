//! The `nodes` table: every `microcat serve` on this database, its heartbeat and how far its
//! search index has read the change log.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::outbox::LogPosition;
use super::schema::nodes;

/// One node as registered.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = nodes)]
pub struct NodeRow {
    pub id: String,
    pub address: String,
    pub version: String,
    pub started_at: NaiveDateTime,
    pub heartbeat_at: NaiveDateTime,
    pub index_txid: i64,
    pub index_seq: i64,
    /// Changes in the log its index has not applied yet, as of its last report.
    pub index_lag: i64,
}

/// Records a node's heartbeat (registering it the first time).
pub fn beat(
    conn: &mut DbConnection,
    id: &str,
    address: &str,
    started_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let version = env!("CARGO_PKG_VERSION");
    let updated = diesel::update(nodes::table.find(id))
        .set((
            nodes::address.eq(address),
            nodes::version.eq(version),
            nodes::started_at.eq(started_at),
            nodes::heartbeat_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        register(conn, id, address, started_at, now)?;
    }
    Ok(())
}

fn register(
    conn: &mut DbConnection,
    id: &str,
    address: &str,
    started_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(nodes::table)
        .values((
            nodes::id.eq(id),
            nodes::address.eq(address),
            nodes::version.eq(env!("CARGO_PKG_VERSION")),
            nodes::started_at.eq(started_at),
            nodes::heartbeat_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Records how far a node's index has read the log (registering the node if needed).
pub fn set_index(
    conn: &mut DbConnection,
    id: &str,
    position: LogPosition,
    lag: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let set = (nodes::index_txid.eq(position.txid), nodes::index_seq.eq(position.seq), nodes::index_lag.eq(lag));
    if diesel::update(nodes::table.find(id)).set(set).execute(conn)? == 0 {
        register(conn, id, "", now, now)?;
        diesel::update(nodes::table.find(id)).set(set).execute(conn)?;
    }
    Ok(())
}

/// Every registered node, most recently heard from first.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<NodeRow>> {
    nodes::table.order((nodes::heartbeat_at.desc(), nodes::id.asc())).select(NodeRow::as_select()).load(conn)
}

/// The lowest index position among nodes heard from since `live_since`: the log before it
/// has been applied by every live node.
pub fn slowest_live(conn: &mut DbConnection, live_since: NaiveDateTime) -> QueryResult<Option<LogPosition>> {
    let positions: Vec<(i64, i64)> = nodes::table
        .filter(nodes::heartbeat_at.ge(live_since))
        .select((nodes::index_txid, nodes::index_seq))
        .load(conn)?;
    Ok(positions.into_iter().map(|(txid, seq)| LogPosition { txid, seq }).min())
}

/// Forgets nodes not heard from since `before` (removed from the cluster).
pub fn forget_silent(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(nodes::table.filter(nodes::heartbeat_at.lt(before))).execute(conn)
}
