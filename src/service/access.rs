//! Who may see a work and who may change it: the one rule, used for loaded works and rows.
//! The same rule is translated once for queries (`db::works`, from [`crate::domain::user::Visibility`]) and once
//! for the search index (`search::searcher`), so a list, a search and a read always agree.

use super::auth::AuthUser;
use super::works::WorkError;
use crate::domain::ids::UserId;
use crate::domain::user::Role;
use crate::domain::work::Status;

/// The facts about a work that access depends on.
#[derive(Debug, Clone, Copy)]
pub struct WorkFacts<'a> {
    /// Who created it.
    pub created_by: &'a UserId,
    /// Who is assigned to it.
    pub assignees: &'a [UserId],
    /// Where it stands.
    pub status: Status,
    /// Whether it is soft-deleted.
    pub deleted: bool,
}

/// Whether the caller may see the work: their roles' visibility must allow it, and a deleted
/// work is seen by admins only.
pub fn may_see(user: &AuthUser, work: WorkFacts<'_>) -> bool {
    (!work.deleted || user.is_admin()) && user.visibility().allows(work.created_by, work.assignees, work.status)
}

/// Whether the caller is on the production side — the team (contributors), reviewers, admins —
/// to whom a work's comments, review notes and history belong. Staff alone read the archive:
/// the published work, its publication records and public fields, never the notes behind it.
pub fn sees_production(user: &AuthUser) -> bool {
    user.has(Role::Contributor) || user.has(Role::Reviewer) || user.is_admin()
}

/// Refuses callers who are not on the production side (see [`sees_production`]).
pub fn check_production(user: &AuthUser) -> Result<(), WorkError> {
    if sees_production(user) { Ok(()) } else { Err(WorkError::RoleRequired("contributor or reviewer")) }
}

/// Why the caller may not change the work's fields (or its media) now, if they may not: only
/// its creator or an admin may, and only in an editable state.
pub fn check_change(user: &AuthUser, work: WorkFacts<'_>) -> Result<(), WorkError> {
    if work.created_by != &user.id && !user.is_admin() {
        return Err(WorkError::NotCreator);
    }
    if !work.status.is_editable() {
        return Err(WorkError::NotEditable(work.status));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Role;
    use crate::service::auth::Credential;

    fn caller(roles: &[Role]) -> AuthUser {
        AuthUser {
            id: UserId::generate(),
            username: "caller".into(),
            display_name: "Caller".into(),
            roles: roles.to_vec(),
            csrf_token: String::new(),
            token_hash: String::new(),
            credential: Credential::Bearer,
            client_addr: None,
        }
    }

    /// Whose work it is, from the caller's point of view.
    #[derive(Debug, Clone, Copy)]
    enum Owner {
        Caller,
        AssignedToCaller,
        Someone,
    }

    fn facts<'a>(
        caller: &'a AuthUser,
        other: &'a UserId,
        assigned: &'a [UserId],
        owner: Owner,
        status: Status,
        deleted: bool,
    ) -> WorkFacts<'a> {
        let created_by = if matches!(owner, Owner::Caller) { &caller.id } else { other };
        let assignees = if matches!(owner, Owner::AssignedToCaller) { assigned } else { &[] };
        WorkFacts { created_by, assignees, status, deleted }
    }

    #[test]
    fn who_sees_what() {
        use Owner::*;
        use Status::{Draft, Published, Submitted};
        let table: &[(&[Role], Owner, Status, bool, bool)] = &[
            // roles, owner, status, deleted, sees
            (&[Role::Admin], Someone, Draft, false, true),
            (&[Role::Admin], Someone, Draft, true, true),
            (&[Role::Reviewer], Someone, Submitted, false, true),
            (&[Role::Reviewer], Someone, Draft, true, false),
            (&[Role::Contributor], Caller, Draft, false, true),
            (&[Role::Contributor], AssignedToCaller, Draft, false, true),
            (&[Role::Contributor], Someone, Draft, false, false),
            (&[Role::Contributor], Someone, Published, false, true),
            (&[Role::Contributor], Caller, Draft, true, false),
            (&[Role::Staff], Someone, Published, false, true),
            (&[Role::Staff], Someone, Submitted, false, false),
            (&[Role::Staff], Someone, Published, true, false),
            (&[], Someone, Published, false, false),
        ];
        let other = UserId::generate();
        for (roles, owner, status, deleted, sees) in table {
            let user = caller(roles);
            let assigned = [user.id.clone()];
            let work = facts(&user, &other, &assigned, *owner, *status, *deleted);
            assert_eq!(may_see(&user, work), *sees, "{roles:?} {owner:?} {status:?} deleted={deleted}");
        }
    }

    #[test]
    fn who_changes_what() {
        use Owner::*;
        use Status::{Draft, Published, Submitted};
        let table: &[(&[Role], Owner, Status, Option<&str>)] = &[
            // roles, owner, status, refusal
            (&[Role::Contributor], Caller, Draft, None),
            (&[Role::Contributor], Caller, Submitted, Some("not-editable")),
            (&[Role::Contributor], AssignedToCaller, Draft, Some("not-creator")),
            (&[Role::Contributor], Someone, Draft, Some("not-creator")),
            (&[Role::Reviewer], Someone, Draft, Some("not-creator")),
            (&[Role::Admin], Someone, Draft, None),
            (&[Role::Admin], Someone, Published, Some("not-editable")),
        ];
        let other = UserId::generate();
        for (roles, owner, status, refusal) in table {
            let user = caller(roles);
            let assigned = [user.id.clone()];
            let work = facts(&user, &other, &assigned, *owner, *status, false);
            let found = match check_change(&user, work) {
                Ok(()) => None,
                Err(WorkError::NotCreator) => Some("not-creator"),
                Err(WorkError::NotEditable(_)) => Some("not-editable"),
                Err(other) => panic!("unexpected refusal {other:?}"),
            };
            assert_eq!(found, *refusal, "{roles:?} {owner:?} {status:?}");
        }
    }
}
