//! Moving works along their lifecycle (with two-level sign-off, publish details and
//! optimistic locking), the reviewers' queue and the production board.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use serde_json::json;

use super::audit;
use super::auth::AuthUser;
use super::compliance::{Compliance, ComplianceError, gate};
use super::film_facts::{FilmFacts, film_facts};
use super::works::WorkError;
use super::works::{Work, WorkQuery, load_live};
use crate::clock::now;
use crate::db::DbError;
use crate::db::comments::{self, CommentRow};
use crate::db::review::{self, StatusChange, TransitionRow};
use crate::db::works::WorkOrder;
use crate::db::works::WorkRow;
use crate::db::{Db, DbConnection, outbox};
use crate::domain::FieldError;
use crate::domain::fields::Credit;
use crate::domain::ids::UserId;
use crate::domain::ids::WorkId;
use crate::domain::lifecycle::{self, Action, Actor, Refusal};
use crate::domain::transition::{Publication, Published, StoredPublication, Transition};
use crate::domain::user::Role;
use crate::domain::work::{Kind, Status};
use diesel::QueryResult;

/// Why a lifecycle step or a review read was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// The work is not there, not visible, or stale (see [`WorkError`]).
    #[error(transparent)]
    Work(#[from] WorkError),
    /// The lifecycle does not allow the step from the current state.
    #[error("not allowed from state {}: allowed actions are {}", .from.as_str(), action_list(.allowed))]
    Illegal { from: Status, allowed: Vec<Action> },
    /// The step belongs to someone else (the creator's team, or a reviewer).
    #[error("{0}")]
    NotYours(&'static str),
    /// A reviewer deciding on a work they created, are credited on or are assigned to.
    #[error("reviewers cannot decide on works they created, are credited on or are assigned to")]
    SelfReview,
    /// A decision that needs a comment came without one.
    #[error("this decision needs a comment explaining it")]
    CommentRequired,
    /// The reviewer already gave this round's first sign-off.
    #[error("you already signed this round off: a second, different reviewer must approve")]
    AlreadySignedOff,
    /// A withdrawal after a reviewer already signed the round off.
    #[error("a reviewer has already signed this submission off: it can no longer be withdrawn")]
    AlreadyDecided,
    /// The compliance gate refused the step (open findings).
    #[error(transparent)]
    Compliance(#[from] ComplianceError),
    /// An input field was refused.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(ReviewError);

/// `approve, reject`, or `none`.
fn action_list(actions: &[Action]) -> String {
    let names: Vec<&str> = actions.iter().map(|action| action.as_str()).collect();
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

/// The result of a step: the work, and the first-level sign-offs of its current round.
#[derive(Debug, Clone)]
pub struct TransitionOutcome {
    pub work: Work,
    pub signoffs: Vec<UserId>,
}

/// Whether the caller is named in the credits or among the assignees.
pub(crate) fn is_team_member(user: &AuthUser, credits: &[Credit], assignees: &[UserId]) -> bool {
    let names = [user.display_name.as_str(), user.username.as_str()];
    credits.iter().any(|credit| credit.is(&user.id, &names)) || assignees.contains(&user.id)
}

fn refusal_error(refusal: Refusal, status: Status) -> ReviewError {
    match refusal {
        Refusal::Illegal { allowed } => ReviewError::Illegal { from: status, allowed },
        Refusal::NotYours(why) => ReviewError::NotYours(why),
        Refusal::SelfReview => ReviewError::SelfReview,
        Refusal::CommentRequired => ReviewError::CommentRequired,
    }
}

/// Publishing needs where and when it went out: from the request, else already on the work.
fn publish_details(sent: &Publication, row: &WorkRow) -> Result<Published, FieldError> {
    let stored = StoredPublication {
        channel: row.channel.clone(),
        external_url: row.external_url.clone(),
        published_at: row.published_at.map(|time| time.and_utc()),
    };
    sent.resolve(&stored, crate::clock::now().and_utc())
}

/// Takes one lifecycle step.
pub async fn transition(
    db: &Db,
    compliance: &Arc<Compliance>,
    two_level_kinds: &[Kind],
    user: &AuthUser,
    work_id: WorkId,
    step: Transition,
) -> Result<TransitionOutcome, ReviewError> {
    let (caller, compliance) = (user.clone(), compliance.clone());
    let two_level = two_level_kinds.to_vec();
    let (row, signoffs) = db
        .write(move |conn| {
            let step = Step { caller: &caller, step: &step, two_level: &two_level, compliance: &compliance };
            step.run(conn, &work_id)
        })
        .await?;
    Ok(TransitionOutcome { work: Work::from_row(row), signoffs })
}

struct Step<'a> {
    caller: &'a AuthUser,
    step: &'a Transition,
    two_level: &'a [Kind],
    compliance: &'a Compliance,
}

/// The steps that send a work on or out, and so pass the compliance gate first.
const GATED: [Action; 4] = [Action::Approve, Action::Publish, Action::Recommend, Action::Report];

type StepResult = Result<(WorkRow, Vec<UserId>), ReviewError>;

impl Step<'_> {
    fn run(&self, conn: &mut DbConnection, work_id: &str) -> StepResult {
        let mut row = load_live(conn, self.caller, work_id)?;
        if row.version != self.step.version {
            return Err(WorkError::VersionConflict { current: row.version }.into());
        }
        let (kind, status) = (row.kind, row.status);
        let actor = Actor {
            roles: &self.caller.roles,
            is_creator: row.created_by == self.caller.id,
            is_team_member: is_team_member(self.caller, &row.credits, &row.assignees),
        };
        let mut next = lifecycle::check(kind, status, self.step.action, &actor, self.step.comment.as_deref())
            .map_err(|refusal| refusal_error(refusal, status))?;
        if GATED.contains(&self.step.action) {
            self.pass_compliance(conn, &mut row)?;
        }
        if self.step.action == Action::Withdraw {
            if !review::signoffs_of(conn, work_id, row.review_round)?.is_empty() {
                return Err(ReviewError::AlreadyDecided);
            }
            next = lifecycle::withdrawn_to(kind, row.review_round);
        }
        if self.step.action == Action::Approve && self.two_level.contains(&kind) {
            let signed = review::signoffs_of(conn, work_id, row.review_round)?;
            if signed.contains(&self.caller.id) {
                return Err(ReviewError::AlreadySignedOff);
            }
            if signed.is_empty() {
                return self.first_signoff(conn, row);
            }
        }
        self.apply(conn, row, status, next)
    }

    /// The compliance gate: open block findings refuse the step; open review findings need
    /// (and record) the deciding reviewer's acknowledgement.
    fn pass_compliance(&self, conn: &mut DbConnection, row: &mut WorkRow) -> Result<(), ReviewError> {
        let checker = self.compliance.checker(conn)?;
        let acknowledged = gate(conn, &checker, row, self.caller, self.step.acknowledge_findings, now())?;
        if !acknowledged.is_empty() {
            let ids: Vec<&str> = acknowledged.iter().map(|finding| finding.id.as_str()).collect();
            let details = json!({"action": self.step.action.as_str(), "findings": ids});
            audit::record(conn, Some(self.caller), "finding.acknowledged", ("work", &row.id), details, now())?;
        }
        Ok(())
    }

    /// 初审: records the first approval; the work waits for a second reviewer.
    fn first_signoff(&self, conn: &mut DbConnection, row: WorkRow) -> StepResult {
        let stamp = now();
        if !review::touch_if_version(conn, &row.id, self.step.version, stamp)? {
            return Err(WorkError::VersionConflict { current: row.version + 1 }.into());
        }
        review::insert_signoff(conn, &row.id, row.review_round, self.caller.id.as_str(), stamp)?;
        self.save_comment(conn, &row.id, stamp)?;
        let details = json!({"action": "approve", "level": 1, "round": row.review_round, "comment": self.step.comment});
        audit::record(conn, Some(self.caller), "work.signed_off", ("work", &row.id), details, stamp)?;
        let signed = review::signoffs_of(conn, &row.id, row.review_round)?;
        let after = crate::db::works::find(conn, &row.id)?.expect("the work was just updated");
        Ok((after, signed))
    }

    fn apply(&self, conn: &mut DbConnection, row: WorkRow, status: Status, next: Status) -> StepResult {
        let stamp = now();
        let mut change = StatusChange {
            status: next,
            // A withdrawn submission was never a review round: the next submission is that round again.
            review_round: row.review_round + i32::from(self.step.action == Action::Submit)
                - i32::from(self.step.action == Action::Withdraw),
            status_changed_at: Some(stamp),
            updated_at: stamp,
            channel: None,
            external_url: None,
            published_at: None,
        };
        let published = match self.step.action {
            Action::Publish => Some(publish_details(&self.step.publication, &row)?),
            _ => None,
        };
        if let Some(published) = &published {
            change.channel = Some(Some(published.channel.clone()));
            change.external_url = Some(Some(published.external_url.clone()));
            change.published_at = Some(Some(published.published_at.naive_utc()));
        }
        if !review::move_if_version(conn, &row.id, self.step.version, &change)? {
            return Err(WorkError::VersionConflict { current: row.version + 1 }.into());
        }
        if let Some(published) = &published {
            let (channel, url) = (&published.channel, &published.external_url);
            super::publications::record_publish(conn, self.caller, &row.id, channel, url, published.published_at)?;
        }
        let transition = TransitionRow {
            id: uuid::Uuid::now_v7().to_string(),
            work_id: row.id.clone(),
            action: self.step.action,
            from_status: status,
            to_status: next,
            actor_id: self.caller.id.as_str().to_owned(),
            comment: self.step.comment.clone(),
            created_at: stamp,
        };
        review::insert_transition(conn, &transition)?;
        self.save_comment(conn, &row.id, stamp)?;
        outbox::enqueue(conn, &row.id, stamp)?;
        let details = json!({"action": self.step.action.as_str(), "from": status.as_str(), "to": next.as_str(), "comment": self.step.comment});
        audit::record(conn, Some(self.caller), "work.transition", ("work", &row.id), details, stamp)?;
        let signed = review::signoffs_of(conn, &row.id, change.review_round)?;
        let after = crate::db::works::find(conn, &row.id)?.expect("the work was just updated");
        let step = (self.step.action, next);
        super::notify::step_taken(conn, self.caller, &after, step, self.step.comment.as_deref(), stamp)?;
        Ok((after, signed))
    }

    /// A decision's comment also lands in the work's comments, where the team reads it.
    fn save_comment(&self, conn: &mut DbConnection, work_id: &WorkId, stamp: chrono::NaiveDateTime) -> QueryResult<()> {
        let Some(text) = &self.step.comment else { return Ok(()) };
        let row = CommentRow {
            id: uuid::Uuid::now_v7().to_string(),
            work_id: work_id.clone(),
            author_id: self.caller.id.clone(),
            body: format!("[{}] {text}", self.step.action.as_str()),
            media_id: None,
            timecode_ms: None,
            reply_to: None,
            created_at: stamp,
            frame: None,
            resolved_by: None,
            resolved_at: None,
            drawing: None,
        };
        comments::insert(conn, &row)
    }
}

/// The steps the caller may take on a work now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOptions {
    /// Allowed actions, in lifecycle order (a comment is assumed where one is required).
    pub actions: Vec<Action>,
    /// The work awaits a decision the caller would make, but it is their own work.
    pub barred_as_own_work: bool,
}

/// What `user` may do with `work`; `signoffs` are this round's first-level approvals.
pub fn step_options(user: &AuthUser, work: &Work, signoffs: &[UserId]) -> StepOptions {
    let actor = Actor {
        roles: &user.roles,
        is_creator: work.created_by == user.id,
        is_team_member: is_team_member(user, &work.credits, &work.assignees),
    };
    let signed_already = signoffs.contains(&user.id);
    let mut barred_as_own_work = false;
    let mut actions = Vec::new();
    for action in lifecycle::allowed_actions(work.kind, work.status) {
        match lifecycle::check(work.kind, work.status, action, &actor, Some("-")) {
            Ok(_) if action == Action::Approve && signed_already => {}
            Ok(_) if action == Action::Withdraw && !signoffs.is_empty() => {}
            Ok(_) => actions.push(action),
            Err(Refusal::SelfReview) => barred_as_own_work = true,
            Err(_) => {}
        }
    }
    StepOptions { actions, barred_as_own_work }
}

/// A work waiting for the caller's decision.
#[derive(Debug, Clone)]
pub struct QueueItem {
    pub work: Work,
    /// Creator, current cut, review notes.
    pub facts: FilmFacts,
    pub waiting_ms: i64,
    pub allowed_actions: Vec<Action>,
    pub signoffs: Vec<UserId>,
}

/// Works waiting for a decision the caller may make, oldest first.
pub async fn review_queue(db: &Db, user: &AuthUser) -> Result<Vec<QueueItem>, ReviewError> {
    if !(user.has(Role::Reviewer) || user.is_admin()) {
        return Err(WorkError::RoleRequired("reviewer").into());
    }
    let caller = user.clone();
    let (rows, signoffs, mut facts) = db
        .read(move |conn| -> diesel::QueryResult<_> {
            let rows = crate::db::works::awaiting_decision(conn)?;
            let ids: Vec<String> = rows.iter().map(|row| row.id.to_string()).collect();
            let owners: Vec<(WorkId, UserId)> =
                rows.iter().map(|row| (row.id.clone(), row.created_by.clone())).collect();
            Ok((rows, review::signoffs_for(conn, &ids)?, film_facts(conn, &owners)?))
        })
        .await?;
    let stamp = now();
    let mut items = Vec::new();
    for row in rows {
        let (kind, status) = (row.kind, row.status);
        let own = row.created_by == caller.id || is_team_member(&caller, &row.credits, &row.assignees);
        let signed: Vec<UserId> = signoffs
            .iter()
            .filter(|signoff| signoff.work_id == row.id && signoff.round == row.review_round)
            .map(|signoff| signoff.reviewer_id.clone())
            .collect();
        if own || !lifecycle::awaits_decision(kind, status) || signed.contains(&caller.id) {
            continue;
        }
        let since = row.status_changed_at.unwrap_or(row.updated_at);
        // The reviewer's choices: the author's own steps (withdrawing) are not theirs.
        let allowed: Vec<Action> = lifecycle::allowed_actions(kind, status)
            .into_iter()
            .filter(|action| action.duty() != lifecycle::Duty::Production)
            .collect();
        items.push(QueueItem {
            facts: facts.remove(&row.id).unwrap_or_default(),
            waiting_ms: (stamp - since).num_milliseconds(),
            allowed_actions: allowed,
            signoffs: signed,
            work: Work::from_row(row),
        });
    }
    items.sort_by_key(|item| std::cmp::Reverse(item.waiting_ms));
    Ok(items)
}

/// A card on the production board.
#[derive(Debug, Clone)]
pub struct BoardCard {
    pub work: Work,
    /// Creator, current cut, review notes.
    pub facts: FilmFacts,
    pub assignees: Vec<Person>,
    pub overdue: bool,
}

/// An account by id and the name it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: UserId,
    pub name: String,
}

