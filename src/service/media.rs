//! Media of works: streaming uploads into content-addressed storage, their records and
//! processing jobs, and the files a caller may be served. Every access goes through the
//! work's visibility.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::sync::Notify;

use super::auth::AuthUser;
use super::off_executor;
use super::works::WorkError;
use super::works::{check_editable, load_live, load_visible};
use crate::clock::now;
use crate::db::DbError;
use crate::db::jobs;
use crate::db::media::{self as rows, MediaRow, NewMedia, ThumbnailCandidate};
use crate::db::types::Json;
use crate::db::{Db, DbConnection, outbox};
use crate::domain::ids::MediaId;
use crate::domain::ids::WorkId;
use crate::domain::media::Derivative;
use crate::domain::media::{MediaRole, MediaStatus};
use crate::domain::user::Role;
use crate::storage::ingest::{self, IngestError, ReceivedFile, UploadLimits, UploadRefusal};
use crate::storage::{BlobKey, DerivedName, Object, Storage, is_storage_full};

/// Why a media use case was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The work is not there, not visible or not editable (see [`WorkError`]).
    #[error(transparent)]
    Work(#[from] WorkError),
    /// No such medium, or one the caller may not see.
    #[error("no such media")]
    NotFound,
    /// A derivative name that does not exist, in general or for this medium.
    #[error("{0}")]
    DerivativeNotFound(String),
    /// The caller lacks the role the use case needs.
    #[error("this action needs the {0} role")]
    RoleRequired(&'static str),
    /// The uploaded file was refused: empty, not an accepted type, or over its limit.
    #[error(transparent)]
    Refused(UploadRefusal),
    /// The upload could not be written.
    #[error("storing the upload")]
    Ingest(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The disk is full; nothing stored was touched.
    #[error("the server has no space left to store this upload")]
    StorageFull,
    /// The record names a stored file that is not there (reprocessing rebuilds derivatives).
    #[error("the stored file is missing: reprocess the media")]
    FileMissing,
    /// Reading or writing stored files failed.
    #[error("storage")]
    Storage(#[source] io::Error),
    /// A blocking storage task failed.
    #[error("storage task")]
    Task(#[from] tokio::task::JoinError),
    /// A stored record the code cannot use.
    #[error("media record: {0}")]
    Corrupt(&'static str),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(MediaError);

/// Why receiving an upload's body failed: the body itself (the caller's reader, e.g. a broken
/// form), or what the bytes turned out to be.
#[derive(Debug)]
pub enum ReceiveError<E> {
    /// The body stream failed.
    Body(E),
    /// The bytes were refused, or could not be stored.
    Media(MediaError),
}

impl<E> From<MediaError> for ReceiveError<E> {
    fn from(error: MediaError) -> Self {
        ReceiveError::Media(error)
    }
}

impl<E> From<IngestError<E>> for ReceiveError<E> {
    fn from(error: IngestError<E>) -> Self {
        let refused = match error {
            IngestError::Body(body) => return ReceiveError::Body(body),
            IngestError::Refused(refusal) => MediaError::Refused(refusal),
            IngestError::StorageFull => MediaError::StorageFull,
            IngestError::Storage(error) => MediaError::Ingest(Box::new(error)),
            IngestError::Task(error) => MediaError::Ingest(Box::new(error)),
            IngestError::WriterStopped => MediaError::Ingest("the upload writer stopped without finishing".into()),
        };
        ReceiveError::Media(refused)
    }
}

/// What media use cases need beyond the database.
#[derive(Clone)]
pub struct MediaContext {
    pub store: Storage,
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
    pub fn new(store: Storage, limits: UploadLimits, wake: Arc<Notify>, max_attempts: i32) -> Self {
        Self { store, limits, wake, max_attempts, blob_lock: Arc::new(Mutex::new(())) }
    }
}

/// A medium as the service hands it out.
#[derive(Debug, Clone)]
pub struct MediaView {
    pub row: MediaRow,
}

impl MediaView {
    pub(crate) fn from_row(row: MediaRow) -> Self {
        Self { row }
    }

    /// Whether processing made this derivative.
    pub fn has(&self, derivative: Derivative) -> bool {
        self.row.derivatives.iter().any(|name| name == derivative.file_name())
    }
}

fn io_error(error: io::Error) -> MediaError {
    if is_storage_full(&error) {
        tracing::error!(%error, "storage is full");
        return MediaError::StorageFull;
    }
    MediaError::Storage(error)
}

/// Receives an upload's body into a temp file (see [`ingest::receive_file`]), with the
/// deployment's store and limits.
pub async fn receive_file<S, E>(
    context: &MediaContext,
    body: S,
    filename: Option<&str>,
) -> Result<ReceivedFile, ReceiveError<E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    Ok(ingest::receive_file(&context.store, &context.limits, body, filename).await?)
}

/// Checks, before any bytes are read, that the caller may add media to the work now.
pub async fn authorize_upload(db: &Db, user: &AuthUser, work_id: &WorkId) -> Result<(), MediaError> {
    let caller = user.clone();
    let id = work_id.clone();
    db.read(move |conn| editable_by(conn, &caller, &id)).await
}

fn editable_by(conn: &mut DbConnection, user: &AuthUser, work_id: &WorkId) -> Result<(), MediaError> {
    let row = load_live(conn, user, work_id.as_str())?;
    Ok(check_editable(user, &row)?)
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
) -> Result<MediaView, MediaError> {
    let (db_handle, context_handle, caller) = (db.clone(), context.clone(), user.clone());
    let row = off_executor(move || {
        record_upload(&db_handle, &context_handle, &caller, (&work_id, role), received, Admission::Upload)
    })
    .await?;
    context.wake.notify_one();
    Ok(MediaView::from_row(row))
}

/// Stores a file an import brought in as media of the work it created (blocking: imports
/// run on their own threads). Importing the same file into the work again adds nothing.
pub fn store_imported(
    db: &Db,
    context: &MediaContext,
    user: &AuthUser,
    work_id: &WorkId,
    received: ReceivedFile,
    role: MediaRole,
) -> Result<MediaRow, MediaError> {
    let row = record_upload(db, context, user, (work_id, role), received, Admission::Import)?;
    context.wake.notify_one();
    Ok(row)
}

/// How a file is let into a work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    /// Through the API: the work must be editable by the caller at this moment.
    Upload,
    /// By an import (admins), into the published work it created; a file the work already
    /// has is not added twice.
    Import,
}

/// Whether the file may take the role: subtitles only as subtitles, pages only as attachments.
fn check_role(class: crate::media::sniff::MediaClass, role: MediaRole) -> Result<(), MediaError> {
    use crate::media::sniff::MediaClass;
    let why = match (class, role) {
        (MediaClass::Subtitle, MediaRole::Subtitle) | (MediaClass::Document, MediaRole::Attachment) => return Ok(()),
        (MediaClass::Subtitle, _) => "subtitle files must be uploaded with role subtitle",
        (_, MediaRole::Subtitle) => "role subtitle takes SRT or WebVTT files",
        (MediaClass::Document, _) => "HTML pages can only be attachments (role attachment)",
        _ => return Ok(()),
    };
    Err(WorkError::Field(crate::domain::FieldError::invalid("role", why)).into())
}

fn record_upload(
    db: &Db,
    context: &MediaContext,
    user: &AuthUser,
    (work_id, role): (&WorkId, MediaRole),
    received: ReceivedFile,
    admission: Admission,
) -> Result<MediaRow, MediaError> {
    check_role(received.format.class(), role)?;
    // A folder store's bytes are removed on the request path when no record names them, so
    // storing and recording are one step under the lock. A shared store is written by other
    // nodes too: it is never pruned here, and the upload needs no lock (the same bytes stored
    // twice are one object).
    let _blobs = (!context.store.is_shared()).then(|| context.blob_lock.lock().unwrap_or_else(|p| p.into_inner()));
    let size = received.file.size() as i64;
    let key = context.store.blobs().put(received.file).map_err(io_error)?;
    let stamp = now();
    let mut upload = NewMedia {
        id: MediaId::generate(),
        work_id: work_id.clone(),
        sha256: key.as_str().to_owned(),
        size,
        format: received.format.as_str().to_owned(),
        content_type: received.format.content_type().to_owned(),
        original_filename: received.original_filename,
        role,
        version: 1,
        status: MediaStatus::Processing,
        derivatives: Json::new(Vec::new()),
        created_by: user.id.clone(),
        created_at: stamp,
        updated_at: stamp,
    };
    let max_attempts = context.max_attempts;
    let outcome = db.write_blocking(|conn| {
        match admission {
            Admission::Upload => editable_by(conn, user, work_id)?,
            Admission::Import => {
                if let Some(existing) = rows::find_in_work_by_sha256(conn, work_id.as_str(), &upload.sha256)? {
                    return Ok(existing);
                }
            }
        }
        upload.version = rows::count_with_role(conn, work_id, role)? as i32 + 1;
        rows::insert(conn, &upload)?;
        crate::db::compliance::mark_unchecked(conn, upload.work_id.as_str())?;
        jobs::insert(conn, &jobs::new_job(&upload.id, jobs::PROCESS_MEDIA, max_attempts, stamp))?;
        outbox::enqueue(conn, work_id, stamp)?;
        let details = serde_json::json!({"media_id": upload.id, "sha256": upload.sha256, "size": upload.size, "role": role.as_str(), "filename": upload.original_filename});
        let action = if admission == Admission::Import { "media.imported" } else { "media.uploaded" };
        super::audit::record(conn, Some(user), action, ("work", work_id.as_str()), details, stamp)?;
        rows::find(conn, &upload.id)?.ok_or(MediaError::NotFound)
    });
    if outcome.is_err() {
        remove_if_unreferenced(db, context, &key);
    }
    outcome
}

/// Deletes stored bytes no record points at (the blob lock is held by the caller).
fn remove_if_unreferenced(db: &Db, context: &MediaContext, key: &BlobKey) {
    if context.store.is_shared() {
        // Another node may be recording a reference to these bytes right now.
        return;
    }
    let sha = key.as_str().to_owned();
    let references = db.connection().and_then(|mut conn| Ok(rows::count_with_sha256(&mut conn, &sha)?));
    if matches!(references, Ok(0))
        && let Err(error) = context.store.blobs().delete(key)
    {
        tracing::warn!(%error, sha256 = %sha, "could not remove an unreferenced original");
    }
}

/// A medium, if the caller may see its work; with the work row for permission checks.
fn load_visible_media(conn: &mut DbConnection, user: &AuthUser, id: &str) -> Result<MediaRow, MediaError> {
    let row = rows::find(conn, id)?.ok_or(MediaError::NotFound)?;
    match load_visible(conn, user, &row.work_id) {
        Ok(work) if work.deleted_at.is_none() || user.is_admin() => Ok(row),
        Ok(_) | Err(WorkError::NotFound) => Err(MediaError::NotFound),
        Err(other) => Err(other.into()),
    }
}

/// One medium.
pub async fn get_media(db: &Db, user: &AuthUser, id: MediaId) -> Result<MediaView, MediaError> {
    let caller = user.clone();
    let row = db.read(move |conn| load_visible_media(conn, &caller, &id)).await?;
    Ok(MediaView::from_row(row))
}

/// A work's media, oldest first.
pub async fn list_media(db: &Db, user: &AuthUser, work_id: WorkId) -> Result<Vec<MediaView>, MediaError> {
    let caller = user.clone();
    let found = db
        .read(move |conn| -> Result<_, MediaError> {
            load_visible(conn, &caller, work_id.as_str())?;
            Ok(rows::list_for_work(conn, work_id.as_str())?)
        })
        .await?;
    Ok(found.into_iter().map(MediaView::from_row).collect())
}

/// Removes a medium (creator or admin, while the work is editable); its bytes go when no
/// other record references them.
pub async fn delete_media(db: &Db, context: &MediaContext, user: &AuthUser, id: MediaId) -> Result<(), MediaError> {
    let (db_handle, context_handle, caller) = (db.clone(), context.clone(), user.clone());
    off_executor(move || {
        let _blobs = context_handle.blob_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let removed = db_handle.write_blocking(|conn| -> Result<_, MediaError> {
            let row = load_visible_media(conn, &caller, &id)?;
            editable_by(conn, &caller, &row.work_id)?;
            rows::delete(conn, &id)?;
            outbox::enqueue(conn, &row.work_id, now())?;
            crate::db::compliance::mark_unchecked(conn, row.work_id.as_str())?;
            let details =
                serde_json::json!({"media_id": row.id, "sha256": row.sha256, "filename": row.original_filename});
            super::audit::record(conn, Some(&caller), "media.deleted", ("work", &row.work_id), details, now())?;
            Ok(row.sha256)
        })?;
        if let Some(key) = BlobKey::parse(&removed) {
            remove_if_unreferenced(&db_handle, &context_handle, &key);
        }
        Ok(())
    })
    .await
}

/// Queues processing again (reviewers and admins), e.g. after a failure.
pub async fn reprocess(db: &Db, context: &MediaContext, user: &AuthUser, id: MediaId) -> Result<MediaView, MediaError> {
    if !(user.has(Role::Reviewer) || user.is_admin()) {
        return Err(MediaError::RoleRequired("reviewer or admin"));
    }
    let (caller, max_attempts) = (user.clone(), context.max_attempts);
    let row = db
        .write(move |conn| {
            load_visible_media(conn, &caller, &id)?;
            let stamp = now();
            rows::set_processing(conn, &id, stamp)?;
            jobs::insert(conn, &jobs::new_job(&id, jobs::PROCESS_MEDIA, max_attempts, stamp))?;
            rows::find(conn, &id)?.ok_or(MediaError::NotFound)
        })
        .await?;
    context.wake.notify_one();
    Ok(MediaView::from_row(row))
}

/// A file to serve, with what the response needs.
#[derive(Debug, Clone)]
pub struct ServedFile {
    pub object: Object,
    pub content_type: String,
    pub filename: Option<String>,
    /// Strong validator: derivatives depend only on the original's digest and their name.
    pub etag: String,
}

/// Where a served file's bytes come from.
#[derive(Debug, Clone)]
pub enum Located {
    /// A file on this machine (a folder store): served in place.
    Path(PathBuf),
    /// An object in a remote store, of this size: streamed.
    Stored { size: u64 },
}

/// Finds a served file's bytes (a remote store is asked for the size).
pub async fn locate(context: &MediaContext, served: &ServedFile) -> Result<Located, MediaError> {
    let blobs = context.store.blobs().clone();
    if let Some(path) = blobs.local_path(&served.object) {
        return Ok(Located::Path(path));
    }
    let object = served.object.clone();
    let size = off_executor(move || blobs.size(&object).map_err(io_error)).await?;
    size.map(|size| Located::Stored { size }).ok_or(MediaError::FileMissing)
}

/// `length` bytes of a stored file from `offset`, streamed with a bounded buffer.
pub fn stream(context: &MediaContext, served: &ServedFile, offset: u64, length: u64) -> crate::storage::ByteStream {
    context.store.blobs().stream(&served.object, offset, Some(length))
}

/// The original bytes of a medium the caller may see.
pub async fn original(db: &Db, user: &AuthUser, id: MediaId) -> Result<ServedFile, MediaError> {
    let view = get_media(db, user, id).await?;
    let key = BlobKey::parse(&view.row.sha256).ok_or(MediaError::Corrupt("stored digest is malformed"))?;
    Ok(ServedFile {
        object: Object::Original(key),
        content_type: view.row.content_type.clone(),
        filename: view.row.original_filename.clone(),
        etag: format!("\"{}\"", view.row.sha256),
    })
}

/// One derivative of a medium the caller may see.
pub async fn derivative(db: &Db, user: &AuthUser, id: MediaId, name: &str) -> Result<ServedFile, MediaError> {
    let Some(derivative) = Derivative::from_file_name(name) else {
        return Err(MediaError::DerivativeNotFound(format!("no derivative named {name:?}")));
    };
    let view = get_media(db, user, id).await?;
    if !view.has(derivative) {
        return Err(MediaError::DerivativeNotFound(format!("{name} does not exist for this media")));
    }
    let key = BlobKey::parse(&view.row.sha256).ok_or(MediaError::Corrupt("stored digest is malformed"))?;
    let derived = DerivedName::parse(name).ok_or(MediaError::Corrupt("a derivative name is malformed"))?;
    Ok(ServedFile {
        object: Object::Derived(key, derived),
        content_type: derivative.content_type().to_owned(),
        filename: None,
        etag: format!("\"{}-{name}\"", view.row.sha256),
    })
}

/// The medium whose small thumbnail stands for a work: its cover, else its first main, else
/// its first other ready visual medium (`media` as `db::media::thumbnails_for` loads them).
pub fn thumbnail_for(work_id: &WorkId, media: &[ThumbnailCandidate]) -> Option<MediaId> {
    let small = Derivative::Small.file_name();
    let candidates = media
        .iter()
        .filter(|candidate| &candidate.work_id == work_id && candidate.derivatives.iter().any(|name| name == small));
    let rank = |role: MediaRole| match role {
        MediaRole::Cover => 0,
        MediaRole::Main => 1,
        MediaRole::Still | MediaRole::Attachment | MediaRole::Subtitle => 2,
    };
    let best = candidates.min_by_key(|candidate| rank(candidate.role))?;
    Some(best.media_id.clone())
}

/// The thumbnail media of works the caller already sees, by work (works without one are absent).
pub async fn work_thumbnails(db: &Db, work_ids: Vec<WorkId>) -> Result<HashMap<WorkId, MediaId>, MediaError> {
    let ids: Vec<String> = work_ids.iter().map(WorkId::to_string).collect();
    let candidates = db.read(move |conn| crate::db::media::thumbnails_for(conn, &ids)).await?;
    let found = work_ids.into_iter().filter_map(|work| Some((thumbnail_for(&work, &candidates)?, work)));
    Ok(found.map(|(media, work)| (work, media)).collect())
}
