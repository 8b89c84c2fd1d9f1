//! The `works` and `work_tags` tables. Visibility is applied inside the query, so pages and
//! totals never include a work the caller may not see.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{work_tags, works};
use super::types::Json;
use super::{DbConnection, MultiBackend};
use crate::domain::fields::Credit;
use crate::domain::filter::WorkFilter;
use crate::domain::ids::{UserId, WorkId};
use crate::domain::lifecycle::FINAL_STATES;
use crate::domain::user::Visibility;
use crate::domain::work::{Kind, Status};

/// A stored work. `tags` and `credits` are JSON text; tags are also in `work_tags` for filtering.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = works)]
pub struct WorkRow {
    pub id: WorkId,
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub summary: Option<String>,
    pub tags: Json<Vec<String>>,
    pub unit: Option<String>,
    pub credits: Json<Vec<Credit>>,
    pub channel: Option<String>,
    pub external_url: Option<String>,
    pub published_at: Option<NaiveDateTime>,
    pub status: Status,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub deleted_at: Option<NaiveDateTime>,
    /// Assigned user ids.
    pub assignees: Json<Vec<UserId>>,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// How many times the work was submitted (sign-offs belong to one round).
    pub review_round: i32,
    pub status_changed_at: Option<NaiveDateTime>,
    /// The key an imported work had in its export (`wechat:…`, `weibo:…`).
    pub source_key: Option<String>,
    /// Open compliance findings of level `block`, and of level `review`.
    pub findings_block: i32,
    pub findings_review: i32,
    /// When the compliance check last ran (none: since its lists changed, or never).
    pub checked_at: Option<NaiveDateTime>,
}

/// The update form of a work; outer `None` leaves a column alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = works)]
pub struct WorkChanges {
    pub title: Option<String>,
    pub body: Option<String>,
    pub summary: Option<Option<String>>,
    pub tags: Option<Json<Vec<String>>>,
    pub unit: Option<Option<String>>,
    pub credits: Option<Json<Vec<Credit>>>,
    pub channel: Option<Option<String>>,
    pub external_url: Option<Option<String>>,
    pub published_at: Option<Option<NaiveDateTime>>,
    pub assignees: Option<Json<Vec<UserId>>>,
    pub due_date: Option<Option<String>>,
}

/// Newest or oldest first, or most recently changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkOrder {
    Newest,
    Oldest,
    RecentlyUpdated,
}

/// Which works a list shows, and in which order.
#[derive(Debug, Clone)]
pub struct WorkSelection {
    /// Whose works the caller may see: translated into the query here, once.
    pub visibility: Visibility,
    /// The client's criteria (its period bounds `created_at`).
    pub filter: WorkFilter,
    pub created_by: Option<String>,
    /// Deleted works instead of live ones.
    pub deleted: bool,
    pub order: WorkOrder,
}

type BoxedWorks<'a> = works::BoxedQuery<'a, MultiBackend>;

/// What statistics and exports need of a work: everything but its texts' bodies (up to
/// 1 MiB each) and lists.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = works)]
pub struct WorkFacts {
    pub id: WorkId,
    pub kind: Kind,
    pub title: String,
    pub status: Status,
    pub unit: Option<String>,
    pub channel: Option<String>,
    pub external_url: Option<String>,
    pub published_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Live works past their due date (before `today`, `YYYY-MM-DD`) and not in a final state that
/// `user` created or is assigned to, visible with `visibility`, most overdue first.
pub fn overdue_for(
    conn: &mut DbConnection,
    visibility: &Visibility,
    user: &UserId,
    today: &str,
) -> QueryResult<Vec<WorkRow>> {
    // Assignees are a JSON list of UUIDs; a quoted UUID cannot match anything else.
    let assigned = format!("%\"{user}\"%");
    visible(works::table.into_boxed(), visibility)
        .filter(works::deleted_at.is_null())
        .filter(works::due_date.lt(today.to_owned()))
        .filter(works::status.ne_all(FINAL_STATES))
        .filter(works::created_by.eq(user.as_str().to_owned()).or(works::assignees.like(assigned)))
        .order((works::due_date.asc(), works::id.asc()))
        .select(WorkRow::as_select())
        .load(conn)
}

/// Every live work past its due date that is not finished (the daily reminder).
pub fn overdue_all(conn: &mut DbConnection, today: &str) -> QueryResult<Vec<WorkRow>> {
    works::table
        .filter(works::deleted_at.is_null())
        .filter(works::due_date.lt(today.to_owned()))
        .filter(works::status.ne_all(FINAL_STATES))
        .order((works::due_date.asc(), works::id.asc()))
        .select(WorkRow::as_select())
        .load(conn)
}

/// The facts of every live work visible with `visibility`, oldest first.
pub fn visible_facts(conn: &mut DbConnection, visibility: &Visibility) -> QueryResult<Vec<WorkFacts>> {
    visible(works::table.into_boxed(), visibility)
        .filter(works::deleted_at.is_null())
        .order((works::created_at.asc(), works::id.asc()))
        .select(WorkFacts::as_select())
        .load(conn)
}

/// The base query of a filter: visibility, deletion and every given criterion.
fn filtered(filter: &WorkSelection) -> BoxedWorks<'_> {
    let mut query = visible(works::table.into_boxed(), &filter.visibility);
    query = if filter.deleted {
        query.filter(works::deleted_at.is_not_null())
    } else {
        query.filter(works::deleted_at.is_null())
    };
    criteria(query, filter)
}

