//! The catalog of works: create, read, list, edit with optimistic locking, soft delete and
//! restore, and a work's history. Who may see or change a work is decided by
//! [`super::access`], in Rust for loaded works and inside the queries for lists.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::access::{self, WorkFacts};
use super::audit;
use super::auth::AuthUser;
use super::compliance::{Compliance, recheck};
use crate::clock::now;
use crate::db::DbError;
use crate::db::audit as audit_rows;
use crate::db::types::Json;
use crate::db::works::{self as rows, WorkChanges, WorkOrder, WorkRow, WorkSelection};
use crate::db::{Db, DbConnection, Shared, Weigh, outbox};
use crate::domain::FieldError;
use crate::domain::fields::{Credit, keep_account_links};
use crate::domain::filter::WorkFilter;
use crate::domain::ids::UserId;
use crate::domain::ids::WorkId;
use crate::domain::page::Page;
use crate::domain::user::{Role, Visibility};
use crate::domain::work::{Kind, NewWorkFields, Status, WorkEdit};

/// Why a use case on works was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// No such work, or one the caller may not see (we do not say which).
    #[error("no such work")]
    NotFound,
    /// No such comment, or one on a work the caller may not see.
    #[error("no such comment")]
    CommentNotFound,
    /// No such publication record, or one of a work the caller may not see.
    #[error("no such publication record")]
    PublicationNotFound,
    /// The caller lacks the role the use case needs.
    #[error("this action needs the {0} role")]
    RoleRequired(&'static str),
    /// Only the creator or an admin may change a work.
    #[error("only the work's creator or an admin may change it")]
    NotCreator,
    /// The work's state does not allow edits.
    #[error("a work in state {} cannot be edited", .0.as_str())]
    NotEditable(Status),
    /// The client's version is not the stored one.
    #[error("work was changed by someone else: the current version is {current}, reload and retry")]
    VersionConflict { current: i64 },
    /// Restoring a work that is not deleted.
    #[error("work is not deleted")]
    NotDeleted,
    /// An input field was refused.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(WorkError);

/// Open compliance findings of a work, by level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FindingCounts {
    pub block: i32,
    pub review: i32,
}

/// A work as the service hands it out: typed, with JSON columns decoded.
#[derive(Debug, Clone)]
pub struct Work {
    pub id: WorkId,
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub summary: Option<String>,
    pub tags: Vec<String>,
    pub unit: Option<String>,
    pub credits: Vec<Credit>,
    pub channel: Option<String>,
    pub external_url: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    pub deleted_at: Option<DateTime<Utc>>,
    pub assignees: Vec<UserId>,
    pub due_date: Option<String>,
    pub review_round: i32,
    /// Open compliance findings.
    pub findings: FindingCounts,
}

impl Weigh for Work {
    fn weight(&self) -> usize {
        let texts = [self.id.as_str(), &self.title, &self.body, self.created_by.as_str()];
        let optional = [&self.summary, &self.unit, &self.channel, &self.external_url, &self.due_date];
        let people = self.assignees.iter().map(|id| id.as_str());
        std::mem::size_of::<Self>()
            + texts.iter().map(|text| text.len()).sum::<usize>()
            + optional.iter().map(|text| text.as_ref().map_or(0, String::len)).sum::<usize>()
            + self.tags.iter().map(String::as_str).chain(people).map(|text| text.len() + 24).sum::<usize>()
            + self.credits.iter().map(|credit| credit.name.len() + credit.role.len() + 48).sum::<usize>()
    }
}

impl Work {
    /// The work a stored row holds (its values were checked as they were read).
    pub(crate) fn from_row(row: WorkRow) -> Self {
        Self {
            kind: row.kind,
            status: row.status,
            tags: row.tags.into_value(),
            credits: row.credits.into_value(),
            assignees: row.assignees.into_value(),
            published_at: row.published_at.map(|time| time.and_utc()),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            deleted_at: row.deleted_at.map(|time| time.and_utc()),
            id: row.id,
            title: row.title,
            body: row.body,
            summary: row.summary,
            unit: row.unit,
            channel: row.channel,
            external_url: row.external_url,
            created_by: row.created_by,
            version: row.version,
            due_date: row.due_date,
            review_round: row.review_round,
            findings: FindingCounts { block: row.findings_block, review: row.findings_review },
        }
    }

