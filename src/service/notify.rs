//! The in-app inbox: who is told what, written in the same transaction as the change that
//! caused it (a step, a comment, an assignment), so a notice never announces something that
//! was rolled back and nothing that happened goes unannounced. Overdue reminders come from a
//! once-a-day sweep. Each person reads their inbox, marks notices read and chooses the kinds
//! they get.

use std::collections::HashSet;

use chrono::NaiveDateTime;

use super::auth::AuthUser;
use crate::clock::now;
use crate::db::notifications::{self as rows, NotificationRow};
use crate::db::works::WorkRow;
use crate::db::{Db, DbConnection, DbError};
use crate::domain::ids::UserId;
use crate::domain::lifecycle::Action;
use crate::domain::notice::{self, Event};
use crate::domain::user::Role;
use crate::domain::work::Status;

/// Why an inbox request failed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(NotifyError);

/// One notice to send.
pub struct Notice<'a> {
    pub event: Event,
    pub work_id: Option<&'a str>,
    pub actor: Option<&'a UserId>,
    pub text: String,
    pub dedupe_key: Option<String>,
}

/// Stores a notice for each recipient, except the one who caused it and those who turned its
/// kind off; each person once. Returns how many were stored.
pub fn send(
    conn: &mut DbConnection,
    recipients: &[String],
    notice: Notice<'_>,
    stamp: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    let actor = notice.actor.map(UserId::as_str);
    let mut seen = HashSet::new();
    let wanted: Vec<String> =
        recipients.iter().filter(|id| Some(id.as_str()) != actor && seen.insert(id.as_str())).cloned().collect();
    if wanted.is_empty() {
        return Ok(0);
    }
    let muted: HashSet<String> = rows::muting(conn, notice.event.as_str(), &wanted)?.into_iter().collect();
    // A notice quotes titles and comments: never a person's ID or phone number.
    let text = crate::domain::compliance::redact(&notice.text).into_owned();
    let rows: Vec<NotificationRow> = wanted
        .into_iter()
        .filter(|id| !muted.contains(id))
        .map(|user_id| NotificationRow {
            id: uuid::Uuid::now_v7().to_string(),
            dedupe_key: notice.dedupe_key.as_ref().map(|key| format!("{key}:{user_id}")),
            user_id: UserId::from_db(user_id),
            event: notice.event.as_str().to_owned(),
            work_id: notice.work_id.map(str::to_owned),
            actor_id: actor.map(str::to_owned),
            text: text.clone(),
            read_at: None,
            created_at: stamp,
        })
        .collect();
    rows::insert(conn, &rows)
}

/// The people a work belongs to: its creator and assignees.
fn owners(work: &WorkRow) -> Vec<String> {
    let mut people = vec![work.created_by.as_str().to_owned()];
    people.extend(work.assignees.value().iter().map(|id| id.as_str().to_owned()));
    people
}

/// The notices of a lifecycle step that moved `work` (as it is after the step) to `next`.
pub fn step_taken(
    conn: &mut DbConnection,
    caller: &AuthUser,
    work: &WorkRow,
    (action, next): (Action, Status),
    comment: Option<&str>,
    stamp: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let (event, recipients) = match action {
        Action::Submit => {
            // Everyone who may decide, but never on their own work (the self-review rule).
            let own: HashSet<String> = owners(work).into_iter().collect();
            let reviewers = rows::active_with_role(conn, Role::Reviewer)?;
            (Event::ReviewWaiting, reviewers.into_iter().filter(|id| !own.contains(id)).collect())
        }
        Action::RequestChanges | Action::Reject | Action::Return | Action::Decline => (Event::SentBack, owners(work)),
        Action::Approve if next == Status::Approved => (Event::Approved, owners(work)),
        Action::Adopt => (Event::Approved, owners(work)),
        Action::Publish => (Event::Published, owners(work)),
        _ => return Ok(()),
    };
    let text = notice::step_text(&work.title, event, next, comment);
    super::webhooks::enqueue(conn, event, Some(work.id.as_str()), &text, stamp)?;
    let notice = Notice { event, work_id: Some(work.id.as_str()), actor: Some(&caller.id), text, dedupe_key: None };
    send(conn, &recipients, notice, stamp).map(drop)
}

/// The notices of a new comment: the work's people, the author of the comment replied to,
/// and everyone `@`-mentioned (each gets the most specific one).
pub fn commented(
    conn: &mut DbConnection,
    caller: &AuthUser,
    work: &WorkRow,
    (body, parent_author): (&str, Option<&UserId>),
    stamp: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let author = caller.display_name.as_str();
    let mentioned = rows::active_by_username(conn, &notice::mentions(body))?;
    let replied: Vec<String> = parent_author.map(|id| id.as_str().to_owned()).into_iter().collect();
    let told: HashSet<&String> = mentioned.iter().chain(&replied).collect();
    let rest: Vec<String> = owners(work).into_iter().filter(|id| !told.contains(id)).collect();
    let replied_only: Vec<String> = replied.iter().filter(|id| !mentioned.contains(id)).cloned().collect();
    for (event, recipients) in
        [(Event::Mention, mentioned.clone()), (Event::Reply, replied_only), (Event::Comment, rest)]
    {
        let text = notice::comment_text(author, &work.title, event, body);
        let notice = Notice { event, work_id: Some(work.id.as_str()), actor: Some(&caller.id), text, dedupe_key: None };
        send(conn, &recipients, notice, stamp)?;
    }
    // The group hears of each comment once.
    let text = notice::comment_text(author, &work.title, Event::Comment, body);
    super::webhooks::enqueue(conn, Event::Comment, Some(work.id.as_str()), &text, stamp)
}

