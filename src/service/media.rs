//! Media of works: streaming uploads into content-addressed storage, their records and
//! processing jobs, and the files a caller may be served. Every access goes through the
//! work's visibility.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::web::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::Notify;

use super::auth::AuthUser;
use super::now;
use super::works::{check_editable, load_visible};
use crate::db::jobs::{self, JobRow};
use crate::db::media::{self as rows, MediaRow};
use crate::db::{Db, DbConnection, outbox};
use crate::domain::ids::WorkId;
use crate::domain::media::{MediaRole, MediaStatus, sanitize_filename};
use crate::domain::user::Role;
use crate::error::ApiError;
use crate::media::sniff::{self, ACCEPTED, MediaClass, MediaFormat, SNIFF_LEN};
use crate::storage::{BlobKey, BlobStore, HashedFile, LocalStore, is_storage_full};

/// Bytes gathered before handing them to the writer thread: multipart chunks are small, and
/// one hand-off and one write per chunk would cost more than the bytes.
const SEND_BATCH_BYTES: usize = 256 * 1024;

/// Room in an upload form beyond its file: the `role` field, part headers, boundaries.
const FORM_OVERHEAD_BYTES: u64 = 1024 * 1024;

/// Size limits per class of upload, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    pub image_bytes: u64,
    pub video_bytes: u64,
    pub audio_bytes: u64,
}

impl UploadLimits {
    /// The most bytes a whole upload form may carry: the largest file plus room for the
    /// form's other fields and framing.
    pub fn form_bytes(&self) -> u64 {
        self.image_bytes.max(self.video_bytes).max(self.audio_bytes).saturating_add(FORM_OVERHEAD_BYTES)
    }

    fn for_class(&self, class: MediaClass) -> u64 {
        match class {
            MediaClass::Image => self.image_bytes,
            MediaClass::Video => self.video_bytes,
            MediaClass::Audio => self.audio_bytes,
        }
    }
}

/// Human size: `64 MiB`, `4 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    const GIB: u64 = 1024 * 1024 * 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= GIB && bytes.is_multiple_of(GIB) {
        format!("{} GiB", bytes / GIB)
    } else if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// What media use cases need beyond the database.
#[derive(Clone)]
pub struct MediaContext {
    pub store: LocalStore,
    pub limits: UploadLimits,
    /// Wakes the job workers when a job is queued.
    pub wake: Arc<Notify>,
    pub max_attempts: i32,
    /// Held while an original is stored and recorded, or unrecorded and removed, so a delete
    /// never removes bytes that a concurrent upload of the same content just recorded.
    blob_lock: Arc<Mutex<()>>,
}

impl MediaContext {
    /// Bundles the store, limits and the job wake-up.
    pub fn new(store: LocalStore, limits: UploadLimits, wake: Arc<Notify>, max_attempts: i32) -> Self {
        Self { store, limits, wake, max_attempts, blob_lock: Arc::new(Mutex::new(())) }
    }
}

/// A medium as the service hands it out.
#[derive(Debug, Clone)]
pub struct MediaView {
    pub row: MediaRow,
    pub role: MediaRole,
    pub status: MediaStatus,
    pub derivatives: Vec<String>,
}

impl MediaView {
    fn from_row(row: MediaRow) -> Self {
        let role = MediaRole::parse(&row.role).unwrap_or(MediaRole::Attachment);
        let status = MediaStatus::parse(&row.status).unwrap_or(MediaStatus::Failed);
        let derivatives = serde_json::from_str(&row.derivatives).unwrap_or_default();
        Self { row, role, status, derivatives }
    }
}

/// An upload fully received into a temp file.
#[derive(Debug)]
pub struct ReceivedFile {
    pub file: HashedFile,
    pub format: MediaFormat,
    pub original_filename: Option<String>,
}

fn io_error(error: io::Error) -> ApiError {
    if is_storage_full(&error) {
        tracing::error!(%error, "storage is full");
        return ApiError::InsufficientStorage;
    }
    ApiError::Internal(format!("storage: {error}"))
}

fn task_error(error: tokio::task::JoinError) -> ApiError {
    ApiError::Internal(format!("storage task: {error}"))
}