    /// What access to it depends on.
    pub fn access_facts(&self) -> WorkFacts<'_> {
        WorkFacts {
            created_by: &self.created_by,
            assignees: &self.assignees,
            status: self.status,
            deleted: self.deleted_at.is_some(),
        }
    }
}

/// What access to a stored work depends on.
pub(crate) fn row_facts(row: &WorkRow) -> WorkFacts<'_> {
    WorkFacts {
        created_by: &row.created_by,
        assignees: row.assignees.value(),
        status: row.status,
        deleted: row.deleted_at.is_some(),
    }
}

/// A page of works.
#[derive(Debug, Clone)]
pub struct WorkPage {
    pub items: Vec<Work>,
    pub total: i64,
    pub page: Page,
}

impl Weigh for WorkPage {
    fn weight(&self) -> usize {
        self.items.weight() + std::mem::size_of::<Self>()
    }
}

/// A cached work, shared (see [`crate::db::Shared`]).
pub type SharedWork = Arc<Shared<Work>>;
/// A cached page of works, shared.
pub type SharedPage = Arc<Shared<WorkPage>>;

/// Parsed list criteria (the caller's visibility is added here, not by the client).
#[derive(Debug, Clone)]
pub struct WorkQuery {
    /// Kind, state, unit, tag and creation period.
    pub filter: WorkFilter,
    pub created_by: Option<String>,
    pub deleted: bool,
    pub order: WorkOrder,
    pub page: Page,
}

impl WorkQuery {
    /// Every live work the caller may see, in `order`, the first `per_page` of them.
    pub fn everything(order: WorkOrder, per_page: i64) -> Self {
        WorkQuery {
            filter: WorkFilter::default(),
            created_by: None,
            deleted: false,
            order,
            page: Page { page: 1, per_page },
        }
    }
}

/// Only contributors and admins create works.
pub fn ensure_can_create(user: &AuthUser) -> Result<(), WorkError> {
    if user.has(Role::Contributor) || user.is_admin() { Ok(()) } else { Err(WorkError::RoleRequired("contributor")) }
}

/// Creates a work in its kind's initial state (contributors and admins).
pub async fn create_work(
    db: &Db,
    compliance: &Arc<Compliance>,
    user: &AuthUser,
    fields: NewWorkFields,
) -> Result<Work, WorkError> {
    ensure_can_create(user)?;
    let stamp = now();
    let row = WorkRow {
        id: WorkId::generate(),
        kind: fields.kind,
        title: fields.title.into_string(),
        body: fields.body,
        summary: fields.summary,
        tags: Json::new(fields.tags.clone()),
        unit: fields.unit,
        credits: Json::new(fields.credits),
        channel: fields.channel,
        external_url: fields.external_url,
        published_at: fields.published_at.map(|time| time.naive_utc()),
        status: fields.kind.initial_status(),
        created_by: user.id.clone(),
        created_at: stamp,
        updated_at: stamp,
        version: 1,
        deleted_at: None,
        assignees: Json::new(fields.assignees),
        due_date: fields.due_date.map(|date| date.to_string()),
        review_round: 0,
        status_changed_at: Some(stamp),
        source_key: None,
        findings_block: 0,
        findings_review: 0,
        checked_at: None,
    };
    let tags = fields.tags;
    let mut stored = row;
    let (caller, compliance) = (user.clone(), compliance.clone());
    let row = db.write(move |conn| -> Result<WorkRow, WorkError> {
        check_credited_accounts(conn, stored.credits.value())?;
        rows::insert(conn, &stored, &tags)?;
        outbox::enqueue(conn, stored.id.as_str(), stored.created_at)?;
        let details =
            serde_json::json!({"kind": stored.kind.as_str(), "title": stored.title, "status": stored.status.as_str()});
        audit::record(conn, Some(&caller), "work.created", ("work", stored.id.as_str()), details, stored.created_at)?;
        super::notify::assigned(conn, &caller, &stored, &[], stored.created_at)?;
        let checker = compliance.checker(conn)?;
        recheck(conn, &checker, &mut stored, stamp)?;
        Ok(stored)
    })
    .await?;
    Ok(Work::from_row(row))
}

