//! Production and review lifecycles, one per kind, and who may move a work along them.
//!
//! ```text
//! micro_film:  planning → shooting → editing → submitted → approved → published → archived
//!                                                 ↘ changes_requested → submitted
//!                                                 ↘ rejected
//! posts:       draft → submitted → approved | changes_requested | rejected; approved → published → archived
//! proposals:   draft → submitted → shortlisted → recommended → reported → adopted | declined
//!                      (submitted | shortlisted) → return → draft
//! ```

use serde::{Deserialize, Serialize};

use super::user::Role;
use super::work::{Kind, Status};

/// A step along a lifecycle (the API's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    StartShooting,
    StartEditing,
    Submit,
    Approve,
    RequestChanges,
    Reject,
    Publish,
    Archive,
    Shortlist,
    Recommend,
    Report,
    Adopt,
    Decline,
    Return,
    /// The author takes a submission back before the first decision.
    Withdraw,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 15] = [
        Action::StartShooting,
        Action::StartEditing,
        Action::Submit,
        Action::Approve,
        Action::RequestChanges,
        Action::Reject,
        Action::Publish,
        Action::Archive,
        Action::Shortlist,
        Action::Recommend,
        Action::Report,
        Action::Adopt,
        Action::Decline,
        Action::Return,
        Action::Withdraw,
    ];

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::StartShooting => "start_shooting",
            Action::StartEditing => "start_editing",
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::RequestChanges => "request_changes",
            Action::Reject => "reject",
            Action::Publish => "publish",
            Action::Archive => "archive",
            Action::Shortlist => "shortlist",
            Action::Recommend => "recommend",
            Action::Report => "report",
            Action::Adopt => "adopt",
            Action::Decline => "decline",
            Action::Return => "return",
            Action::Withdraw => "withdraw",
        }
    }

    /// Parses the API spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == raw.trim())
    }

    /// Who performs the action.
    pub fn duty(self) -> Duty {
        match self {
            Action::StartShooting | Action::StartEditing | Action::Submit | Action::Withdraw => Duty::Production,
            Action::Publish | Action::Archive => Duty::Release,
            _ => Duty::Decision,
        }
    }

    /// Whether the action must explain itself.
    pub fn needs_comment(self) -> bool {
        matches!(self, Action::RequestChanges | Action::Reject | Action::Return | Action::Decline)
    }
}

/// The three kinds of duty an action belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// The creator or the credited team: production steps and submitting.
    Production,
    /// Reviewers: decisions, never on their own works.
    Decision,
    /// Reviewers or admins: publishing and archiving.
    Release,
}

/// Where `action` leads from `status` for works of `kind`; `None` when it is not allowed.
pub fn next_status(kind: Kind, status: Status, action: Action) -> Option<Status> {
    use Action as A;
    use Status as S;
    let proposal = kind == Kind::ReformProposal;
    let film = kind == Kind::MicroFilm;
    match (status, action) {
        (S::Planning, A::StartShooting) if film => Some(S::Shooting),
        (S::Shooting, A::StartEditing) if film => Some(S::Editing),
        (S::Editing, A::Submit) if film => Some(S::Submitted),
        (S::Draft, A::Submit) if !film => Some(S::Submitted),
        (S::ChangesRequested, A::Submit) if !proposal => Some(S::Submitted),
        (S::Submitted, A::Approve) if !proposal => Some(S::Approved),
        (S::Submitted, A::RequestChanges) if !proposal => Some(S::ChangesRequested),
        (S::Submitted, A::Reject) if !proposal => Some(S::Rejected),
        (S::Approved, A::Publish) if !proposal => Some(S::Published),
        (S::Published, A::Archive) if !proposal => Some(S::Archived),
        (S::Submitted, A::Shortlist) if proposal => Some(S::Shortlisted),
        (S::Shortlisted, A::Recommend) if proposal => Some(S::Recommended),
        (S::Recommended, A::Report) if proposal => Some(S::Reported),
        (S::Reported, A::Adopt) if proposal => Some(S::Adopted),
        (S::Reported, A::Decline) if proposal => Some(S::Declined),
        (S::Submitted | S::Shortlisted, A::Return) if proposal => Some(S::Draft),
        (S::Submitted, A::Withdraw) => Some(withdrawn_to(kind, 1)),
        _ => None,
    }
}

/// Where a withdrawn submission goes back to: the state it was submitted from. A first
/// submission (round 1) came from 剪辑 (films) or 草稿; a later one from 退回修改, except for
/// proposals, which return to 草稿 and are submitted from there every time.
pub fn withdrawn_to(kind: Kind, review_round: i32) -> Status {
    match kind {
        Kind::ReformProposal => Status::Draft,
        _ if review_round > 1 => Status::ChangesRequested,
        Kind::MicroFilm => Status::Editing,
        _ => Status::Draft,
    }
}

