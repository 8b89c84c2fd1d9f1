//! Comments on works: plain notes, replies, and notes pinned to a moment of a film cut.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::access::check_production;
use super::audit;
use super::auth::AuthUser;
use super::works::{WorkError, load_visible};
use crate::clock::now;
use crate::db::comments::{self, CommentRow};
use crate::db::types::Json;
use crate::db::{Db, DbConnection, media, users};
use crate::domain::FieldError;
use crate::domain::fields::bounded_text;
use crate::domain::frames::{Drawing, frame_at, start_of_frame};
use crate::domain::ids::{MediaId, WorkId};
use crate::domain::user::Role;
use crate::error::codes;

pub use crate::domain::transition::COMMENT_MAX_CHARS;
/// Latest timecode accepted (a day), in milliseconds.
pub const MAX_TIMECODE_MS: i64 = 24 * 3600 * 1000;

/// What a caller posts.
#[derive(Debug, Clone, Default)]
pub struct NewComment {
    pub body: String,
    pub media_id: Option<String>,
    pub timecode_ms: Option<i64>,
    /// A frame of the cut; wins over `timecode_ms` (which is then where the frame starts).
    pub frame: Option<i64>,
    pub drawing: Option<Drawing>,
    pub reply_to: Option<String>,
}

/// Which of a work's comments to list.
#[derive(Debug, Clone, Default)]
pub struct CommentFilter {
    /// Only those on this cut.
    pub media_id: Option<String>,
    /// Only resolved (`true`) or open (`false`) ones.
    pub resolved: Option<bool>,
}

impl CommentFilter {
    fn keeps(&self, row: &CommentRow) -> bool {
        let cut = self.media_id.as_deref().is_none_or(|wanted| row.media_id.as_ref().is_some_and(|id| id == wanted));
        let state = self.resolved.is_none_or(|resolved| row.resolved_at.is_some() == resolved);
        cut && state
    }
}

/// A comment as shown, with its author's name.
#[derive(Debug, Clone)]
pub struct CommentView {
    pub row: CommentRow,
    pub author_name: String,
    pub created_at: DateTime<Utc>,
}

/// A work's comments, oldest first.
pub async fn list(
    db: &Db,
    user: &AuthUser,
    work_id: WorkId,
    filter: CommentFilter,
) -> Result<Vec<CommentView>, WorkError> {
    let caller = user.clone();
    let found = db
        .read(move |conn| -> Result<_, WorkError> {
            load_visible(conn, &caller, &work_id)?;
            check_production(&caller)?;
            let rows: Vec<CommentRow> =
                comments::for_work(conn, &work_id)?.into_iter().filter(|row| filter.keeps(row)).collect();
            let authors: Vec<String> = rows.iter().map(|row| row.author_id.to_string()).collect();
            Ok((rows, users::display_names(conn, &authors)?))
        })
        .await?;
    let (rows, names) = found;
    Ok(rows
        .into_iter()
        .map(|row| {
            let author_name =
                names.iter().find(|(id, _)| *id == row.author_id).map(|(_, name)| name.clone()).unwrap_or_default();
            CommentView { created_at: row.created_at.and_utc(), author_name, row }
        })
        .collect())
}

/// The cut a comment is pinned to (one of the work's own media), and its moment: the frame
/// and the milliseconds where that frame starts. A moment must lie within the cut.
fn pin_to_cut(
    conn: &mut DbConnection,
    raw: &str,
    work_id: &WorkId,
    input: &NewComment,
) -> Result<(MediaId, Option<i64>, Option<i64>), WorkError> {
    let found = match MediaId::parse(raw) {
        Some(id) => media::find(conn, &id)?.filter(|medium| &medium.work_id == work_id),
        None => None,
    };
    let medium = found.ok_or_else(|| FieldError::invalid("media_id", "must be a media id of this work"))?;
    let fps = medium.frame_rate.filter(|fps| *fps > 0.0);
    let (timecode_ms, frame) = match (input.frame, fps) {
        (Some(frame), Some(fps)) if frame >= 0 => (Some(start_of_frame(frame, fps)), Some(frame)),
        (Some(_), Some(_)) => return Err(FieldError::invalid("frame", "must be 0 or more").into()),
        (Some(_), None) => {
            return Err(FieldError::invalid("frame", "needs a cut whose frame rate is known; give timecode_ms").into());
        }
        (None, fps) => (input.timecode_ms, input.timecode_ms.zip(fps).map(|(ms, fps)| frame_at(ms, fps))),
    };
    if let (Some(timecode), Some(duration)) = (timecode_ms, medium.duration_ms)
        && timecode > duration
    {
        let why = format!("must lie within the cut: 0 to {duration} ms");
        let field = if input.frame.is_some() { "frame" } else { "timecode_ms" };
        return Err(FieldError::out_of_range(field, codes::TIMECODE_OUT_OF_RANGE, why).into());
    }
    Ok((medium.id, timecode_ms, frame))
}

