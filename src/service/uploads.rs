//! Resumable uploads (tus 1.0: core, creation, creation-with-upload, termination,
//! expiration): a film master of several GB sent over a county link survives a dropped
//! connection and a node restart. The offset lives in the database and the bytes in the
//! store — each PATCH's bytes as one stored piece — so the next PATCH may reach any node. A
//! PATCH cut off midway keeps what arrived. When the last byte is in, the pieces are joined
//! into scratch while hashed and go through the same ingest as a form upload (sniffing, the
//! class limit, deduplication, the processing job).

use std::io;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::auth::AuthUser;
use super::media::{self, MediaContext, MediaError};
use super::off_executor;
use crate::clock::now;
use crate::db::types::Json;
use crate::db::uploads::{self as rows, Piece, UploadRow};
use crate::db::{Db, DbError};
use crate::domain::ids::WorkId;
use crate::domain::media::MediaRole;
use crate::media::sniff::MediaClass;
use crate::storage::ingest;
use crate::storage::{LocalCopy, Object, PieceName, Storage, UploadId};

/// How long an unfinished upload is kept after it was created.
pub const UPLOAD_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Why a resumable upload call was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// No such upload, or not the caller's, or expired.
    #[error("no such upload")]
    NotFound,
    /// The PATCH did not start where the upload stands.
    #[error("the upload is at offset {current}, not {sent}")]
    OffsetMismatch { current: u64, sent: u64 },
    /// The declared length is over the largest file any class accepts.
    #[error("the upload is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// More bytes than the declared length were sent.
    #[error("more bytes than the declared Upload-Length")]
    BeyondLength,
    /// All bytes are in already.
    #[error("the upload is complete")]
    Complete,
    /// The work, role or file was refused (like a form upload's).
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The store failed.
    #[error("storing an upload's piece")]
    Storage(#[source] io::Error),
    /// A blocking task failed.
    #[error("upload task")]
    Task(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(UploadError);

/// What a client asks to upload.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub work_id: WorkId,
    pub role: MediaRole,
    pub filename: Option<String>,
    pub length: u64,
}

/// Where an upload stands after a call.
#[derive(Debug, Clone)]
pub struct UploadState {
    pub id: String,
    pub offset: u64,
    pub length: u64,
    pub expires_at: chrono::NaiveDateTime,
    /// The medium it became, once complete.
    pub media_id: Option<String>,
}

impl UploadState {
    fn of(row: &UploadRow) -> Self {
        Self {
            id: row.id.clone(),
            offset: row.upload_offset as u64,
            length: row.length as u64,
            expires_at: row.expires_at,
            media_id: row.media_id.clone(),
        }
    }
}

/// The largest upload any class accepts (a resumable upload's class is known from its bytes).
pub fn max_length(context: &MediaContext) -> u64 {
    [MediaClass::Image, MediaClass::Video, MediaClass::Audio]
        .into_iter()
        .map(|class| context.limits.for_class(class))
        .max()
        .unwrap_or(0)
}

/// Opens an upload after checking the caller may add media to the work now.
pub async fn create(
    db: &Db,
    context: &MediaContext,
    user: &AuthUser,
    new: NewUpload,
) -> Result<UploadState, UploadError> {
    let limit = max_length(context);
    if new.length > limit {
        return Err(UploadError::TooLarge { limit });
    }
    media::authorize_upload(db, user, &new.work_id).await?;
    let stamp = now();
    let row = UploadRow {
        id: UploadId::generate().as_str().to_owned(),
        user_id: user.id.to_string(),
        work_id: new.work_id.to_string(),
        role: new.role.as_str().to_owned(),
        filename: new.filename.as_deref().and_then(crate::domain::media::sanitize_filename),
        length: new.length as i64,
        upload_offset: 0,
        pieces: Json::new(Vec::new()),
        media_id: None,
        expires_at: stamp + UPLOAD_LIFETIME,
        created_at: stamp,
        updated_at: stamp,
    };
    let state = UploadState::of(&row);
    db.write(move |conn| rows::insert(conn, &row)).await?;
    Ok(state)
}

/// Where the caller's upload stands.
pub async fn status(db: &Db, user: &AuthUser, id: &str) -> Result<UploadState, UploadError> {
    Ok(UploadState::of(&load_own(db, user, id).await?))
}

async fn load_own(db: &Db, user: &AuthUser, id: &str) -> Result<UploadRow, UploadError> {
    let id = UploadId::parse(id).ok_or(UploadError::NotFound)?;
    let row = db.read(move |conn| rows::find(conn, id.as_str())).await?.ok_or(UploadError::NotFound)?;
    let own = row.user_id == user.id.as_str() && row.expires_at > now();
    own.then_some(row).ok_or(UploadError::NotFound)
}

/// Appends a PATCH body that starts at `offset`; completes the upload with its last byte. A
/// PATCH at the end of an upload whose completion failed (the ingest or the database) tries
/// the completion again, so the client's retry finishes it.
pub async fn append<S, E>(
    db: &Db,
    context: &MediaContext,
    user: &AuthUser,
    (id, offset): (&str, u64),
    body: S,
) -> Result<UploadState, UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let row = load_own(db, user, id).await?;
    let current = row.upload_offset as u64;
    if row.media_id.is_some() {
        return Err(UploadError::Complete);
    }
    if offset != current {
        return Err(UploadError::OffsetMismatch { current, sent: offset });
    }
    let room = row.length as u64 - current;
    let (piece, received) = receive_piece(context, body, room).await?;
    let row = if received > 0 { store_piece(db, context, row, piece, received).await? } else { row };
    if row.upload_offset == row.length {
        return finish(db, context, user, row).await;
    }
    Ok(UploadState::of(&row))
}