/// The actions the lifecycle allows from a state (whoever performs them).
pub fn allowed_actions(kind: Kind, status: Status) -> Vec<Action> {
    Action::ALL.into_iter().filter(|action| next_status(kind, status, *action).is_some()).collect()
}

/// States that wait for a reviewer's decision.
pub fn awaits_decision(kind: Kind, status: Status) -> bool {
    allowed_actions(kind, status).iter().any(|action| action.duty() == Duty::Decision)
}

/// States of a work that went out (or was adopted): its fields are fixed, except by a
/// correction with a reason (a typo, a wrong link), by reviewers and admins.
pub fn is_correctable(status: Status) -> bool {
    matches!(status, Status::Approved | Status::Published | Status::Archived | Status::Adopted)
}

/// States where nothing more happens (for overdue marks).
pub fn is_final(status: Status) -> bool {
    FINAL_STATES.contains(&status)
}

/// States a work ends in: nothing is due any more.
pub const FINAL_STATES: [Status; 5] =
    [Status::Published, Status::Archived, Status::Rejected, Status::Adopted, Status::Declined];

/// The order states appear in on a board, for one kind.
pub fn states_of(kind: Kind) -> Vec<Status> {
    match kind {
        Kind::MicroFilm => vec![
            Status::Planning,
            Status::Shooting,
            Status::Editing,
            Status::Submitted,
            Status::ChangesRequested,
            Status::Approved,
            Status::Rejected,
            Status::Published,
            Status::Archived,
        ],
        Kind::ReformProposal => vec![
            Status::Draft,
            Status::Submitted,
            Status::Shortlisted,
            Status::Recommended,
            Status::Reported,
            Status::Adopted,
            Status::Declined,
        ],
        _ => vec![
            Status::Draft,
            Status::Submitted,
            Status::ChangesRequested,
            Status::Approved,
            Status::Rejected,
            Status::Published,
            Status::Archived,
        ],
    }
}

/// The caller as the lifecycle sees them, relative to one work.
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    pub roles: &'a [Role],
    /// Created the work.
    pub is_creator: bool,
    /// Named in the credits or among the assignees.
    pub is_team_member: bool,
}

impl Actor<'_> {
    fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not possible from this state; lists what is.
    Illegal { allowed: Vec<Action> },
    /// The caller's roles or relation to the work do not allow it.
    NotYours(&'static str),
    /// A reviewer deciding on their own work.
    SelfReview,
    /// The action needs a comment.
    CommentRequired,
}

