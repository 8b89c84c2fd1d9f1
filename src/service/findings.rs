//! A work's compliance findings as people meet them: the list, a reviewer's override with a
//! reason, and "mask it" — the digits replaced by `*` in the text, as an audited edit.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::access;
use super::audit;
use super::auth::AuthUser;
use super::compliance::{Compliance, ComplianceError, recheck};
use super::works::{Work, WorkError, check_editable, load_live};
use crate::clock::now;
use crate::db::compliance::{self as rows, FindingRow};
use crate::db::works::{self as work_rows, WorkChanges, WorkRow};
use crate::db::{Db, DbConnection, outbox};
use crate::domain::FieldError;
use crate::domain::compliance::{Category, mask_in_text};
use crate::domain::fields::LimitUnit;
use crate::domain::ids::WorkId;
use crate::domain::user::Role;

/// Longest override reason, in characters.
pub const REASON_MAX_CHARS: usize = 1_000;

/// Who let a finding through, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub by: String,
    pub by_name: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// One finding as clients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingView {
    pub id: String,
    pub field: String,
    pub start: i32,
    pub end: i32,
    pub category: String,
    pub level: String,
    pub excerpt: String,
    pub status: String,
    pub maskable: bool,
    pub overridden: Option<Decision>,
    pub acknowledged: Option<Decision>,
}

/// The fields "mask it" can write to.
const MASKABLE_FIELDS: [&str; 3] = ["title", "summary", "body"];

/// A work's findings, open first, then by place; for the production team (not staff).
pub async fn list_findings(db: &Db, user: &AuthUser, work_id: WorkId) -> Result<Vec<FindingView>, ComplianceError> {
    let caller = user.clone();
    db.read(move |conn| {
        let row = load_live(conn, &caller, work_id.as_str())?;
        access::check_production(&caller)?;
        views(conn, &row.id.to_string())
    })
    .await
}

fn views(conn: &mut DbConnection, work_id: &str) -> Result<Vec<FindingView>, ComplianceError> {
    let found = rows::for_work(conn, work_id)?;
    let people: Vec<String> =
        found.iter().flat_map(|row| [row.override_by.clone(), row.acknowledged_by.clone()]).flatten().collect();
    let names = crate::db::users::display_names(conn, &people)?;
    let name_of =
        |id: &str| names.iter().find(|(known, _)| known == id).map_or_else(String::new, |(_, name)| name.clone());
    let mut views: Vec<FindingView> = found.into_iter().map(|row| view(row, &name_of)).collect();
    views.sort_by_key(|view| (view.status != "open", view.status == "fixed", view.field.clone(), view.start));
    Ok(views)
}

fn view(row: FindingRow, name_of: &dyn Fn(&str) -> String) -> FindingView {
    let decision = |by: &Option<String>, at: Option<chrono::NaiveDateTime>, reason: Option<String>| {
        Some(Decision { by: by.clone()?, by_name: name_of(by.as_deref()?), at: at?.and_utc(), reason })
    };
    let category = Category::parse(&row.category);
    FindingView {
        overridden: decision(&row.override_by, row.override_at, row.override_reason.clone()),
        acknowledged: decision(&row.acknowledged_by, row.acknowledged_at, None),
        maskable: category.is_maskable() && MASKABLE_FIELDS.contains(&row.field.as_str()) && row.status == "open",
        id: row.id,
        field: row.field,
        start: row.start_char,
        end: row.end_char,
        category: row.category,
        level: row.level,
        excerpt: row.excerpt,
        status: row.status,
    }
}