/// Credits that name an account must name one that exists.
fn check_credited_accounts(conn: &mut DbConnection, credits: &[Credit]) -> Result<(), WorkError> {
    let linked: Vec<String> =
        credits.iter().filter_map(|credit| credit.user_id.as_ref().map(UserId::to_string)).collect();
    if linked.is_empty() {
        return Ok(());
    }
    let existing = crate::db::users::existing(conn, &linked)?;
    let unknown = credits.iter().position(|credit| credit.user_id.as_ref().is_some_and(|id| !existing.contains(id)));
    match unknown {
        Some(index) => {
            let field = format!("credits[{index}].user_id");
            Err(FieldError::invalid(field, "must be the id of an existing account").into())
        }
        None => Ok(()),
    }
}

/// Loads a live (not deleted) work the caller may see; anything else is `work-not-found`.
pub(crate) fn load_live(conn: &mut DbConnection, user: &AuthUser, id: &str) -> Result<WorkRow, WorkError> {
    let row = load_visible(conn, user, id)?;
    if row.deleted_at.is_some() {
        return Err(WorkError::NotFound);
    }
    Ok(row)
}

/// Loads a work the caller may see; anything else is `work-not-found`.
pub(crate) fn load_visible(conn: &mut DbConnection, user: &AuthUser, id: &str) -> Result<WorkRow, WorkError> {
    match rows::find(conn, id)? {
        Some(row) if access::may_see(user, row_facts(&row)) => Ok(row),
        _ => Err(WorkError::NotFound),
    }
}

/// One work, if the caller may see it. The hottest read of all: served from the read cache
/// when nothing was written since (visibility is still decided per caller, here).
pub async fn get_work(db: &Db, user: &AuthUser, id: WorkId) -> Result<Work, WorkError> {
    Ok(get_work_shared(db, user, id).await?.value().clone())
}

/// [`get_work`] without copying: the cached work itself, with its memoised rendering.
pub async fn get_work_shared(db: &Db, user: &AuthUser, id: WorkId) -> Result<SharedWork, WorkError> {
    let key = format!("work:{id}");
    let read = move |conn: &mut DbConnection| {
        let row = rows::find(conn, id.as_str())?.ok_or(WorkError::NotFound)?;
        Ok::<_, WorkError>(Shared::new(Work::from_row(row)))
    };
    let found = db.read_cached(key, read).await?;
    if !access::may_see(user, found.value().access_facts()) {
        return Err(WorkError::NotFound);
    }
    Ok(found)
}

/// Works past their due date that the caller created or is assigned to (the dashboard's
/// reminder), chosen in SQL.
pub async fn overdue_works(db: &Db, user: &AuthUser) -> Result<Vec<Work>, WorkError> {
    let (visibility, me) = (user.visibility(), user.id.clone());
    let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let rows = db.read(move |conn| rows::overdue_for(conn, &visibility, &me, &today)).await?;
    Ok(rows.into_iter().map(Work::from_row).collect())
}

/// A page of the works the caller may see, filtered.
pub async fn list_works(db: &Db, user: &AuthUser, query: WorkQuery) -> Result<WorkPage, WorkError> {
    Ok(list_works_shared(db, user, query).await?.value().clone())
}