/// Checks a transition and returns the state it leads to.
pub fn check(
    kind: Kind,
    status: Status,
    action: Action,
    actor: &Actor<'_>,
    comment: Option<&str>,
) -> Result<Status, Refusal> {
    let Some(next) = next_status(kind, status, action) else {
        return Err(Refusal::Illegal { allowed: allowed_actions(kind, status) });
    };
    match action.duty() {
        Duty::Production => {
            let team = actor.is_creator || (actor.is_team_member && actor.has(Role::Contributor));
            if !(team || actor.has(Role::Admin)) {
                return Err(Refusal::NotYours("only the work's creator or its credited team may do this"));
            }
        }
        Duty::Decision => {
            if !(actor.has(Role::Reviewer) || actor.has(Role::Admin)) {
                return Err(Refusal::NotYours("decisions belong to reviewers"));
            }
            if actor.is_creator || actor.is_team_member {
                return Err(Refusal::SelfReview);
            }
        }
        Duty::Release => {
            if !(actor.has(Role::Reviewer) || actor.has(Role::Admin)) {
                return Err(Refusal::NotYours("publishing and archiving belong to reviewers and admins"));
            }
        }
    }
    if action.needs_comment() && comment.is_none_or(|text| text.trim().is_empty()) {
        return Err(Refusal::CommentRequired);
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTRIBUTOR: &[Role] = &[Role::Contributor];
    const REVIEWER: &[Role] = &[Role::Reviewer];
    const STAFF: &[Role] = &[Role::Staff];
    const ADMIN: &[Role] = &[Role::Admin];

    fn actor(roles: &[Role], is_creator: bool, is_team_member: bool) -> Actor<'_> {
        Actor { roles, is_creator, is_team_member }
    }

    /// The expected outcome for every (kind, state, action, actor).
    fn expected(kind: Kind, status: Status, action: Action, who: &str) -> Result<Status, &'static str> {
        let Some(next) = next_status(kind, status, action) else { return Err("illegal") };
        let comment_ok = !action.needs_comment();
        match (action.duty(), who) {
            (Duty::Production, "creator" | "credited" | "reviewer-creator" | "admin") => Ok(next),
            (Duty::Production, _) => Err("not-yours"),
            (Duty::Decision, "creator" | "credited") => Err("not-yours"),
            (Duty::Decision, "reviewer-creator") => Err("self-review"),
            (Duty::Decision, "reviewer" | "admin") if comment_ok => Ok(next),
            (Duty::Decision, "reviewer" | "admin") => Err("comment"),
            (Duty::Decision, _) => Err("not-yours"),
            (Duty::Release, "reviewer" | "reviewer-creator" | "admin") => Ok(next),
            (Duty::Release, _) => Err("not-yours"),
        }
    }

    fn outcome(result: Result<Status, Refusal>) -> Result<Status, &'static str> {
        result.map_err(|refusal| match refusal {
            Refusal::Illegal { .. } => "illegal",
            Refusal::NotYours(_) => "not-yours",
            Refusal::SelfReview => "self-review",
            Refusal::CommentRequired => "comment",
        })
    }

    #[test]
    fn every_state_action_and_role_matches_the_rules() {
        let actors = [
            ("creator", actor(CONTRIBUTOR, true, false)),
            ("credited", actor(CONTRIBUTOR, false, true)),
            ("stranger", actor(CONTRIBUTOR, false, false)),
            ("reviewer", actor(REVIEWER, false, false)),
            ("reviewer-creator", actor(REVIEWER, true, false)),
            ("staff", actor(STAFF, false, false)),
            ("admin", actor(ADMIN, false, false)),
        ];
        let mut checked = 0;
        for kind in Kind::ALL {
            for status in Status::ALL {
                for action in Action::ALL {
                    for (who, actor) in &actors {
                        let got = outcome(check(kind, status, action, actor, None));
                        assert_eq!(got, expected(kind, status, action, who), "{kind:?} {status:?} {action:?} by {who}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 4 * 15 * 15 * 7);
    }

    #[test]
    fn films_go_through_production_before_review() {
        let steps = [
            (Status::Planning, Action::StartShooting, Status::Shooting),
            (Status::Shooting, Action::StartEditing, Status::Editing),
            (Status::Editing, Action::Submit, Status::Submitted),
            (Status::Submitted, Action::Approve, Status::Approved),
            (Status::Approved, Action::Publish, Status::Published),
            (Status::Published, Action::Archive, Status::Archived),
        ];
        for (from, action, to) in steps {
            assert_eq!(next_status(Kind::MicroFilm, from, action), Some(to));
        }
        assert_eq!(next_status(Kind::MicroFilm, Status::Planning, Action::Submit), None);
    }

    #[test]
    fn changes_requested_can_be_submitted_again() {
        for kind in [Kind::MicroFilm, Kind::WeiboPost, Kind::WechatArticle] {
            assert_eq!(next_status(kind, Status::ChangesRequested, Action::Submit), Some(Status::Submitted));
        }
    }

    #[test]
    fn proposals_are_selected_recommended_and_reported() {
        let kind = Kind::ReformProposal;
        assert_eq!(allowed_actions(kind, Status::Submitted), vec![Action::Shortlist, Action::Return, Action::Withdraw]);
        assert_eq!(allowed_actions(kind, Status::Reported), vec![Action::Adopt, Action::Decline]);
        assert_eq!(next_status(kind, Status::Shortlisted, Action::Return), Some(Status::Draft));
        assert_eq!(next_status(kind, Status::Recommended, Action::Return), None);
        assert!(awaits_decision(kind, Status::Recommended));
        assert!(!awaits_decision(kind, Status::Adopted));
    }

    #[test]
    fn decisions_that_turn_work_down_need_a_comment() {
        let reviewer = actor(REVIEWER, false, false);
        assert_eq!(
            check(Kind::WeiboPost, Status::Submitted, Action::Reject, &reviewer, Some("  ")),
            Err(Refusal::CommentRequired)
        );
        assert_eq!(
            check(Kind::WeiboPost, Status::Submitted, Action::Reject, &reviewer, Some("内容不实")),
            Ok(Status::Rejected)
        );
    }

    #[test]
    fn illegal_actions_list_what_is_allowed() {
        let admin = actor(ADMIN, false, false);
        let refusal = check(Kind::WeiboPost, Status::Draft, Action::Publish, &admin, None).unwrap_err();
        assert_eq!(refusal, Refusal::Illegal { allowed: vec![Action::Submit] });
    }

    #[test]
    fn every_kind_has_its_board_columns() {
        for kind in Kind::ALL {
            assert!(states_of(kind).contains(&kind.initial_status()));
        }
    }

    #[test]
    fn a_withdrawn_submission_goes_back_where_it_came_from() {
        assert_eq!(withdrawn_to(Kind::MicroFilm, 1), Status::Editing);
        assert_eq!(withdrawn_to(Kind::MicroFilm, 2), Status::ChangesRequested);
        assert_eq!(withdrawn_to(Kind::WechatArticle, 1), Status::Draft);
        assert_eq!(withdrawn_to(Kind::WeiboPost, 3), Status::ChangesRequested);
        assert_eq!(withdrawn_to(Kind::ReformProposal, 2), Status::Draft);
        assert_eq!(Action::Withdraw.duty(), Duty::Production, "the author's, not a reviewer's");
        assert!(
            next_status(Kind::WechatArticle, Status::Approved, Action::Withdraw).is_none(),
            "only before a decision"
        );
    }
}
