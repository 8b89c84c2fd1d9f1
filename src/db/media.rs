//! The `media` table: one row per upload (the same bytes uploaded twice are two rows over one
//! stored original).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::media;
use super::types::Json;
use crate::domain::ids::{MediaId, UserId, WorkId};
use crate::domain::media::{MediaRole, MediaStatus};
use crate::domain::preview::PreviewStatus;
use crate::domain::subtitles::Cue;

/// A stored media record.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    pub id: MediaId,
    pub work_id: WorkId,
    pub sha256: String,
    pub size: i64,
    pub format: String,
    pub content_type: String,
    pub original_filename: Option<String>,
    pub role: MediaRole,
    pub version: i32,
    pub status: MediaStatus,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i64>,
    pub rotation: Option<i32>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub frame_rate: Option<f64>,
    pub bitrate: Option<i64>,
    pub taken_at: Option<String>,
    pub camera: Option<String>,
    /// The file names of the derivatives that exist.
    pub derivatives: Json<Vec<String>>,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub pixel_format: Option<String>,
    pub preview_status: PreviewStatus,
    /// 0–100 while the preview is made.
    pub preview_progress: i32,
    pub preview_error: Option<String>,
    /// The cues of a subtitle upload.
    pub transcript: Option<Json<Vec<Cue>>>,
    /// Whether the original (a photo) carries GPS coordinates; unknown until processed.
    pub gps: Option<bool>,
}

/// A new upload's record: what is known before processing (the rest starts empty).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = media)]
pub struct NewMedia {
    pub id: MediaId,
    pub work_id: WorkId,
    pub sha256: String,
    pub size: i64,
    pub format: String,
    pub content_type: String,
    pub original_filename: Option<String>,
    pub role: MediaRole,
    /// Which cut (for `main`) or upload of its role this is: 1, 2 …
    pub version: i32,
    pub status: MediaStatus,
    pub derivatives: Json<Vec<String>>,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A ready visual medium of a work that could stand for it as a thumbnail.
#[derive(Debug, Clone, Queryable)]
pub struct ThumbnailCandidate {
    pub work_id: WorkId,
    pub media_id: MediaId,
    pub role: MediaRole,
    pub derivatives: Json<Vec<String>>,
}

/// What processing writes back.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = media, treat_none_as_null = true)]
pub struct ProcessedFields {
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i64>,
    pub rotation: Option<i32>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub frame_rate: Option<f64>,
    pub bitrate: Option<i64>,
    pub taken_at: Option<String>,
    pub camera: Option<String>,
    pub pixel_format: Option<String>,
    pub derivatives: Json<Vec<String>>,
    /// Whether a preview is to be made (`pending`) or not (`not_needed`).
    pub preview_status: PreviewStatus,
    pub preview_progress: i32,
    pub preview_error: Option<String>,
    pub transcript: Option<Json<Vec<Cue>>>,
    pub gps: Option<bool>,
}

/// Stores a new record.
pub fn insert(conn: &mut DbConnection, row: &NewMedia) -> QueryResult<()> {
    diesel::insert_into(media::table).values(row).execute(conn).map(drop)
}

/// One record.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<MediaRow>> {
    media::table.find(id).select(MediaRow::as_select()).first(conn).optional()
}

/// A work's media, oldest first.
pub fn list_for_work(conn: &mut DbConnection, work_id: &str) -> QueryResult<Vec<MediaRow>> {
    media::table
        .filter(media::work_id.eq(work_id))
        .order((media::created_at.asc(), media::id.asc()))
        .select(MediaRow::as_select())
        .load(conn)
}

/// How many uploads of this role a work has (the next one's version is this + 1).
pub fn count_with_role(conn: &mut DbConnection, work_id: &str, role: MediaRole) -> QueryResult<i64> {
    media::table.filter(media::work_id.eq(work_id)).filter(media::role.eq(role)).count().get_result(conn)
}

/// The work's medium with these bytes, if it has one.
pub fn find_in_work_by_sha256(conn: &mut DbConnection, work_id: &str, sha256: &str) -> QueryResult<Option<MediaRow>> {
    media::table
        .filter(media::work_id.eq(work_id))
        .filter(media::sha256.eq(sha256))
        .select(MediaRow::as_select())
        .first(conn)
        .optional()
}

/// How many records point at these bytes.
pub fn count_with_sha256(conn: &mut DbConnection, sha256: &str) -> QueryResult<i64> {
    media::table.filter(media::sha256.eq(sha256)).count().get_result(conn)
}

/// Every digest and derivative name the records point at (what a store must hold).
pub fn stored_objects(conn: &mut DbConnection) -> QueryResult<Vec<(String, Json<Vec<String>>)>> {
    media::table.select((media::sha256, media::derivatives)).load(conn)
}