/// [`list_works`] without copying: the cached page itself, with its memoised rendering.
pub async fn list_works_shared(db: &Db, user: &AuthUser, query: WorkQuery) -> Result<SharedPage, WorkError> {
    if query.deleted && !user.is_admin() {
        return Err(WorkError::RoleRequired("admin"));
    }
    let visibility = user.visibility();
    if visibility == Visibility::Nothing {
        return Ok(Arc::new(Shared::new(WorkPage { items: Vec::new(), total: 0, page: query.page })));
    }
    let WorkQuery { filter, created_by, deleted, order, page } = query;
    let selection = WorkSelection { visibility, filter, created_by, deleted, order };
    let key = format!("works:{selection:?}:{}:{}", page.offset(), page.per_page);
    let listed = db
        .read_cached(key, move |conn| -> Result<_, WorkError> {
            let (found, total) = rows::list(conn, &selection, page.offset(), page.per_page)?;
            let items = found.into_iter().map(Work::from_row).collect();
            Ok(Shared::new(WorkPage { items, total, page }))
        })
        .await?;
    Ok(listed)
}

/// Whether the edit is a correction of a work that went out: allowed to reviewers and admins
/// with a reason; any other edit must find the work editable by the caller.
fn correction_allowed(caller: &AuthUser, row: &WorkRow, reason: Option<&str>) -> Result<bool, WorkError> {
    let Err(refused) = check_editable(caller, row) else { return Ok(false) };
    let corrector = caller.has(Role::Reviewer) || caller.is_admin();
    if !(corrector && crate::domain::lifecycle::is_correctable(row.status)) {
        return Err(refused);
    }
    if reason.is_none() {
        let why = "is required to correct a work that went out (say what was wrong)";
        return Err(FieldError::out_of_range("correction_reason", crate::error::codes::FIELD_REQUIRED, why).into());
    }
    Ok(true)
}

fn edit_to_changes(edit: WorkEdit) -> (WorkChanges, Option<Vec<String>>) {
    let changes = WorkChanges {
        title: edit.title.map(|title| title.into_string()),
        body: edit.body,
        summary: edit.summary,
        tags: edit.tags.clone().map(Json::new),
        unit: edit.unit,
        credits: edit.credits.map(Json::new),
        channel: edit.channel,
        external_url: edit.external_url,
        published_at: edit.published_at.map(|time| time.map(|time| time.naive_utc())),
        assignees: edit.assignees.map(Json::new),
        due_date: edit.due_date.map(|date| date.map(|date| date.to_string())),
    };
    (changes, edit.tags)
}

/// Whether `user` may change `work`'s fields (and add media) now.
pub fn may_edit(user: &AuthUser, work: &Work) -> bool {
    ensure_editable(user, work).is_ok()
}

/// Whether `user` may correct `work` (it went out, so it is not editable; reviewers and admins
/// correct it with a reason).
pub fn may_correct(user: &AuthUser, work: &Work) -> bool {
    !may_edit(user, work)
        && (user.has(Role::Reviewer) || user.is_admin())
        && crate::domain::lifecycle::is_correctable(work.status)
}

/// Why `user` may not change `work` now, if they may not.
pub fn ensure_editable(user: &AuthUser, work: &Work) -> Result<(), WorkError> {
    access::check_change(user, work.access_facts())
}

/// The same rule, on a row.
pub(crate) fn check_editable(user: &AuthUser, row: &WorkRow) -> Result<(), WorkError> {
    access::check_change(user, row_facts(row))
}

