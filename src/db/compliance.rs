//! The `wordlists` and `findings` tables, and the findings counts kept on `works`.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, max};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{findings, wordlists, works};

/// One admin-managed word list.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = wordlists)]
pub struct WordlistRow {
    pub id: String,
    pub name: String,
    /// Category of its terms unless a line names its own.
    pub category: String,
    /// `block` or `review`, unless a line names its own.
    pub level: String,
    /// The list as uploaded (one term a line, or `term<TAB>category<TAB>level`).
    pub terms: String,
    pub term_count: i32,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One finding on a work.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = findings)]
pub struct FindingRow {
    pub id: String,
    pub work_id: String,
    pub field: String,
    pub start_char: i32,
    pub end_char: i32,
    pub category: String,
    pub level: String,
    /// Masked: the matched personal data itself is never stored here.
    pub excerpt: String,
    /// `open`, `fixed` or `overridden`.
    pub status: String,
    pub override_by: Option<String>,
    pub override_at: Option<NaiveDateTime>,
    pub override_reason: Option<String>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What identifies the current state of all lists: their number and latest change.
pub type ListsVersion = (i64, Option<NaiveDateTime>);

pub fn lists_version(conn: &mut DbConnection) -> QueryResult<ListsVersion> {
    wordlists::table.select((count_star(), max(wordlists::updated_at))).first(conn)
}

pub fn all_lists(conn: &mut DbConnection) -> QueryResult<Vec<WordlistRow>> {
    wordlists::table
        .order((wordlists::created_at.asc(), wordlists::id.asc()))
        .select(WordlistRow::as_select())
        .load(conn)
}

pub fn find_list(conn: &mut DbConnection, id: &str) -> QueryResult<Option<WordlistRow>> {
    wordlists::table.find(id).select(WordlistRow::as_select()).first(conn).optional()
}

pub fn insert_list(conn: &mut DbConnection, row: &WordlistRow) -> QueryResult<()> {
    diesel::insert_into(wordlists::table).values(row).execute(conn).map(drop)
}

pub fn update_list(conn: &mut DbConnection, row: &WordlistRow) -> QueryResult<()> {
    diesel::update(wordlists::table.find(&row.id))
        .set((
            wordlists::name.eq(&row.name),
            wordlists::category.eq(&row.category),
            wordlists::level.eq(&row.level),
            wordlists::terms.eq(&row.terms),
            wordlists::term_count.eq(row.term_count),
            wordlists::updated_at.eq(row.updated_at),
        ))
        .execute(conn)
        .map(drop)
}

pub fn delete_list(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(wordlists::table.find(id)).execute(conn)? > 0)
}

/// Every live work is to be checked again (its lists changed).
pub fn mark_all_unchecked(conn: &mut DbConnection) -> QueryResult<()> {
    diesel::update(works::table.filter(works::checked_at.is_not_null()))
        .set(works::checked_at.eq(None::<NaiveDateTime>))
        .execute(conn)
        .map(drop)
}

/// A work is to be checked again by the sweep (its media or publication records changed:
/// what a save of the work itself checks at once).
pub fn mark_unchecked(conn: &mut DbConnection, work_id: &str) -> QueryResult<()> {
    diesel::update(works::table.find(work_id)).set(works::checked_at.eq(None::<NaiveDateTime>)).execute(conn).map(drop)
}

/// Up to `limit` live works not checked since their lists changed.
pub fn unchecked_works(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<String>> {
    works::table
        .filter(works::checked_at.is_null().and(works::deleted_at.is_null()))
        .select(works::id)
        .limit(limit)
        .load(conn)
}

pub fn for_work(conn: &mut DbConnection, work_id: &str) -> QueryResult<Vec<FindingRow>> {
    findings::table
        .filter(findings::work_id.eq(work_id))
        .order((findings::created_at.asc(), findings::id.asc()))
        .select(FindingRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, work_id: &str, id: &str) -> QueryResult<Option<FindingRow>> {
    findings::table
        .filter(findings::work_id.eq(work_id).and(findings::id.eq(id)))
        .select(FindingRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConnection, rows: &[FindingRow]) -> QueryResult<()> {
    // One statement each: the multi-backend connection has no batch insert.
    for row in rows {
        diesel::insert_into(findings::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// A finding still there: its place and level now.
pub fn move_to(
    conn: &mut DbConnection,
    id: &str,
    place: (i32, i32),
    level: &str,
    stamp: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(findings::table.find(id))
        .set((
            findings::start_char.eq(place.0),
            findings::end_char.eq(place.1),
            findings::level.eq(level),
            findings::updated_at.eq(stamp),
        ))
        .execute(conn)
        .map(drop)
}

pub fn mark_fixed(conn: &mut DbConnection, ids: &[String], stamp: NaiveDateTime) -> QueryResult<()> {
    diesel::update(findings::table.filter(findings::id.eq_any(ids)))
        .set((findings::status.eq("fixed"), findings::updated_at.eq(stamp)))
        .execute(conn)
        .map(drop)
}

pub fn set_override(
    conn: &mut DbConnection,
    id: &str,
    by: &str,
    reason: &str,
    stamp: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(findings::table.find(id))
        .set((
            findings::status.eq("overridden"),
            findings::override_by.eq(by),
            findings::override_at.eq(stamp),
            findings::override_reason.eq(reason),
            findings::updated_at.eq(stamp),
        ))
        .execute(conn)
        .map(drop)
}

pub fn acknowledge(conn: &mut DbConnection, ids: &[String], by: &str, stamp: NaiveDateTime) -> QueryResult<()> {
    diesel::update(findings::table.filter(findings::id.eq_any(ids)))
        .set((findings::acknowledged_by.eq(by), findings::acknowledged_at.eq(stamp)))
        .execute(conn)
        .map(drop)
}

/// Stores a work's open counts and when it was checked.
pub fn set_counts(conn: &mut DbConnection, work_id: &str, counts: (i32, i32), stamp: NaiveDateTime) -> QueryResult<()> {
    diesel::update(works::table.find(work_id))
        .set((works::findings_block.eq(counts.0), works::findings_review.eq(counts.1), works::checked_at.eq(stamp)))
        .execute(conn)
        .map(drop)
}
