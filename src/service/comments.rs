//! Comments on works: plain notes, replies, and notes pinned to a moment of a film cut.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::audit;
use super::auth::AuthUser;
use super::works::{WorkError, load_visible};
use crate::clock::now;
use crate::db::comments::{self, CommentRow};
use crate::db::{Db, DbConnection, media, users};
use crate::domain::FieldError;
use crate::domain::fields::bounded_text;
use crate::domain::ids::{MediaId, WorkId};
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
    pub reply_to: Option<String>,
}

/// A comment as shown, with its author's name.
#[derive(Debug, Clone)]
pub struct CommentView {
    pub row: CommentRow,
    pub author_name: String,
    pub created_at: DateTime<Utc>,
}

/// A work's comments, oldest first.
pub async fn list(db: &Db, user: &AuthUser, work_id: WorkId) -> Result<Vec<CommentView>, WorkError> {
    let caller = user.clone();
    let found = db
        .read(move |conn| -> Result<_, WorkError> {
            load_visible(conn, &caller, &work_id)?;
            let rows = comments::for_work(conn, &work_id)?;
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

/// The medium a comment is pinned to: it must be one of the work's own, and a timecode must
/// lie within it where its duration is known.
fn media_of_work(
    conn: &mut DbConnection,
    raw: &str,
    work_id: &WorkId,
    timecode_ms: Option<i64>,
) -> Result<MediaId, WorkError> {
    let found = match MediaId::parse(raw) {
        Some(id) => media::find(conn, &id)?.filter(|medium| &medium.work_id == work_id),
        None => None,
    };
    let medium = found.ok_or_else(|| FieldError::invalid("media_id", "must be a media id of this work"))?;
    if let (Some(timecode), Some(duration)) = (timecode_ms, medium.duration_ms)
        && timecode > duration
    {
        let why = format!("must lie within the cut: 0 to {duration} ms");
        return Err(FieldError::out_of_range("timecode_ms", codes::TIMECODE_OUT_OF_RANGE, why).into());
    }
    Ok(medium.id)
}

/// Adds a comment to a work the caller may see.
pub async fn create(db: &Db, user: &AuthUser, work_id: WorkId, input: NewComment) -> Result<CommentView, WorkError> {
    let caller = user.clone();
    let row = db
        .write(move |conn| -> Result<_, WorkError> {
            // Visibility first: a caller who may not see the work learns nothing else.
            load_visible(conn, &caller, &work_id)?;
            let body = bounded_text("body", &input.body, COMMENT_MAX_CHARS)?;
            if input.timecode_ms.is_some_and(|timecode| !(0..=MAX_TIMECODE_MS).contains(&timecode)) {
                let message = format!("must be between 0 and {MAX_TIMECODE_MS}");
                return Err(FieldError::invalid("timecode_ms", message).into());
            }
            let media_id = match input.media_id.as_deref() {
                Some(raw) => Some(media_of_work(conn, raw, &work_id, input.timecode_ms)?),
                None => None,
            };
            if let Some(parent) = &input.reply_to
                && !comments::exists_on(conn, &work_id, parent)?
            {
                return Err(FieldError::invalid("reply_to", "must be a comment on this work").into());
            }
            let stamp = now();
            let row = CommentRow {
                id: uuid::Uuid::now_v7().to_string(),
                work_id: work_id.clone(),
                author_id: caller.id.clone(),
                body,
                media_id,
                timecode_ms: input.timecode_ms,
                reply_to: input.reply_to,
                created_at: stamp,
            };
            comments::insert(conn, &row)?;
            let details = json!({"comment_id": row.id, "media_id": row.media_id, "timecode_ms": row.timecode_ms, "chars": row.body.chars().count()});
            audit::record(conn, Some(&caller), "comment.created", ("work", &work_id), details, stamp)?;
            Ok(row)
        })
        .await?;
    Ok(CommentView { created_at: row.created_at.and_utc(), author_name: user.display_name.clone(), row })
}
