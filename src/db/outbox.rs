//! The `search_outbox` table, the search change log: "work X changed", written in the same
//! transaction as the change. Every node reads it in order from its own position (kept in its
//! index's commit), and rows are pruned once every live node has passed them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::search_outbox;

/// Records that a work's searchable state changed.
pub fn enqueue(conn: &mut DbConnection, work_id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(search_outbox::table)
        .values((search_outbox::work_id.eq(work_id), search_outbox::created_at.eq(now)))
        .execute(conn)
        .map(drop)
}

/// A place in the change log: rows are applied in `(txid, seq)` order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogPosition {
    /// The id of the transaction that wrote the row (PostgreSQL); 0 on SQLite.
    pub txid: i64,
    pub seq: i64,
}

#[derive(QueryableByName)]
struct Horizon {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    horizon: i64,
}

/// Rows of transactions below this id can all be read: every such transaction has ended, so
/// no row below it can still appear (PostgreSQL's snapshot xmin). A row written by a
/// transaction that commits late is read once it has, never skipped. SQLite has one writer at
/// a time, whose rows commit in sequence order: everything is readable.
pub fn horizon(conn: &mut DbConnection) -> QueryResult<i64> {
    match conn {
        DbConnection::Postgresql(pg) => {
            let row: Horizon =
                diesel::sql_query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon")
                    .get_result(pg)?;
            Ok(row.horizon)
        }
        DbConnection::Sqlite(_) => Ok(i64::MAX),
    }
}

/// Up to `limit` changes after `from` and below `horizon`, in log order.
pub fn after(
    conn: &mut DbConnection,
    from: LogPosition,
    horizon: i64,
    limit: i64,
) -> QueryResult<Vec<(LogPosition, String)>> {
    let rows: Vec<(i64, i64, String)> = search_outbox::table
        .filter(
            search_outbox::txid
                .gt(from.txid)
                .or(search_outbox::txid.eq(from.txid).and(search_outbox::seq.gt(from.seq))),
        )
        .filter(search_outbox::txid.lt(horizon))
        .order((search_outbox::txid.asc(), search_outbox::seq.asc()))
        .limit(limit)
        .select((search_outbox::txid, search_outbox::seq, search_outbox::work_id))
        .load(conn)?;
    Ok(rows.into_iter().map(|(txid, seq, work_id)| (LogPosition { txid, seq }, work_id)).collect())
}

/// Where an index built from the database from now on continues: every change it might not
/// have seen comes after this position.
pub fn start_position(conn: &mut DbConnection) -> QueryResult<LogPosition> {
    match conn {
        DbConnection::Postgresql(_) => Ok(LogPosition { txid: horizon(conn)?, seq: i64::MIN }),
        DbConnection::Sqlite(_) => {
            let last: Option<i64> = search_outbox::table.select(diesel::dsl::max(search_outbox::seq)).first(conn)?;
            Ok(LogPosition { txid: 0, seq: last.unwrap_or(0) })
        }
    }
}

/// How many changes after `from` wait, and since when.
pub fn backlog_after(conn: &mut DbConnection, from: LogPosition) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let waiting = search_outbox::table.filter(
        search_outbox::txid.gt(from.txid).or(search_outbox::txid.eq(from.txid).and(search_outbox::seq.gt(from.seq))),
    );
    let count = waiting.count().get_result(conn)?;
    let oldest = waiting.select(diesel::dsl::min(search_outbox::created_at)).first(conn)?;
    Ok((count, oldest))
}

/// Deletes the changes at or before `through` (every live node has applied them) and records
/// the position, so a node whose index is older knows to rebuild.
pub fn prune_through(conn: &mut DbConnection, through: LogPosition) -> QueryResult<usize> {
    use super::schema::search_log_pruned as pruned;
    let removed = diesel::delete(
        search_outbox::table.filter(
            search_outbox::txid
                .lt(through.txid)
                .or(search_outbox::txid.eq(through.txid).and(search_outbox::seq.le(through.seq))),
        ),
    )
    .execute(conn)?;
    if removed > 0 && pruned_through(conn)?.is_none_or(|before| before < through) {
        diesel::delete(pruned::table).execute(conn)?;
        diesel::insert_into(pruned::table)
            .values((pruned::id.eq(1), pruned::txid.eq(through.txid), pruned::seq.eq(through.seq)))
            .execute(conn)?;
    }
    Ok(removed)
}

/// The position through which the log has been pruned.
pub fn pruned_through(conn: &mut DbConnection) -> QueryResult<Option<LogPosition>> {
    use super::schema::search_log_pruned as pruned;
    let row: Option<(i64, i64)> = pruned::table.select((pruned::txid, pruned::seq)).first(conn).optional()?;
    Ok(row.map(|(txid, seq)| LogPosition { txid, seq }))
}
