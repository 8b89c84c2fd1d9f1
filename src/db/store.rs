//! The `store_location` and `store_copies` tables: where stored files live after a
//! `migrate-store`, and what a migration has copied and verified so far.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{store_copies, store_location};

/// The store `migrate-store` last switched to, if any.
pub fn location(conn: &mut DbConnection) -> QueryResult<Option<String>> {
    store_location::table.select(store_location::location).first(conn).optional()
}

/// Records the store every node must use from now on.
pub fn set_location(conn: &mut DbConnection, location: &str, at: NaiveDateTime) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::delete(store_location::table).execute(conn)?;
        diesel::insert_into(store_location::table)
            .values((store_location::id.eq(1), store_location::location.eq(location), store_location::moved_at.eq(at)))
            .execute(conn)
            .map(drop)
    })
}

/// One object copied to a destination and read back with this digest.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = store_copies)]
pub struct CopyRow {
    pub destination: String,
    pub object_path: String,
    pub sha256: String,
    pub size: i64,
    pub copied_at: NaiveDateTime,
}

/// Every object already copied to `destination`.
pub fn copies(conn: &mut DbConnection, destination: &str) -> QueryResult<Vec<CopyRow>> {
    store_copies::table.filter(store_copies::destination.eq(destination)).select(CopyRow::as_select()).load(conn)
}

/// Records a verified copy (replacing an older record of the same object).
pub fn record_copy(conn: &mut DbConnection, row: &CopyRow) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::delete(store_copies::table.find((&row.destination, &row.object_path))).execute(conn)?;
        diesel::insert_into(store_copies::table).values(row).execute(conn).map(drop)
    })
}
