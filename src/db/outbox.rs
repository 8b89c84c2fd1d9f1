//! The `search_outbox` table: "work X changed" tasks, written in the same transaction as the
//! change, and removed only after the search index has committed them.

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

/// The oldest pending tasks: `(seq, work_id)`.
pub fn pending(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<(i64, String)>> {
    search_outbox::table
        .order(search_outbox::seq.asc())
        .limit(limit)
        .select((search_outbox::seq, search_outbox::work_id))
        .load(conn)
}

/// Removes applied tasks.
pub fn remove(conn: &mut DbConnection, seqs: &[i64]) -> QueryResult<usize> {
    diesel::delete(search_outbox::table.filter(search_outbox::seq.eq_any(seqs))).execute(conn)
}

/// How many tasks wait, and since when.
pub fn backlog(conn: &mut DbConnection) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let count = search_outbox::table.count().get_result(conn)?;
    let oldest = search_outbox::table.select(diesel::dsl::min(search_outbox::created_at)).first(conn)?;
    Ok((count, oldest))
}
