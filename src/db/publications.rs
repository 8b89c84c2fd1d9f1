//! The `publications` and `publication_metrics` tables: where and when a work was
//! published, and what each platform showed of it over time.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{publication_metrics, publications};
use crate::domain::archive::Metrics;
use crate::domain::ids::{UserId, WorkId};

/// One place and time a work was published.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = publications)]
pub struct PublicationRow {
    pub id: String,
    pub work_id: WorkId,
    /// `domain::archive::Platform` spelling.
    pub platform: String,
    pub account: Option<String>,
    pub url: Option<String>,
    pub published_at: NaiveDateTime,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl PublicationRow {
    /// A new record of where and when a work was published, made now by `created_by`.
    pub fn new(
        work_id: &WorkId,
        (platform, account, url): (&str, Option<String>, Option<String>),
        published_at: NaiveDateTime,
        created_by: &UserId,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            work_id: work_id.clone(),
            platform: platform.to_owned(),
            account,
            url,
            published_at,
            created_by: Some(created_by.clone()),
            created_at: now,
            updated_at: now,
        }
    }
}

/// One metrics snapshot of a publication.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = publication_metrics)]
pub struct MetricsRow {
    pub id: String,
    pub publication_id: String,
    pub as_of: NaiveDateTime,
    pub reads: Option<i64>,
    pub likes: Option<i64>,
    pub shares: Option<i64>,
    pub comments: Option<i64>,
    pub reposts: Option<i64>,
    /// `import` or `manual`.
    pub source: String,
    pub created_at: NaiveDateTime,
}

impl MetricsRow {
    /// The figures alone.
    pub fn metrics(&self) -> Metrics {
        Metrics {
            reads: self.reads,
            likes: self.likes,
            shares: self.shares,
            comments: self.comments,
            reposts: self.reposts,
        }
    }

    /// A new snapshot of `metrics` for a publication.
    pub fn new(publication_id: &str, metrics: Metrics, as_of: NaiveDateTime, source: &str) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            publication_id: publication_id.to_owned(),
            as_of,
            reads: metrics.reads,
            likes: metrics.likes,
            shares: metrics.shares,
            comments: metrics.comments,
            reposts: metrics.reposts,
            source: source.to_owned(),
            created_at: as_of,
        }
    }
}

/// Stores a publication.
pub fn insert(conn: &mut DbConnection, row: &PublicationRow) -> QueryResult<()> {
    diesel::insert_into(publications::table).values(row).execute(conn).map(drop)
}

/// Stores a metrics snapshot.
pub fn insert_metrics(conn: &mut DbConnection, row: &MetricsRow) -> QueryResult<()> {
    diesel::insert_into(publication_metrics::table).values(row).execute(conn).map(drop)
}

/// One publication.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<PublicationRow>> {
    publications::table.find(id).select(PublicationRow::as_select()).first(conn).optional()
}

/// Stores a corrected publication.
pub fn update(conn: &mut DbConnection, row: &PublicationRow) -> QueryResult<()> {
    diesel::update(publications::table.find(&row.id))
        .set((
            publications::platform.eq(&row.platform),
            publications::account.eq(&row.account),
            publications::url.eq(&row.url),
            publications::published_at.eq(row.published_at),
            publications::updated_at.eq(row.updated_at),
        ))
        .execute(conn)
        .map(drop)
}

/// A work's publications, earliest first.
pub fn for_work(conn: &mut DbConnection, work_id: &str) -> QueryResult<Vec<PublicationRow>> {
    publications::table
        .filter(publications::work_id.eq(work_id))
        .order((publications::published_at.asc(), publications::id.asc()))
        .select(PublicationRow::as_select())
        .load(conn)
}

/// Every snapshot of a publication, oldest first.
pub fn metrics_history(conn: &mut DbConnection, publication_id: &str) -> QueryResult<Vec<MetricsRow>> {
    publication_metrics::table
        .filter(publication_metrics::publication_id.eq(publication_id))
        .order((publication_metrics::as_of.asc(), publication_metrics::id.asc()))
        .select(MetricsRow::as_select())
        .load(conn)
}

/// The newest snapshot of a publication, if any.
pub fn latest_metrics(conn: &mut DbConnection, publication_id: &str) -> QueryResult<Option<MetricsRow>> {
    publication_metrics::table
        .filter(publication_metrics::publication_id.eq(publication_id))
        .order((publication_metrics::as_of.desc(), publication_metrics::id.desc()))
        .select(MetricsRow::as_select())
        .first(conn)
        .optional()
}

/// `(work, platform)` of every publication in a period.
pub fn in_period(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(WorkId, String)>> {
    publications::table
        .filter(publications::published_at.ge(from))
        .filter(publications::published_at.le(to))
        .select((publications::work_id, publications::platform))
        .load(conn)
}

/// The publications of several works with each one's newest metrics, in two queries.
pub fn with_latest_metrics(
    conn: &mut DbConnection,
    work_ids: &[String],
) -> QueryResult<Vec<(PublicationRow, Option<MetricsRow>)>> {
    let rows: Vec<PublicationRow> = publications::table
        .filter(publications::work_id.eq_any(work_ids))
        .order((publications::published_at.asc(), publications::id.asc()))
        .select(PublicationRow::as_select())
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    let mut snapshots: Vec<MetricsRow> = publication_metrics::table
        .filter(publication_metrics::publication_id.eq_any(&ids))
        .select(MetricsRow::as_select())
        .load(conn)?;
    snapshots.sort_by(|a, b| (b.as_of, &b.id).cmp(&(a.as_of, &a.id)));
    Ok(rows
        .into_iter()
        .map(|row| {
            let latest = snapshots.iter().find(|snapshot| snapshot.publication_id == row.id).cloned();
            (row, latest)
        })
        .collect())
}
