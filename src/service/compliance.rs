//! The compliance check as the services run it: the current word lists' automaton (rebuilt
//! when any node changes a list), the check of a whole work inside the transaction that saves
//! it, and the gate before approval and publication.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use diesel::QueryResult;

use super::auth::AuthUser;
use crate::db::DbConnection;
use crate::db::compliance::{self as rows, FindingRow, ListsVersion, WordlistRow};
use crate::db::works::WorkRow;
use crate::domain::compliance::words::parse_terms;
use crate::domain::compliance::{
    Category, Checker, FindingState, Found, Hit, Level, StoredFinding, WordMatcher, reconcile,
};

/// The current lists' checker, shared by every request of this process. Each use compares
/// the lists' version in the database (one small query), so a list changed through another
/// node is in force here at the next save.
#[derive(Default)]
pub struct Compliance {
    current: Mutex<Option<(ListsVersion, Arc<Checker>)>>,
    /// Wakes the sweep that re-checks works after a list changed.
    pub sweep: tokio::sync::Notify,
}

impl Compliance {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The checker for the lists as they are now.
    pub fn checker(&self, conn: &mut DbConnection) -> QueryResult<Arc<Checker>> {
        let version = rows::lists_version(conn)?;
        if let Some((built_for, checker)) = self.current.lock().expect("checker lock").as_ref()
            && *built_for == version
        {
            return Ok(checker.clone());
        }
        let checker = Arc::new(build_checker(&rows::all_lists(conn)?));
        *self.current.lock().expect("checker lock") = Some((version, checker.clone()));
        Ok(checker)
    }
}

/// One automaton over every list. A stored list that no longer parses (it was checked when
/// saved) is skipped with a warning rather than disabling the check.
pub fn build_checker(lists: &[WordlistRow]) -> Checker {
    let mut terms = Vec::new();
    for list in lists {
        let level = Level::parse(&list.level).unwrap_or(Level::Review);
        match parse_terms(&list.terms, &list.category, level) {
            Ok(parsed) => terms.extend(parsed),
            Err(error) => tracing::warn!(list = %list.id, %error, "word list skipped"),
        }
    }
    Checker::new(WordMatcher::build(terms))
}

/// Open findings of a work by level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub block: i32,
    pub review: i32,
}

impl Counts {
    fn of(levels: impl Iterator<Item = Level>) -> Self {
        levels.fold(Self::default(), |counts, level| match level {
            Level::Block => Self { block: counts.block + 1, ..counts },
            Level::Review => Self { review: counts.review + 1, ..counts },
        })
    }
}

/// Counts a work's open findings as stored and keeps them on the work (after an override:
/// nothing in its texts changed).
pub fn store_open_counts(conn: &mut DbConnection, work_id: &str, stamp: NaiveDateTime) -> QueryResult<Counts> {
    let open =
        rows::for_work(conn, work_id)?.into_iter().filter(|finding| finding.status == FindingState::Open.as_str());
    let counts = Counts::of(open.map(|finding| Level::parse(&finding.level).unwrap_or(Level::Review)));
    rows::set_counts(conn, work_id, (counts.block, counts.review), stamp)?;
    Ok(counts)
}

/// The texts of a work the check reads, by field name: its own fields, credits, publication
/// records, its media's original filenames and subtitles.
/// A work's texts by field name, and the fields of its photos that carry a location.
struct WorkTexts {
    texts: Vec<(String, String)>,
    located: Vec<String>,
}

fn work_texts(conn: &mut DbConnection, row: &WorkRow) -> QueryResult<WorkTexts> {
    let mut texts = vec![("title".to_owned(), row.title.clone()), ("body".to_owned(), row.body.clone())];
    let optional = [
        ("summary", &row.summary),
        ("unit", &row.unit),
        ("channel", &row.channel),
        ("external_url", &row.external_url),
    ];
    texts.extend(optional.into_iter().filter_map(|(field, value)| value.clone().map(|text| (field.to_owned(), text))));
    for (index, tag) in row.tags.value().iter().enumerate() {
        texts.push((format!("tags[{index}]"), tag.clone()));
    }
    for (index, credit) in row.credits.value().iter().enumerate() {
        texts.push((format!("credits[{index}].name"), credit.name.clone()));
        texts.push((format!("credits[{index}].role"), credit.role.clone()));
    }
    for publication in crate::db::publications::for_work(conn, row.id.as_str())? {
        let fields = [("account", publication.account), ("url", publication.url)];
        for (field, value) in fields {
            if let Some(text) = value {
                texts.push((format!("publications[{}].{field}", publication.id), text));
            }
        }
    }
    let mut located = Vec::new();
    for media in crate::db::media::list_for_work(conn, row.id.as_str())? {
        if let Some(name) = &media.original_filename {
            texts.push((format!("media[{}].filename", media.id), name.clone()));
        }
        if let Some(cues) = &media.transcript {
            let text: Vec<&str> = cues.value().iter().map(|cue| cue.text.as_str()).collect();
            texts.push((format!("media[{}].subtitles", media.id), text.join("\n")));
        }
        if media.gps == Some(true) {
            located.push(format!("media[{}].gps", media.id));
        }
    }
    Ok(WorkTexts { texts, located })
}