/// Writes the body to scratch, up to `room` bytes. A body that breaks off keeps what arrived
/// (tus: the client resumes from there); one longer than the upload is refused whole.
async fn receive_piece<S, E>(context: &MediaContext, mut body: S, room: u64) -> Result<(LocalCopy, u64), UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    use tokio::io::AsyncWriteExt;
    let path = LocalCopy::temporary(context.store.scratch().temp_dir().join(format!("piece-{}", uuid::Uuid::now_v7())));
    let mut file = tokio::fs::File::create(path.path()).await.map_err(UploadError::Storage)?;
    let mut received = 0u64;
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else { break };
        received += chunk.len() as u64;
        if received > room {
            return Err(UploadError::BeyondLength);
        }
        file.write_all(&chunk).await.map_err(UploadError::Storage)?;
    }
    file.sync_all().await.map_err(UploadError::Storage)?;
    Ok((path, received))
}

/// Stores a received piece under a name of its own and moves the offset past it, unless
/// another request moved it first (then only this request's piece is removed).
async fn store_piece(
    db: &Db,
    context: &MediaContext,
    row: UploadRow,
    file: LocalCopy,
    received: u64,
) -> Result<UploadRow, UploadError> {
    let upload = UploadId::parse(&row.id).ok_or(UploadError::NotFound)?;
    let piece =
        Piece { offset: row.upload_offset, length: received as i64, name: PieceName::new(row.upload_offset as u64) };
    let object = Object::UploadPiece(upload, piece.name.clone());
    let blobs = context.store.blobs().clone();
    let stored = object.clone();
    off_executor(move || blobs.put_file(&stored, file.path()).map_err(UploadError::Storage)).await?;
    let from = row.upload_offset;
    let mut pieces = row.pieces.value().clone();
    pieces.push(piece);
    let pieces = Json::new(pieces);
    let to = from + received as i64;
    let id = row.id.clone();
    let moved = db.write(move |conn| rows::advance(conn, &id, from, to, &pieces, now())).await?;
    if !moved {
        let blobs = context.store.blobs().clone();
        let _ = off_executor(move || blobs.delete_object(&object).map_err(UploadError::Storage)).await;
        let current = load_offset(db, &row.id).await?;
        return Err(UploadError::OffsetMismatch { current, sent: from as u64 });
    }
    let id = row.id.clone();
    db.read(move |conn| rows::find(conn, &id)).await?.ok_or(UploadError::NotFound)
}

async fn load_offset(db: &Db, id: &str) -> Result<u64, UploadError> {
    let id = id.to_owned();
    let row = db.read(move |conn| rows::find(conn, &id)).await?.ok_or(UploadError::NotFound)?;
    Ok(row.upload_offset as u64)
}