/// The notices of an assignment: those newly assigned.
pub fn assigned(
    conn: &mut DbConnection,
    caller: &AuthUser,
    work: &WorkRow,
    before: &[UserId],
    stamp: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let new: Vec<String> =
        work.assignees.value().iter().filter(|id| !before.contains(id)).map(|id| id.as_str().to_owned()).collect();
    if new.is_empty() {
        return Ok(());
    }
    let text = notice::step_text(&work.title, Event::Assigned, work.status, None);
    super::webhooks::enqueue(conn, Event::Assigned, Some(work.id.as_str()), &text, stamp)?;
    let notice = Notice {
        event: Event::Assigned,
        work_id: Some(work.id.as_str()),
        actor: Some(&caller.id),
        text,
        dedupe_key: None,
    };
    send(conn, &new, notice, stamp).map(drop)
}

/// Tells the people of every overdue work, once a day each (blocking; the daily sweep).
pub fn remind_overdue(db: &Db, today: chrono::NaiveDate) -> Result<usize, NotifyError> {
    let day = today.format("%Y-%m-%d").to_string();
    db.write_blocking(|conn| -> Result<usize, NotifyError> {
        let overdue = crate::db::works::overdue_all(conn, &day)?;
        let stamp = now();
        for work in &overdue {
            let due = work.due_date.clone().unwrap_or_default();
            let text = notice::overdue_text(&work.title, &due);
            let notice = Notice {
                event: Event::Overdue,
                work_id: Some(work.id.as_str()),
                actor: None,
                text: text.clone(),
                dedupe_key: Some(format!("overdue:{}:{day}", work.id.as_str())),
            };
            // Only the first sweep of the day stores anything; only it tells the group.
            if send(conn, &owners(work), notice, stamp)? > 0 {
                super::webhooks::enqueue(conn, Event::Overdue, Some(work.id.as_str()), &text, stamp)?;
            }
        }
        Ok(overdue.len())
    })
}

/// A page of the caller's inbox and their unread count.
pub async fn inbox(
    db: &Db,
    user: &AuthUser,
    unread_only: bool,
    page: crate::domain::page::Page,
) -> Result<(i64, Vec<NotificationRow>), NotifyError> {
    let me = user.id.as_str().to_owned();
    Ok(db
        .read(move |conn| -> diesel::QueryResult<_> {
            let items = rows::inbox(conn, &me, unread_only, page.offset(), page.per_page)?;
            Ok((rows::unread_count(conn, &me)?, items))
        })
        .await?)
}

/// Marks the caller's notices read (`None`: all of them); returns what is left unread.
pub async fn mark_read(db: &Db, user: &AuthUser, ids: Option<Vec<String>>) -> Result<i64, NotifyError> {
    let me = user.id.as_str().to_owned();
    Ok(db
        .write(move |conn| -> diesel::QueryResult<i64> {
            rows::mark_read(conn, &me, ids.as_deref(), now())?;
            rows::unread_count(conn, &me)
        })
        .await?)
}

/// Opens one of the caller's notices: marks it read and says which work it is about
/// (`None` when it is not theirs, or about no work).
pub async fn open(db: &Db, user: &AuthUser, id: String) -> Result<Option<String>, NotifyError> {
    let me = user.id.as_str().to_owned();
    Ok(db.write(move |conn| rows::open(conn, &me, &id, now())).await?.flatten())
}

/// The kinds of notice the caller gets.
pub async fn wanted_events(db: &Db, user: &AuthUser) -> Result<Vec<(Event, bool)>, NotifyError> {
    let me = user.id.as_str().to_owned();
    let muted = db.read(move |conn| rows::mutes_of(conn, &me)).await?;
    Ok(Event::ALL.into_iter().map(|event| (event, !muted.iter().any(|name| name == event.as_str()))).collect())
}

/// Sets the kinds of notice the caller gets (the rest are turned off).
pub async fn set_wanted_events(
    db: &Db,
    user: &AuthUser,
    wanted: Vec<Event>,
) -> Result<Vec<(Event, bool)>, NotifyError> {
    let me = user.id.as_str().to_owned();
    let muted: Vec<&'static str> =
        Event::ALL.into_iter().filter(|event| !wanted.contains(event)).map(Event::as_str).collect();
    db.write(move |conn| rows::set_mutes(conn, &me, &muted)).await?;
    wanted_events(db, user).await
}