/// Checks, before any bytes are read, that the caller may add media to the work now.
pub async fn authorize_upload(db: &Db, user: &AuthUser, work_id: &WorkId) -> Result<(), ApiError> {
    let caller = user.clone();
    let id = work_id.clone();
    db.read(move |conn| Ok(editable_by(conn, &caller, &id)?.map(drop))).await?
}

fn editable_by(
    conn: &mut DbConnection,
    user: &AuthUser,
    work_id: &WorkId,
) -> diesel::QueryResult<Result<(), ApiError>> {
    let row = match load_visible(conn, user, work_id.as_str())? {
        Ok(row) if row.deleted_at.is_none() => row,
        _ => return Ok(Err(ApiError::work_not_found())),
    };
    Ok(check_editable(user, &row))
}

/// Streams an upload to a temp file while hashing. The type comes from the first bytes; the
/// class's size limit is enforced as bytes arrive (reading stops at once, the temp file goes).
pub async fn receive_file<S>(context: &MediaContext, body: S, filename: Option<&str>) -> Result<ReceivedFile, ApiError>
where
    S: Stream<Item = Result<Bytes, ApiError>> + Unpin,
{
    let mut body = body.fuse();
    let (head, pending) = read_head(&mut body).await?;
    if head.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "empty-file",
            message: "the uploaded file is empty".into(),
            field: Some("file".into()),
        });
    }
    let format = sniff::sniff(&head).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!("the file is not an accepted type: accepted are {ACCEPTED}"))
    })?;
    let limit = context.limits.for_class(format.class());
    let writer = UploadWriter::start(context.store.clone());
    let rest = futures_util::stream::iter(pending.into_iter().map(Ok)).chain(body);
    match pump(rest, &writer, (limit, format)).await {
        Ok(()) => {
            let file = writer.finish().await?;
            Ok(ReceivedFile { file, format, original_filename: filename.and_then(sanitize_filename) })
        }
        Err(error) => {
            writer.abandon().await;
            Err(error)
        }
    }
}

/// Passes the body on to the writer as it came (no copying), a batch at a time; refuses it
/// as soon as it passes its class's limit.
async fn pump<S>(mut body: S, writer: &UploadWriter, (limit, format): (u64, MediaFormat)) -> Result<(), ApiError>
where
    S: Stream<Item = Result<Bytes, ApiError>> + Unpin,
{
    let (mut total, mut batch, mut batch_bytes) = (0u64, Vec::new(), 0);
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        total += chunk.len() as u64;
        if total > limit {
            let class = format.class().as_str();
            let limit_text = human_bytes(limit);
            return Err(ApiError::UploadTooLarge(format!(
                "{class} uploads are limited to {limit_text} ({limit} bytes)"
            )));
        }
        batch_bytes += chunk.len();
        batch.push(chunk);
        if batch_bytes >= SEND_BATCH_BYTES {
            batch_bytes = 0;
            if !writer.send(std::mem::take(&mut batch)).await {
                return Ok(()); // The writer stopped on an error; `finish` reports it.
            }
        }
    }
    if !batch.is_empty() {
        writer.send(batch).await;
    }
    Ok(())
}

enum ToWriter {
    Batch(Vec<Bytes>),
    Finish,
}

/// An upload's temp file, written and hashed on a blocking thread. Finished, it is fsynced
/// and its digest known; abandoned, it is removed without either (and without writing what
/// was still queued).
struct UploadWriter {
    messages: tokio::sync::mpsc::Sender<ToWriter>,
    abandoned: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<io::Result<Option<HashedFile>>>,
}

impl UploadWriter {
    fn start(store: LocalStore) -> Self {
        let (messages, mut received) = tokio::sync::mpsc::channel(8);
        let abandoned = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&abandoned);
        let task = tokio::task::spawn_blocking(move || {
            let mut upload = store.temp_upload()?;
            while let Some(message) = received.blocking_recv() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                match message {
                    ToWriter::Batch(batch) => upload.write(&batch)?,
                    ToWriter::Finish => return upload.finish().map(Some),
                }
            }
            Ok(None)
        });
        Self { messages, abandoned, task }
    }

    /// False once the writer has stopped (on an error that `finish` reports).
    async fn send(&self, batch: Vec<Bytes>) -> bool {
        self.messages.send(ToWriter::Batch(batch)).await.is_ok()
    }

    async fn finish(self) -> Result<HashedFile, ApiError> {
        let _ = self.messages.send(ToWriter::Finish).await;
        drop(self.messages);
        self.task
            .await
            .map_err(task_error)?
            .map_err(io_error)?
            .ok_or_else(|| ApiError::Internal("the upload writer stopped without finishing".into()))
    }

    /// Stops the writer and waits until its temp file is gone.
    async fn abandon(self) {
        self.abandoned.store(true, Ordering::Relaxed);
        drop(self.messages);
        let _ = self.task.await;
    }
}