/// Joins the pieces into scratch (hashed, sniffed and held to its class's limit like a form
/// upload), records the medium, and removes the pieces.
async fn finish(db: &Db, context: &MediaContext, user: &AuthUser, row: UploadRow) -> Result<UploadState, UploadError> {
    let role = MediaRole::parse(&row.role).ok_or(UploadError::NotFound)?;
    let work_id = WorkId::parse(&row.work_id).ok_or(UploadError::NotFound)?;
    let (store, limits, upload) = (context.store.clone(), context.limits, row.clone());
    let received = off_executor(move || -> Result<_, UploadError> {
        let joined = LocalCopy::temporary(store.scratch().temp_dir().join(format!("joined-{}", uuid::Uuid::now_v7())));
        join_pieces(&store, &upload, joined.path()).map_err(UploadError::Storage)?;
        let received = ingest::receive_local(store.scratch(), &limits, joined.path(), upload.filename.as_deref());
        let received = received.map_err(|error| match media::ReceiveError::from(error) {
            media::ReceiveError::Media(refused) => UploadError::Media(refused),
            media::ReceiveError::Body(error) => UploadError::Storage(error),
        })?;
        // A saved web page is an import's attachment, never an upload (as through the form).
        if received.format.class() == MediaClass::Document {
            return Err(UploadError::Media(MediaError::Refused(ingest::UploadRefusal::UnsupportedType)));
        }
        Ok(received)
    })
    .await?;
    let view = media::store_upload(db, context, user, work_id, received, role).await?;
    let media_id = view.row.id.to_string();
    let (id, recorded) = (row.id.clone(), media_id.clone());
    db.write(move |conn| rows::complete(conn, &id, &recorded, now())).await?;
    remove_pieces(context, &row).await;
    Ok(UploadState { media_id: Some(media_id), ..UploadState::of(&row) })
}

/// Writes the pieces one after another, checking each is as long as recorded.
fn join_pieces(store: &Storage, row: &UploadRow, target: &std::path::Path) -> io::Result<()> {
    let upload = UploadId::parse(&row.id).ok_or_else(|| io::Error::other("malformed upload id"))?;
    let mut file = std::fs::File::create(target)?;
    for piece in row.pieces.value() {
        let mut stored = store.blobs().get_range(&Object::UploadPiece(upload.clone(), piece.name.clone()), 0, None)?;
        let copied = io::copy(&mut stored, &mut file)?;
        if copied != piece.length as u64 {
            return Err(io::Error::other(format!(
                "piece at {} holds {copied} bytes, not {}",
                piece.offset, piece.length
            )));
        }
    }
    file.sync_all()
}

async fn remove_pieces(context: &MediaContext, row: &UploadRow) {
    let Some(upload) = UploadId::parse(&row.id) else { return };
    let (blobs, pieces) = (context.store.blobs().clone(), row.pieces.value().clone());
    let removed = off_executor(move || -> Result<(), UploadError> {
        for piece in pieces {
            blobs.delete_object(&Object::UploadPiece(upload.clone(), piece.name)).map_err(UploadError::Storage)?;
        }
        Ok(())
    })
    .await;
    if let Err(error) = removed {
        tracing::warn!(%error, upload = %row.id, "removing an upload's pieces failed");
    }
}

/// Ends an upload (tus termination): its pieces and record go.
pub async fn terminate(db: &Db, context: &MediaContext, user: &AuthUser, id: &str) -> Result<(), UploadError> {
    let row = load_own(db, user, id).await?;
    remove_pieces(context, &row).await;
    let id = row.id.clone();
    db.write(move |conn| rows::delete(conn, &id)).await?;
    Ok(())
}

/// Removes expired uploads, finished or not, with their pieces (returns how many), and form
/// uploads staged in a bucket but never filed.
pub async fn sweep_expired(db: &Db, context: &MediaContext) -> Result<usize, UploadError> {
    let expired = db.read(|conn| rows::expired(conn, now(), 100)).await?;
    for row in &expired {
        remove_pieces(context, row).await;
        let id = row.id.clone();
        db.write(move |conn| rows::delete(conn, &id)).await?;
    }
    // A form upload staged in a bucket by a node that died between completing and filing it.
    let blobs = context.store.blobs().clone();
    match off_executor(move || blobs.remove_stale_staging(STALE_STAGING_AGE).map_err(UploadError::Storage)).await {
        Ok(0) => {}
        Ok(count) => tracing::info!(count, "abandoned staged uploads removed from the store"),
        Err(error) => tracing::warn!(%error, "removing abandoned staged uploads failed; will retry"),
    }
    Ok(expired.len())
}

/// A staged upload is filed seconds after it completes; one this old was abandoned (a day
/// leaves room for clocks that disagree).
const STALE_STAGING_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