/// Adds a comment to a work the caller may see.
pub async fn create(db: &Db, user: &AuthUser, work_id: WorkId, input: NewComment) -> Result<CommentView, WorkError> {
    let caller = user.clone();
    let row = db
        .write(move |conn| -> Result<_, WorkError> {
            // Visibility first: a caller who may not see the work learns nothing else.
            let work = load_visible(conn, &caller, &work_id)?;
            check_production(&caller)?;
            let body = bounded_text("body", &input.body, COMMENT_MAX_CHARS)?;
            if input.timecode_ms.is_some_and(|timecode| !(0..=MAX_TIMECODE_MS).contains(&timecode)) {
                let message = format!("must be between 0 and {MAX_TIMECODE_MS}");
                return Err(FieldError::invalid("timecode_ms", message).into());
            }
            let (media_id, timecode_ms, frame) = match input.media_id.as_deref() {
                Some(raw) => {
                    let (id, timecode, frame) = pin_to_cut(conn, raw, &work_id, &input)?;
                    (Some(id), timecode, frame)
                }
                None if input.frame.is_some() => {
                    return Err(FieldError::invalid("frame", "needs the media_id of the cut").into());
                }
                None if input.timecode_ms.is_some() => {
                    // A moment is always a moment of a cut: without one named, the latest.
                    let cuts = media::latest_cuts_of(conn, &[work_id.as_str().to_owned()])?;
                    let latest = cuts.iter().max_by_key(|cut| cut.version).ok_or_else(|| {
                        FieldError::invalid("timecode_ms", "needs a film cut to point into; this work has none")
                    })?;
                    let (id, timecode, frame) = pin_to_cut(conn, latest.id.as_str(), &work_id, &input)?;
                    (Some(id), timecode, frame)
                }
                None => (None, None, None),
            };
            if input.drawing.is_some() && timecode_ms.is_none() {
                return Err(FieldError::invalid("drawing", "needs the frame it was drawn on (media_id and frame)").into());
            }
            let parent = match &input.reply_to {
                Some(parent) => Some(
                    comments::find(conn, parent)?
                        .filter(|found| found.work_id == work_id)
                        .ok_or_else(|| FieldError::invalid("reply_to", "must be a comment on this work"))?,
                ),
                None => None,
            };
            let stamp = now();
            let row = CommentRow {
                id: uuid::Uuid::now_v7().to_string(),
                work_id: work_id.clone(),
                author_id: caller.id.clone(),
                body,
                media_id,
                timecode_ms,
                reply_to: input.reply_to,
                created_at: stamp,
                frame,
                resolved_by: None,
                resolved_at: None,
                drawing: input.drawing.map(Json::new),
            };
            comments::insert(conn, &row)?;
            let details = json!({"comment_id": row.id, "media_id": row.media_id, "timecode_ms": row.timecode_ms, "frame": row.frame, "chars": row.body.chars().count()});
            audit::record(conn, Some(&caller), "comment.created", ("work", &work_id), details, stamp)?;
            let replied_to = parent.as_ref().map(|found| &found.author_id);
            super::notify::commented(conn, &caller, &work, (&row.body, replied_to), stamp)?;
            Ok(row)
        })
        .await?;
    Ok(CommentView { created_at: row.created_at.and_utc(), author_name: user.display_name.clone(), row })
}

/// Resolves a comment (or, with `false`, opens it again). The work's creator, reviewers and
/// admins may; anyone else who sees the work gets `RoleRequired`.
pub async fn set_resolved(
    db: &Db,
    user: &AuthUser,
    comment_id: String,
    resolved: bool,
) -> Result<CommentView, WorkError> {
    let caller = user.clone();
    let (row, names) = db
        .write(move |conn| -> Result<_, WorkError> {
            let comment = comments::find(conn, &comment_id)?.ok_or(WorkError::CommentNotFound)?;
            let work = load_visible(conn, &caller, &comment.work_id).map_err(|error| match error {
                WorkError::NotFound => WorkError::CommentNotFound,
                other => other,
            })?;
            check_production(&caller)?;
            let allowed = caller.has(Role::Reviewer) || caller.is_admin() || work.created_by == caller.id;
            if !allowed {
                return Err(WorkError::RoleRequired("reviewer (or the work's creator)"));
            }
            let stamp = now();
            if resolved != comment.resolved_at.is_some() {
                comments::set_resolved(conn, &comment.id, resolved.then_some((&caller.id, stamp)))?;
                let action = if resolved { "comment.resolved" } else { "comment.reopened" };
                let details = json!({"comment_id": comment.id});
                audit::record(conn, Some(&caller), action, ("work", &comment.work_id), details, stamp)?;
            }
            let row = comments::find(conn, &comment.id)?.ok_or(WorkError::CommentNotFound)?;
            let names = users::display_names(conn, &[row.author_id.to_string()])?;
            Ok((row, names))
        })
        .await?;
    let author_name = names.into_iter().next().map(|(_, name)| name).unwrap_or_default();
    Ok(CommentView { created_at: row.created_at.and_utc(), author_name, row })
}