/// Reads until the sniffer has enough bytes; returns them and the chunks read.
async fn read_head<S>(body: &mut S) -> Result<(Vec<u8>, Vec<Bytes>), ApiError>
where
    S: Stream<Item = Result<Bytes, ApiError>> + Unpin,
{
    let mut head = Vec::with_capacity(SNIFF_LEN);
    let mut read = Vec::new();
    while head.len() < SNIFF_LEN {
        let Some(chunk) = body.next().await else { break };
        let chunk = chunk?;
        head.extend_from_slice(&chunk[..chunk.len().min(SNIFF_LEN - head.len())]);
        read.push(chunk);
    }
    Ok((head, read))
}

fn new_job(media_id: &str, max_attempts: i32) -> JobRow {
    let stamp = now();
    JobRow {
        id: uuid::Uuid::now_v7().to_string(),
        media_id: media_id.to_owned(),
        kind: "process_media".into(),
        status: "queued".into(),
        attempts: 0,
        max_attempts,
        run_after: stamp,
        locked_until: None,
        last_error: None,
        created_at: stamp,
        updated_at: stamp,
    }
}

/// Stores the received bytes (once per content) and records the upload and its processing
/// job in one transaction, re-checking that the work is still editable.
pub async fn store_upload(
    db: &Db,
    context: &MediaContext,
    user: &AuthUser,
    work_id: WorkId,
    received: ReceivedFile,
    role: MediaRole,
) -> Result<MediaView, ApiError> {
    let (db_handle, context_handle, caller) = (db.clone(), context.clone(), user.clone());
    let row = tokio::task::spawn_blocking(move || {
        record_upload(&db_handle, &context_handle, &caller, &work_id, received, role)
    })
    .await
    .map_err(task_error)??;
    context.wake.notify_one();
    Ok(MediaView::from_row(row))
}

fn record_upload(
    db: &Db,
    context: &MediaContext,
    user: &AuthUser,
    work_id: &WorkId,
    received: ReceivedFile,
    role: MediaRole,
) -> Result<MediaRow, ApiError> {
    let _blobs = context.blob_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let size = received.file.size() as i64;
    let key = context.store.put(received.file).map_err(io_error)?;
    let stamp = now();
    let mut row = MediaRow {
        id: uuid::Uuid::now_v7().to_string(),
        work_id: work_id.as_str().to_owned(),
        sha256: key.as_str().to_owned(),
        size,
        format: received.format.as_str().to_owned(),
        content_type: received.format.content_type().to_owned(),
        original_filename: received.original_filename,
        role: role.as_str().to_owned(),
        version: 1,
        status: MediaStatus::Processing.as_str().to_owned(),
        error_code: None,
        error_message: None,
        width: None,
        height: None,
        duration_ms: None,
        rotation: None,
        video_codec: None,
        audio_codec: None,
        frame_rate: None,
        bitrate: None,
        taken_at: None,
        camera: None,
        derivatives: "[]".into(),
        created_by: user.id.as_str().to_owned(),
        created_at: stamp,
        updated_at: stamp,
    };
    let max_attempts = context.max_attempts;
    let outcome = db.write_blocking(|conn| {
        if let Err(refusal) = editable_by(conn, user, work_id)? {
            return Ok(Err(refusal));
        }
        row.version = rows::count_with_role(conn, work_id.as_str(), role.as_str())? as i32 + 1;
        rows::insert(conn, &row)?;
        jobs::insert(conn, &new_job(&row.id, max_attempts))?;
        outbox::enqueue(conn, work_id.as_str(), stamp)?;
        let details = serde_json::json!({"media_id": row.id, "sha256": row.sha256, "size": row.size, "role": row.role, "filename": row.original_filename});
        super::audit::record(conn, Some(user), "media.uploaded", ("work", work_id.as_str()), details, stamp)?;
        Ok(Ok(row))
    });
    match outcome {
        Ok(Ok(row)) => Ok(row),
        Ok(Err(refusal)) => {
            remove_if_unreferenced(db, context, &key);
            Err(refusal)
        }
        Err(error) => {
            remove_if_unreferenced(db, context, &key);
            Err(error.into())
        }
    }
}