/// Removes a record (its jobs go with it).
pub fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(media::table.find(id)).execute(conn)? == 1)
}

/// Marks a record ready with what processing found.
pub fn set_ready(conn: &mut DbConnection, id: &str, fields: &ProcessedFields, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(media::table.find(id))
        .set((
            fields,
            media::status.eq(MediaStatus::Ready),
            media::error_code.eq(None::<String>),
            media::error_message.eq(None::<String>),
            media::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Marks a record failed with a code and message.
pub fn set_failed(conn: &mut DbConnection, id: &str, code: &str, message: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(media::table.find(id))
        .set((
            media::status.eq(MediaStatus::Failed),
            media::error_code.eq(code),
            media::error_message.eq(message),
            media::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Marks a record as being processed again.
pub fn set_processing(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(media::table.find(id))
        .set((
            media::status.eq(MediaStatus::Processing),
            media::error_code.eq(None::<String>),
            media::error_message.eq(None::<String>),
            media::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// `(work_id, original_filename)` of the media of several works.
pub fn filenames_for(conn: &mut DbConnection, work_ids: &[String]) -> QueryResult<Vec<(String, Option<String>)>> {
    media::table.filter(media::work_id.eq_any(work_ids)).select((media::work_id, media::original_filename)).load(conn)
}

/// `(work_id, cues)` of the ready subtitle uploads of several works, oldest first.
pub fn transcripts_for(conn: &mut DbConnection, work_ids: &[String]) -> QueryResult<Vec<(WorkId, Json<Vec<Cue>>)>> {
    let rows: Vec<(WorkId, Option<Json<Vec<Cue>>>)> = media::table
        .filter(media::work_id.eq_any(work_ids))
        .filter(media::role.eq(MediaRole::Subtitle))
        .filter(media::status.eq(MediaStatus::Ready))
        .order(media::created_at.asc())
        .select((media::work_id, media::transcript))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(work, cues)| Some((work, cues?))).collect())
}

/// The ready main videos (the cuts) of several works.
pub fn latest_cuts_of(conn: &mut DbConnection, work_ids: &[String]) -> QueryResult<Vec<MediaRow>> {
    media::table
        .filter(media::work_id.eq_any(work_ids))
        .filter(media::role.eq(MediaRole::Main))
        .filter(media::status.eq(MediaStatus::Ready))
        .filter(media::content_type.like("video/%"))
        .select(MediaRow::as_select())
        .load(conn)
}

/// Ready media of several works, oldest first, for result thumbnails.
pub fn thumbnails_for(conn: &mut DbConnection, work_ids: &[String]) -> QueryResult<Vec<ThumbnailCandidate>> {
    media::table
        .filter(media::work_id.eq_any(work_ids))
        .filter(media::status.eq(MediaStatus::Ready))
        .order(media::created_at.asc())
        .select((media::work_id, media::id, media::role, media::derivatives))
        .load(conn)
}

/// Where a medium's preview stands, with its progress and (when failed) why.
pub fn set_preview(
    conn: &mut DbConnection,
    id: &str,
    status: PreviewStatus,
    progress: i32,
    error: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(media::table.find(id))
        .set((
            media::preview_status.eq(status),
            media::preview_progress.eq(progress),
            media::preview_error.eq(error),
            media::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Records the progress of a preview being made (only while it is).
pub fn set_preview_progress(conn: &mut DbConnection, id: &str, progress: i32) -> QueryResult<()> {
    diesel::update(media::table.find(id).filter(media::preview_status.eq(PreviewStatus::Processing)))
        .set(media::preview_progress.eq(progress))
        .execute(conn)
        .map(drop)
}

/// Marks the preview ready and lists its file among the derivatives.
pub fn set_preview_ready(
    conn: &mut DbConnection,
    id: &str,
    derivatives: &Json<Vec<String>>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(media::table.find(id))
        .set((
            media::derivatives.eq(derivatives),
            media::preview_status.eq(PreviewStatus::Ready),
            media::preview_progress.eq(100),
            media::preview_error.eq(None::<String>),
            media::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Marks every record as to be processed again, with no derivatives and no preview (a
/// restored installation regenerates them); returns their ids.
pub fn reset_all(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<MediaId>> {
    diesel::update(media::table)
        .set((
            media::status.eq(MediaStatus::Processing),
            media::derivatives.eq("[]"),
            media::preview_status.eq(PreviewStatus::NotNeeded),
            media::preview_progress.eq(0),
            media::preview_error.eq(None::<String>),
            media::updated_at.eq(now),
        ))
        .execute(conn)?;
    media::table.select(media::id).load(conn)
}