/// Works the caller may see, grouped by state in lifecycle order.
pub async fn board(db: &Db, user: &AuthUser, kind: Option<Kind>) -> Result<Vec<(Status, Vec<BoardCard>)>, ReviewError> {
    let mut query = WorkQuery::everything(WorkOrder::Oldest, 2_000);
    query.filter.kind = kind;
    let works = super::works::list_works(db, user, query).await?.items;
    let ids: Vec<UserId> = works.iter().flat_map(|work| work.assignees.clone()).collect();
    let names: HashMap<UserId, String> = super::accounts::display_names(db, ids).await?;
    let owners: Vec<(WorkId, UserId)> = works.iter().map(|work| (work.id.clone(), work.created_by.clone())).collect();
    let mut facts = db.read(move |conn| -> diesel::QueryResult<_> { film_facts(conn, &owners) }).await?;
    let today: NaiveDate = Utc::now().date_naive();
    let columns = match kind {
        Some(kind) => lifecycle::states_of(kind),
        None => Status::ALL.to_vec(),
    };
    let mut grouped: Vec<(Status, Vec<BoardCard>)> = columns.into_iter().map(|status| (status, Vec::new())).collect();
    for work in works {
        let overdue = !lifecycle::is_final(work.status)
            && work
                .due_date
                .as_deref()
                .and_then(|date| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
                .is_some_and(|due| due < today);
        let assignees = work
            .assignees
            .iter()
            .map(|id| Person { id: id.clone(), name: names.get(id).cloned().unwrap_or_default() })
            .collect();
        if let Some((_, cards)) = grouped.iter_mut().find(|(status, _)| *status == work.status) {
            cards.push(BoardCard { facts: facts.remove(&work.id).unwrap_or_default(), work, assignees, overdue });
        }
    }
    Ok(grouped)
}