/// Deletes stored bytes no record points at (the blob lock is held by the caller).
fn remove_if_unreferenced(db: &Db, context: &MediaContext, key: &BlobKey) {
    let sha = key.as_str().to_owned();
    let references = db.connection().and_then(|mut conn| Ok(rows::count_with_sha256(&mut conn, &sha)?));
    if matches!(references, Ok(0))
        && let Err(error) = context.store.delete(key)
    {
        tracing::warn!(%error, sha256 = %sha, "could not remove an unreferenced original");
    }
}

/// A medium, if the caller may see its work; with the work row for permission checks.
fn load_visible_media(
    conn: &mut DbConnection,
    user: &AuthUser,
    id: &str,
) -> diesel::QueryResult<Result<MediaRow, ApiError>> {
    let Some(row) = rows::find(conn, id)? else {
        return Ok(Err(ApiError::media_not_found()));
    };
    match load_visible(conn, user, &row.work_id)? {
        Ok(work) if work.deleted_at.is_none() || user.is_admin() => Ok(Ok(row)),
        _ => Ok(Err(ApiError::media_not_found())),
    }
}

/// One medium.
pub async fn get_media(db: &Db, user: &AuthUser, id: String) -> Result<MediaView, ApiError> {
    let caller = user.clone();
    let row = db.read(move |conn| load_visible_media(conn, &caller, &id)).await??;
    Ok(MediaView::from_row(row))
}

/// A work's media, oldest first.
pub async fn list_media(db: &Db, user: &AuthUser, work_id: WorkId) -> Result<Vec<MediaView>, ApiError> {
    let caller = user.clone();
    let found = db
        .read(move |conn| {
            if let Err(refusal) = load_visible(conn, &caller, work_id.as_str())? {
                return Ok(Err(refusal));
            }
            Ok(Ok(rows::list_for_work(conn, work_id.as_str())?))
        })
        .await??;
    Ok(found.into_iter().map(MediaView::from_row).collect())
}

/// Removes a medium (creator or admin, while the work is editable); its bytes go when no
/// other record references them.
pub async fn delete_media(db: &Db, context: &MediaContext, user: &AuthUser, id: String) -> Result<(), ApiError> {
    let (db_handle, context_handle, caller) = (db.clone(), context.clone(), user.clone());
    tokio::task::spawn_blocking(move || {
        let _blobs = context_handle.blob_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let removed = db_handle.write_blocking(|conn| {
            let row = match load_visible_media(conn, &caller, &id)? {
                Ok(row) => row,
                Err(refusal) => return Ok(Err(refusal)),
            };
            if let Err(refusal) = editable_by(conn, &caller, &WorkId::from_db(row.work_id.clone()))? {
                return Ok(Err(refusal));
            }
            rows::delete(conn, &id)?;
            outbox::enqueue(conn, &row.work_id, now())?;
            let details =
                serde_json::json!({"media_id": row.id, "sha256": row.sha256, "filename": row.original_filename});
            super::audit::record(conn, Some(&caller), "media.deleted", ("work", &row.work_id), details, now())?;
            Ok(Ok(row.sha256))
        })??;
        if let Some(key) = BlobKey::parse(&removed) {
            remove_if_unreferenced(&db_handle, &context_handle, &key);
        }
        Ok::<(), ApiError>(())
    })
    .await
    .map_err(task_error)?
}

/// Queues processing again (reviewers and admins), e.g. after a failure.
pub async fn reprocess(db: &Db, context: &MediaContext, user: &AuthUser, id: String) -> Result<MediaView, ApiError> {
    if !(user.has(Role::Reviewer) || user.is_admin()) {
        return Err(ApiError::role_required("reviewer or admin"));
    }
    let (caller, max_attempts) = (user.clone(), context.max_attempts);
    let row = db
        .write(move |conn| {
            if let Err(refusal) = load_visible_media(conn, &caller, &id)? {
                return Ok(Err(refusal));
            }
            rows::set_processing(conn, &id, now())?;
            jobs::insert(conn, &new_job(&id, max_attempts))?;
            Ok(rows::find(conn, &id)?.ok_or_else(ApiError::media_not_found))
        })
        .await??;
    context.wake.notify_one();
    Ok(MediaView::from_row(row))
}