/// A reviewer lets an open finding through, with a reason (audited: who, when, why, which).
pub async fn override_finding(
    db: &Db,
    user: &AuthUser,
    work_id: WorkId,
    finding_id: String,
    reason: Option<String>,
) -> Result<FindingView, ComplianceError> {
    if !user.has(Role::Reviewer) {
        return Err(ComplianceError::RoleRequired("reviewer"));
    }
    let reason = reason.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty());
    let reason = reason.ok_or_else(|| FieldError::required("reason"))?;
    if reason.chars().count() > REASON_MAX_CHARS {
        return Err(FieldError::too_long("reason", REASON_MAX_CHARS, LimitUnit::Chars).into());
    }
    let caller = user.clone();
    db.write(move |conn| {
        let row = load_live(conn, &caller, work_id.as_str())?;
        if super::review::is_team_member(&caller, row.credits.value(), row.assignees.value())
            || row.created_by == caller.id
        {
            return Err(ComplianceError::SelfReview);
        }
        let finding = open_finding(conn, work_id.as_str(), &finding_id)?;
        let stamp = now();
        rows::set_override(conn, &finding.id, caller.id.as_str(), &reason, stamp)?;
        let details = json!({
            "finding_id": finding.id, "field": finding.field, "category": finding.category,
            "level": finding.level, "excerpt": finding.excerpt, "reason": reason,
        });
        audit::record(conn, Some(&caller), "finding.overridden", ("work", work_id.as_str()), details, stamp)?;
        super::compliance::store_open_counts(conn, row.id.as_str(), stamp)?;
        let found = views(conn, work_id.as_str())?;
        Ok(found.into_iter().find(|view| view.id == finding.id).expect("the finding was just overridden"))
    })
    .await
}

fn open_finding(conn: &mut DbConnection, work_id: &str, finding_id: &str) -> Result<FindingRow, ComplianceError> {
    let finding = rows::find(conn, work_id, finding_id)?.ok_or(ComplianceError::FindingNotFound)?;
    match finding.status.as_str() {
        "open" => Ok(finding),
        "fixed" => Err(ComplianceError::NotOpen("fixed")),
        _ => Err(ComplianceError::NotOpen("overridden")),
    }
}

/// "Mask it": the finding's letters and digits but the ends become `*` in the text, saved as
/// an edit of the work (version bumped, audited as `work.masked`, checked again).
pub async fn mask_finding(
    db: &Db,
    compliance: &Arc<Compliance>,
    user: &AuthUser,
    work_id: WorkId,
    finding_id: String,
    expected_version: Option<i64>,
) -> Result<Work, ComplianceError> {
    let (caller, compliance) = (user.clone(), compliance.clone());
    let row = db
        .write(move |conn| {
            let row = load_live(conn, &caller, work_id.as_str())?;
            check_editable(&caller, &row)?;
            if expected_version.is_some_and(|expected| expected != row.version) {
                return Err(WorkError::VersionConflict { current: row.version }.into());
            }
            let finding = open_finding(conn, work_id.as_str(), &finding_id)?;
            let category = Category::parse(&finding.category);
            if !category.is_maskable() || !MASKABLE_FIELDS.contains(&finding.field.as_str()) {
                return Err(ComplianceError::NotMaskable(finding.field));
            }
            let changes = masked_changes(&row, &finding, &category)?;
            let stamp = now();
            if !work_rows::update_if_version(conn, work_id.as_str(), row.version, &changes, None, stamp)? {
                return Err(WorkError::VersionConflict { current: row.version + 1 }.into());
            }
            outbox::enqueue(conn, work_id.as_str(), stamp)?;
            let details = json!({
                "finding_id": finding.id, "field": finding.field, "category": finding.category, "excerpt": finding.excerpt,
            });
            audit::record(conn, Some(&caller), "work.masked", ("work", work_id.as_str()), details, stamp)?;
            let mut after = work_rows::find(conn, work_id.as_str())?.ok_or(WorkError::NotFound)?;
            let checker = compliance.checker(conn)?;
            recheck(conn, &checker, &mut after, stamp)?;
            Ok::<_, ComplianceError>(after)
        })
        .await?;
    Ok(Work::from_row(row))
}

fn masked_changes(row: &WorkRow, finding: &FindingRow, category: &Category) -> Result<WorkChanges, ComplianceError> {
    let text = match finding.field.as_str() {
        "title" => row.title.as_str(),
        "summary" => row.summary.as_deref().unwrap_or_default(),
        _ => row.body.as_str(),
    };
    let (start, end) = (finding.start_char.max(0) as usize, finding.end_char.max(0) as usize);
    let masked = mask_in_text(text, start, end, category).ok_or(ComplianceError::NotMaskable(finding.field.clone()))?;
    let mut changes = WorkChanges::default();
    match finding.field.as_str() {
        "title" => changes.title = Some(masked),
        "summary" => changes.summary = Some(Some(masked)),
        _ => changes.body = Some(masked),
    }
    Ok(changes)
}