/// The one translation of [`Visibility`] into SQL (the search index has its own, in
/// `search::searcher`; both follow `service::access`).
fn visible<'a>(query: BoxedWorks<'a>, visibility: &Visibility) -> BoxedWorks<'a> {
    match visibility {
        Visibility::All => query,
        Visibility::OwnAndPublic(user) => {
            // Assignees are a JSON list of UUIDs; a quoted UUID cannot match anything else.
            let assigned = format!("%\"{user}\"%");
            query.filter(
                works::created_by
                    .eq(user.as_str().to_owned())
                    .or(works::status.eq_any(Status::PUBLIC))
                    .or(works::assignees.like(assigned)),
            )
        }
        Visibility::Public => query.filter(works::status.eq_any(Status::PUBLIC)),
        Visibility::Nothing => query.filter(works::id.is_null()),
    }
}

/// The filter's criteria besides visibility and deletion.
fn criteria<'a>(mut query: BoxedWorks<'a>, selection: &'a WorkSelection) -> BoxedWorks<'a> {
    let filter = &selection.filter;
    if let Some(kind) = filter.kind {
        query = query.filter(works::kind.eq(kind));
    }
    if let Some(status) = filter.status {
        query = query.filter(works::status.eq(status));
    }
    if let Some(unit) = &filter.unit {
        query = query.filter(works::unit.eq(unit.as_str()));
    }
    if let Some(tag) = &filter.tag {
        query = query.filter(
            works::id.eq_any(work_tags::table.filter(work_tags::tag.eq(tag.as_str())).select(work_tags::work_id)),
        );
    }
    if let Some(creator) = &selection.created_by {
        query = query.filter(works::created_by.eq(creator.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(works::created_at.ge(from.naive_utc()));
    }
    if let Some(to) = filter.to {
        query = query.filter(works::created_at.le(to.naive_utc()));
    }
    if let Some(from) = filter.published_from {
        query = query.filter(works::published_at.ge(from.naive_utc()));
    }
    if let Some(to) = filter.published_to {
        query = query.filter(works::published_at.le(to.naive_utc()));
    }
    query
}

/// One page of works matching the filter, and how many match in all.
pub fn list(
    conn: &mut DbConnection,
    filter: &WorkSelection,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<WorkRow>, i64)> {
    let total = filtered(filter).count().get_result(conn)?;
    let ordered = match filter.order {
        WorkOrder::Newest => filtered(filter).order((works::created_at.desc(), works::id.desc())),
        WorkOrder::Oldest => filtered(filter).order((works::created_at.asc(), works::id.asc())),
        WorkOrder::RecentlyUpdated => filtered(filter).order((works::updated_at.desc(), works::id.desc())),
    };
    let rows = ordered.offset(offset).limit(limit).select(WorkRow::as_select()).load(conn)?;
    Ok((rows, total))
}

/// Stores a new work and its tags.
pub fn insert(conn: &mut DbConnection, work: &WorkRow, tags: &[String]) -> QueryResult<()> {
    diesel::insert_into(works::table).values(work).execute(conn)?;
    replace_tags(conn, &work.id, tags)
}

fn replace_tags(conn: &mut DbConnection, work_id: &str, tags: &[String]) -> QueryResult<()> {
    diesel::delete(work_tags::table.filter(work_tags::work_id.eq(work_id))).execute(conn)?;
    for tag in tags {
        diesel::insert_into(work_tags::table)
            .values((work_tags::work_id.eq(work_id), work_tags::tag.eq(tag)))
            .execute(conn)?;
    }
    Ok(())
}

/// A work by id, deleted or not.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<WorkRow>> {
    works::table.find(id).select(WorkRow::as_select()).first(conn).optional()
}

/// The work imported under a source key, if any (deleted ones included: an import never
/// brings a deleted work back as a second copy).
pub fn find_by_source_key(conn: &mut DbConnection, key: &str) -> QueryResult<Option<WorkRow>> {
    works::table.filter(works::source_key.eq(key)).select(WorkRow::as_select()).first(conn).optional()
}

/// A work of `kind` titled `title` published in `[from, to)`, if any (a saved WeChat page
/// carries no link, so this is how it finds the article another export brought in).
pub fn find_by_title_published(
    conn: &mut DbConnection,
    kind: Kind,
    title: &str,
    (from, to): (NaiveDateTime, NaiveDateTime),
) -> QueryResult<Option<WorkRow>> {
    works::table
        .filter(works::kind.eq(kind))
        .filter(works::title.eq(title))
        .filter(works::published_at.ge(from))
        .filter(works::published_at.lt(to))
        .select(WorkRow::as_select())
        .first(conn)
        .optional()
}

/// Applies an edit if the stored version is still `expected_version`; returns whether it did.
/// The version check is part of the UPDATE, so two racing edits cannot both win.
pub fn update_if_version(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    changes: &WorkChanges,
    new_tags: Option<&[String]>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let target = works::table.filter(works::id.eq(id)).filter(works::version.eq(expected_version));
    let bumped = (works::version.eq(works::version + 1), works::updated_at.eq(now));
    let updated = if is_empty(changes) {
        diesel::update(target).set(bumped).execute(conn)?
    } else {
        diesel::update(target).set((changes, bumped)).execute(conn)?
    };
    if updated == 1
        && let Some(tags) = new_tags
    {
        replace_tags(conn, id, tags)?;
    }
    Ok(updated == 1)
}

fn is_empty(changes: &WorkChanges) -> bool {
    let WorkChanges {
        title,
        body,
        summary,
        tags,
        unit,
        credits,
        channel,
        external_url,
        published_at,
        assignees,
        due_date,
    } = changes;
    title.is_none()
        && body.is_none()
        && summary.is_none()
        && tags.is_none()
        && unit.is_none()
        && credits.is_none()
        && channel.is_none()
        && external_url.is_none()
        && published_at.is_none()
        && assignees.is_none()
        && due_date.is_none()
}

/// Marks a work deleted (or restores it with `None`), bumping its version.
pub fn set_deleted(
    conn: &mut DbConnection,
    id: &str,
    deleted_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(works::table.find(id))
        .set((works::deleted_at.eq(deleted_at), works::version.eq(works::version + 1), works::updated_at.eq(now)))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Several works by id (deleted ones too).
pub fn find_many(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<WorkRow>> {
    works::table.filter(works::id.eq_any(ids)).select(WorkRow::as_select()).load(conn)
}

/// Every work, deleted ones too, in id order after `after_id` (a keyset page for rebuilds).
/// Deleted works are left for the caller to skip: filtering them here made SQLite pick the
/// `deleted_at` index and sort every live work again for each page.
pub fn page_after(conn: &mut DbConnection, after_id: &str, limit: i64) -> QueryResult<Vec<WorkRow>> {
    works::table
        .filter(works::id.gt(after_id))
        .order(works::id.asc())
        .limit(limit)
        .select(WorkRow::as_select())
        .load(conn)
}

/// Non-deleted works changed at or after `since` (to catch up a rebuilt index).
pub fn changed_since(conn: &mut DbConnection, since: NaiveDateTime) -> QueryResult<Vec<String>> {
    works::table.filter(works::updated_at.ge(since)).select(works::id).load(conn)
}

/// How many works are not deleted.
pub fn count_live(conn: &mut DbConnection) -> QueryResult<i64> {
    works::table.filter(works::deleted_at.is_null()).count().get_result(conn)
}

/// Non-deleted works in states where a reviewer decides, oldest state change first.
pub fn awaiting_decision(conn: &mut DbConnection) -> QueryResult<Vec<WorkRow>> {
    works::table
        .filter(works::deleted_at.is_null())
        .filter(works::status.eq_any(["submitted", "shortlisted", "recommended", "reported"]))
        .order(works::status_changed_at.asc())
        .select(WorkRow::as_select())
        .load(conn)
}