/// A file to serve, with what the response needs.
#[derive(Debug, Clone)]
pub struct ServedFile {
    pub path: PathBuf,
    pub content_type: String,
    pub filename: Option<String>,
    /// Strong validator: derivatives depend only on the original's digest and their name.
    pub etag: String,
}

/// The original bytes of a medium the caller may see.
pub async fn original(db: &Db, context: &MediaContext, user: &AuthUser, id: String) -> Result<ServedFile, ApiError> {
    let view = get_media(db, user, id).await?;
    let key =
        BlobKey::parse(&view.row.sha256).ok_or_else(|| ApiError::Internal("stored digest is malformed".into()))?;
    Ok(ServedFile {
        path: context.store.original_path(&key),
        content_type: view.row.content_type.clone(),
        filename: view.row.original_filename.clone(),
        etag: format!("\"{}\"", view.row.sha256),
    })
}

/// The derivatives that can be served, by public name.
pub const DERIVATIVES: [(&str, &str); 5] = [
    ("small.jpg", "image/jpeg"),
    ("large.jpg", "image/jpeg"),
    ("poster.jpg", "image/jpeg"),
    ("storyboard.jpg", "image/jpeg"),
    ("storyboard.vtt", "text/vtt; charset=utf-8"),
];

/// One derivative of a medium the caller may see.
pub async fn derivative(
    db: &Db,
    context: &MediaContext,
    user: &AuthUser,
    id: String,
    name: &str,
) -> Result<ServedFile, ApiError> {
    let Some((name, content_type)) = DERIVATIVES.iter().find(|(known, _)| *known == name) else {
        return Err(ApiError::NotFound {
            code: "derivative-not-found",
            message: format!("no derivative named {name:?}"),
        });
    };
    let view = get_media(db, user, id).await?;
    if !view.derivatives.iter().any(|present| present == name) {
        return Err(ApiError::NotFound {
            code: "derivative-not-found",
            message: format!("{name} does not exist for this media"),
        });
    }
    let key =
        BlobKey::parse(&view.row.sha256).ok_or_else(|| ApiError::Internal("stored digest is malformed".into()))?;
    Ok(ServedFile {
        path: context.store.derived_dir(&key).join(name),
        content_type: (*content_type).to_owned(),
        filename: None,
        etag: format!("\"{}-{name}\"", view.row.sha256),
    })
}

/// The small thumbnail of a work's cover, else of its first main or other ready visual medium.
/// `media` holds `(work_id, media_id, role, derivatives)` rows, as `db::media::thumbnails_for` loads them.
pub fn thumbnail_for(work_id: &str, media: &[(String, String, String, String)]) -> Option<String> {
    let candidates =
        media.iter().filter(|(work, _, _, derivatives)| work == work_id && derivatives.contains("small.jpg"));
    let rank = |role: &str| match role {
        "cover" => 0,
        "main" => 1,
        _ => 2,
    };
    let best = candidates.min_by_key(|(_, _, role, _)| rank(role))?;
    Some(format!("/api/v1/media/{}/derivatives/small.jpg", best.1))
}

/// Thumbnail URLs of works the caller already sees, by work id (works without one are absent).
pub async fn work_thumbnails(db: &Db, work_ids: Vec<String>) -> Result<HashMap<String, String>, ApiError> {
    let rows = db.read(move |conn| crate::db::media::thumbnails_for(conn, &work_ids)).await?;
    let mut found = HashMap::new();
    for (work_id, ..) in &rows {
        if !found.contains_key(work_id)
            && let Some(url) = thumbnail_for(work_id, &rows)
        {
            found.insert(work_id.clone(), url);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_named_in_binary_units() {
        assert_eq!(human_bytes(4 * 1024 * 1024 * 1024), "4 GiB");
        assert_eq!(human_bytes(64 * 1024 * 1024), "64 MiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }
}