/// What a photo's location finding shows (the coordinates themselves are never read out).
pub const GPS_EXCERPT: &str = "GPS";

/// Checks a work now and stores what changed: new findings opened, gone ones fixed, the rest
/// moved to where they are now; the open counts land on `row` and in the database.
pub fn recheck(
    conn: &mut DbConnection,
    checker: &Checker,
    row: &mut WorkRow,
    stamp: NaiveDateTime,
) -> QueryResult<Counts> {
    let WorkTexts { texts, located } = work_texts(conn, row)?;
    let mut hits = checker.scan_fields(texts.iter().map(|(field, text)| (field.clone(), text.as_str())));
    hits.extend(located.into_iter().map(|field| Hit {
        field,
        found: Found {
            start: 0,
            end: 0,
            category: Category::Gps,
            level: Level::Review,
            excerpt: Cow::Borrowed(GPS_EXCERPT),
        },
    }));
    let stored = rows::for_work(conn, row.id.as_str())?;
    let known: Vec<StoredFinding> = stored.iter().map(stored_finding).collect();
    let outcome = reconcile(&known, hits);
    let opened: Vec<FindingRow> = outcome.opened.iter().map(|hit| new_row(row.id.as_str(), hit, stamp)).collect();
    rows::insert(conn, &opened)?;
    for (id, hit) in &outcome.kept {
        let place = (hit.found.start as i32, hit.found.end as i32);
        let level = hit.found.level.as_str();
        // Most findings stay where they were: write only those that moved or changed level.
        let unchanged = stored.iter().any(|finding| {
            &finding.id == id && (finding.start_char, finding.end_char) == place && finding.level == level
        });
        if !unchanged {
            rows::move_to(conn, id, place, level, stamp)?;
        }
    }
    rows::mark_fixed(conn, &outcome.fixed, stamp)?;
    let open_levels = outcome
        .kept
        .iter()
        .filter(|(id, _)| {
            stored.iter().any(|finding| &finding.id == id && finding.status == FindingState::Open.as_str())
        })
        .map(|(_, hit)| hit.found.level)
        .chain(outcome.opened.iter().map(|hit| hit.found.level));
    let counts = Counts::of(open_levels);
    rows::set_counts(conn, row.id.as_str(), (counts.block, counts.review), stamp)?;
    (row.findings_block, row.findings_review, row.checked_at) = (counts.block, counts.review, Some(stamp));
    Ok(counts)
}

fn stored_finding(row: &FindingRow) -> StoredFinding {
    StoredFinding {
        id: row.id.clone(),
        field: row.field.clone(),
        category: row.category.clone(),
        excerpt: row.excerpt.clone(),
        state: FindingState::parse(&row.status).unwrap_or(FindingState::Open),
    }
}

fn new_row(work_id: &str, hit: &Hit<'_>, stamp: NaiveDateTime) -> FindingRow {
    FindingRow {
        id: uuid::Uuid::now_v7().to_string(),
        work_id: work_id.to_owned(),
        field: hit.field.clone(),
        start_char: hit.found.start as i32,
        end_char: hit.found.end as i32,
        category: hit.found.category.as_str().to_owned(),
        level: hit.found.level.as_str().to_owned(),
        excerpt: hit.found.excerpt.to_string(),
        status: FindingState::Open.as_str().to_owned(),
        override_by: None,
        override_at: None,
        override_reason: None,
        acknowledged_by: None,
        acknowledged_at: None,
        created_at: stamp,
        updated_at: stamp,
    }
}

