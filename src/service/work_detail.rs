//! Everything the work page shows, read in one blocking hop with one visibility check: the
//! work, its media, comments, history and this round's sign-offs, and the names of everyone
//! they mention.

use std::collections::HashMap;

use super::audit::AuditView;
use super::auth::AuthUser;
use super::comments::CommentView;
use super::media::MediaView;
use super::works::{Work, WorkError, load_visible};
use crate::db::comments::CommentRow;
use crate::db::publications::{self, MetricsRow, PublicationRow};
use crate::db::{Db, DbConnection, audit, comments, media, review, users};
use crate::domain::ids::{UserId, WorkId};

/// A work and what its page shows beside it.
#[derive(Debug, Clone)]
pub struct WorkDetail {
    pub work: Work,
    /// Its media, oldest first.
    pub media: Vec<MediaView>,
    /// Its comments, oldest first.
    pub comments: Vec<CommentView>,
    /// Its audit entries, oldest first.
    pub history: Vec<AuditView>,
    /// Reviewers who signed the current round off.
    pub signoffs: Vec<UserId>,
    /// Display names of the creator, assignees, reviewers and history's actors.
    pub names: HashMap<UserId, String>,
    /// Where and when it was published, each with its newest metrics.
    pub publications: Vec<(PublicationRow, Option<MetricsRow>)>,
}

/// The work page's data, if the caller may see the work.
pub async fn work_detail(db: &Db, user: &AuthUser, id: WorkId) -> Result<WorkDetail, WorkError> {
    let caller = user.clone();
    db.read(move |conn| load_detail(conn, &caller, &id)).await
}

/// A work's comments, and its audit entries oldest first.
fn production_record(
    conn: &mut DbConnection,
    id: &WorkId,
) -> Result<(Vec<CommentRow>, Vec<audit::AuditRow>), WorkError> {
    let comment_rows = comments::for_work(conn, id)?;
    let filter = audit::AuditFilter { target_id: Some(id.to_string()), ..audit::AuditFilter::default() };
    let (mut history_rows, _) = audit::list(conn, &filter, 0, 10_000)?;
    history_rows.reverse();
    Ok((comment_rows, history_rows))
}

fn load_detail(conn: &mut DbConnection, caller: &AuthUser, id: &WorkId) -> Result<WorkDetail, WorkError> {
    let row = load_visible(conn, caller, id)?;
    let production = super::access::sees_production(caller);
    let signoffs = if production { review::signoffs_of(conn, id, row.review_round)? } else { Vec::new() };
    let work = Work::from_row(row);
    let media = media::list_for_work(conn, id)?.into_iter().map(MediaView::from_row).collect();
    // Staff read the archive, not the notes and history behind it.
    let (comment_rows, history_rows) = if production { production_record(conn, id)? } else { (Vec::new(), Vec::new()) };
    let history: Vec<AuditView> = history_rows.into_iter().map(AuditView::from).collect();
    let mentioned = mentioned_people(&work, &signoffs, &comment_rows, &history);
    let names: HashMap<UserId, String> =
        users::display_names(conn, &mentioned)?.into_iter().map(|(id, name)| (UserId::from_db(id), name)).collect();
    let comments = comment_rows.into_iter().map(|row| comment_view(row, &names)).collect();
    let publications = publications::with_latest_metrics(conn, &[id.to_string()])?;
    Ok(WorkDetail { work, media, comments, history, signoffs, names, publications })
}

/// Everyone whose name the page shows.
fn mentioned_people(work: &Work, signoffs: &[UserId], comments: &[CommentRow], history: &[AuditView]) -> Vec<String> {
    let mut ids: Vec<String> = vec![work.created_by.to_string()];
    ids.extend(work.assignees.iter().chain(signoffs).map(UserId::to_string));
    ids.extend(comments.iter().map(|comment| comment.author_id.to_string()));
    ids.extend(history.iter().filter_map(|entry| entry.actor_id.clone()));
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn comment_view(row: CommentRow, names: &HashMap<UserId, String>) -> CommentView {
    let author_name = names.get(&row.author_id).cloned().unwrap_or_default();
    CommentView { created_at: row.created_at.and_utc(), author_name, row }
}