/// Edits a work if `expected_version` is still current; otherwise `version-conflict`.
pub async fn update_work(
    db: &Db,
    compliance: &Arc<Compliance>,
    user: &AuthUser,
    id: WorkId,
    expected_version: i64,
    edit: WorkEdit,
) -> Result<Work, WorkError> {
    let (caller, compliance) = (user.clone(), compliance.clone());
    let reason = edit.correction_reason.clone();
    let (mut changes, tags) = edit_to_changes(edit);
    let row = db
        .write(move |conn| {
            let row = load_live(conn, &caller, id.as_str())?;
            let correcting = correction_allowed(&caller, &row, reason.as_deref())?;
            if row.version != expected_version {
                return Err(WorkError::VersionConflict { current: row.version });
            }
            if let Some(edited) = changes.credits.take() {
                let mut credits = edited.into_value();
                keep_account_links(&mut credits, row.credits.value());
                check_credited_accounts(conn, &credits)?;
                changes.credits = Some(Json::new(credits));
            }
            if !rows::update_if_version(conn, id.as_str(), expected_version, &changes, tags.as_deref(), now())? {
                return Err(WorkError::VersionConflict { current: row.version + 1 });
            }
            outbox::enqueue(conn, id.as_str(), now())?;
            let mut after = rows::find(conn, id.as_str())?.ok_or(WorkError::NotFound)?;
            let checker = compliance.checker(conn)?;
            recheck(conn, &checker, &mut after, now())?;
            let mut details = audit::work_changes(&row, &after);
            let action = if correcting { "work.corrected" } else { "work.updated" };
            if let (true, Some(object), Some(reason)) = (correcting, details.as_object_mut(), reason.as_deref()) {
                object.insert("reason".into(), serde_json::Value::from(reason));
            }
            audit::record(conn, Some(&caller), action, ("work", id.as_str()), details, now())?;
            super::notify::assigned(conn, &caller, &after, row.assignees.value(), now())?;
            Ok(after)
        })
        .await?;
    Ok(Work::from_row(row))
}

/// Soft-deletes a work: hidden from lists and search, kept for an admin to restore.
/// The creator may delete while the work is editable; an admin at any time.
pub async fn delete_work(db: &Db, user: &AuthUser, id: WorkId) -> Result<(), WorkError> {
    let caller = user.clone();
    db.write(move |conn| -> Result<(), WorkError> {
        let row = load_live(conn, &caller, id.as_str())?;
        if !caller.is_admin() {
            check_editable(&caller, &row)?;
        }
        let stamp: NaiveDateTime = now();
        rows::set_deleted(conn, id.as_str(), Some(stamp), stamp)?;
        outbox::enqueue(conn, id.as_str(), stamp)?;
        audit::record(
            conn,
            Some(&caller),
            "work.deleted",
            ("work", id.as_str()),
            serde_json::json!({"title": row.title}),
            stamp,
        )?;
        Ok(())
    })
    .await
}

/// Restores a soft-deleted work (admins only).
pub async fn restore_work(db: &Db, user: &AuthUser, id: WorkId) -> Result<Work, WorkError> {
    if !user.is_admin() {
        return Err(WorkError::RoleRequired("admin"));
    }
    let caller = user.clone();
    let row = db
        .write(move |conn| {
            let row = rows::find(conn, id.as_str())?.ok_or(WorkError::NotFound)?;
            if row.deleted_at.is_none() {
                return Err(WorkError::NotDeleted);
            }
            rows::set_deleted(conn, id.as_str(), None, now())?;
            outbox::enqueue(conn, id.as_str(), now())?;
            audit::record(
                conn,
                Some(&caller),
                "work.restored",
                ("work", id.as_str()),
                serde_json::json!({"title": row.title}),
                now(),
            )?;
            rows::find(conn, id.as_str())?.ok_or(WorkError::NotFound)
        })
        .await?;
    Ok(Work::from_row(row))
}

/// A work's entries, oldest first, for those who may see the work.
pub async fn work_history(db: &Db, user: &AuthUser, work_id: String) -> Result<Vec<audit::AuditView>, WorkError> {
    let caller = user.clone();
    let rows = db
        .read(move |conn| -> Result<_, WorkError> {
            load_visible(conn, &caller, &work_id)?;
            super::access::check_production(&caller)?;
            let filter = audit_rows::AuditFilter { target_id: Some(work_id), ..audit_rows::AuditFilter::default() };
            let (mut rows, _) = audit_rows::list(conn, &filter, 0, 10_000)?;
            rows.reverse();
            Ok(rows)
        })
        .await?;
    Ok(rows.into_iter().map(audit::AuditView::from).collect())
}