/// An open finding as a refusal lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpenFinding {
    pub id: String,
    pub field: String,
    pub category: String,
    pub level: String,
    pub excerpt: String,
}

/// Why a compliance use case was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ComplianceError {
    /// Open `block` findings: each must be fixed or overridden first.
    #[error("{} open block finding(s) must be fixed or overridden first: {}", .0.len(), describe(.0))]
    Blocked(Vec<OpenFinding>),
    /// Open `review` findings the deciding reviewer did not acknowledge.
    #[error("{} open review finding(s) need your acknowledgement (send acknowledge_findings: true): {}", .0.len(), describe(.0))]
    Unacknowledged(Vec<OpenFinding>),
    /// No such finding on that work.
    #[error("no such finding")]
    FindingNotFound,
    /// No such word list.
    #[error("no such word list")]
    ListNotFound,
    /// The finding is fixed or already overridden.
    #[error("this finding is {0}: only open findings can be overridden or masked")]
    NotOpen(&'static str),
    /// "Mask it" works on personal data in the title, summary or body only.
    #[error("only personal data in the title, summary or body can be masked: edit {0} where it is")]
    NotMaskable(String),
    /// The caller lacks the role the use case needs.
    #[error("this action needs the {0} role")]
    RoleRequired(&'static str),
    /// A reviewer overriding a finding on a work they created, are credited on or assigned to.
    #[error("reviewers cannot override findings on works they created, are credited on or are assigned to")]
    SelfReview,
    /// The work is not there or not visible, or stale.
    #[error(transparent)]
    Work(#[from] super::works::WorkError),
    /// An input field was refused.
    #[error(transparent)]
    Field(#[from] crate::domain::FieldError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

crate::query_errors_through_db_error!(ComplianceError);

fn describe(findings: &[OpenFinding]) -> String {
    let listed: Vec<String> = findings
        .iter()
        .map(|finding| format!("{} {} in {}", finding.category, finding.excerpt, finding.field))
        .collect();
    listed.join("; ")
}

/// The gate before approval and publication: checks the work again now (lists may have
/// changed since it was saved), refuses open `block` findings, and needs the deciding
/// reviewer's acknowledgement of open `review` findings, which it records.
pub fn gate(
    conn: &mut DbConnection,
    checker: &Checker,
    row: &mut WorkRow,
    caller: &AuthUser,
    acknowledged: bool,
    stamp: NaiveDateTime,
) -> Result<Vec<OpenFinding>, ComplianceError> {
    recheck(conn, checker, row, stamp)?;
    let open: Vec<FindingRow> =
        rows::for_work(conn, row.id.as_str())?.into_iter().filter(|finding| finding.status == "open").collect();
    let brief = |level: Level| -> Vec<OpenFinding> {
        open.iter()
            .filter(|finding| finding.level == level.as_str())
            .map(|finding| OpenFinding {
                id: finding.id.clone(),
                field: finding.field.clone(),
                category: finding.category.clone(),
                level: finding.level.clone(),
                excerpt: finding.excerpt.clone(),
            })
            .collect()
    };
    let blocking = brief(Level::Block);
    if !blocking.is_empty() {
        return Err(ComplianceError::Blocked(blocking));
    }
    let warnings = brief(Level::Review);
    if !warnings.is_empty() && !acknowledged {
        return Err(ComplianceError::Unacknowledged(warnings));
    }
    let ids: Vec<String> = warnings.iter().map(|finding| finding.id.clone()).collect();
    rows::acknowledge(conn, &ids, caller.id.as_str(), stamp)?;
    Ok(warnings)
}

/// How many works one sweep round checks.
const SWEEP_BATCH: i64 = 100;

/// Checks up to a batch of works not checked since their lists, media or publication
/// records changed; answers how many it checked. Each work is its own short transaction.
pub async fn sweep_once(db: &crate::db::Db, compliance: &Arc<Compliance>) -> Result<usize, crate::db::DbError> {
    let ids = db.read(|conn| rows::unchecked_works(conn, SWEEP_BATCH)).await?;
    for id in &ids {
        let (id, compliance) = (id.clone(), compliance.clone());
        db.write(move |conn| -> Result<(), crate::db::DbError> {
            if let Some(mut row) = crate::db::works::find(conn, &id)? {
                let checker = compliance.checker(conn)?;
                recheck(conn, &checker, &mut row, crate::clock::now())?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(ids.len())
}
