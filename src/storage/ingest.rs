//! Streaming ingest of an upload: its type is decided from the first bytes, its class's size
//! limit is enforced as bytes arrive, and the bytes are written and hashed on a blocking
//! thread — into a temp file, or straight into a bucket as multipart parts — finished, they
//! are durable and their digest known; abandoned (too large, broken or interrupted form),
//! they are removed before the answer.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::{HashedFile, LocalStore, Storage, is_storage_full};
use crate::domain::media::sanitize_filename;
use crate::media::sniff::{self, ACCEPTED, MediaClass, MediaFormat, SNIFF_LEN};

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

/// Largest subtitle file: a feature film's SRT is ~100 KiB.
pub const SUBTITLE_MAX_BYTES: u64 = 4 * 1024 * 1024;

/// Largest attached HTML page: a saved WeChat article is ~100 KiB–2 MiB.
pub const DOCUMENT_MAX_BYTES: u64 = 16 * 1024 * 1024;

impl UploadLimits {
    /// The most bytes a whole upload form may carry: the largest file plus room for the
    /// form's other fields and framing.
    pub fn form_bytes(&self) -> u64 {
        self.image_bytes.max(self.video_bytes).max(self.audio_bytes).saturating_add(FORM_OVERHEAD_BYTES)
    }

    /// The limit of one class of upload.
    pub fn for_class(&self, class: MediaClass) -> u64 {
        match class {
            MediaClass::Image => self.image_bytes,
            MediaClass::Video => self.video_bytes,
            MediaClass::Audio => self.audio_bytes,
            MediaClass::Subtitle => SUBTITLE_MAX_BYTES.min(self.image_bytes),
            MediaClass::Document => DOCUMENT_MAX_BYTES.min(self.image_bytes),
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

/// Why the file itself was refused (the uploader's to fix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefusal {
    /// The file has no bytes.
    #[error("the uploaded file is empty")]
    EmptyFile,
    /// The bytes are not an accepted format.
    #[error("the file is not an accepted type: accepted are {ACCEPTED}")]
    UnsupportedType,
    /// The file passed its class's size limit (reading stopped there).
    #[error("{class} uploads are limited to {} ({limit_bytes} bytes)", human_bytes(*.limit_bytes))]
    TooLarge { class: &'static str, limit_bytes: u64 },
}

/// Why an upload's body was not taken.
#[derive(Debug, thiserror::Error)]
pub enum IngestError<E> {
    /// The body stream itself failed (the caller's reader: a broken form, say).
    #[error("upload body")]
    Body(E),
    /// The file was refused.
    #[error(transparent)]
    Refused(UploadRefusal),
    /// The disk is full.
    #[error("the server has no space left to store this upload")]
    StorageFull,
    /// Writing the temp file failed.
    #[error("storing the upload")]
    Storage(#[source] io::Error),
    /// The writer thread panicked or was cancelled.
    #[error("upload writer task")]
    Task(#[source] tokio::task::JoinError),
    /// The writer stopped without finishing.
    #[error("the upload writer stopped without finishing")]
    WriterStopped,
}

impl<E> IngestError<E> {
    fn from_io(error: io::Error) -> Self {
        if is_storage_full(&error) {
            tracing::error!(%error, "storage is full");
            return IngestError::StorageFull;
        }
        IngestError::Storage(error)
    }
}

/// An upload fully received into a temp file.
#[derive(Debug)]
pub struct ReceivedFile {
    pub file: HashedFile,
    pub format: MediaFormat,
    pub original_filename: Option<String>,
}

/// Streams an upload to a temp file (or into the store) while hashing. The type comes from
/// the first bytes; the class's size limit is enforced as bytes arrive (reading stops at once,
/// what was written goes).
pub async fn receive_file<S, E>(
    store: &Storage,
    limits: &UploadLimits,
    body: S,
    filename: Option<&str>,
) -> Result<ReceivedFile, IngestError<E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut body = body.fuse();
    let (head, pending) = read_head(&mut body).await.map_err(IngestError::Body)?;
    if head.is_empty() {
        return Err(IngestError::Refused(UploadRefusal::EmptyFile));
    }
    let format = sniff::sniff(&head).ok_or(IngestError::Refused(UploadRefusal::UnsupportedType))?;
    let limit = limits.for_class(format.class());
    let writer = UploadWriter::start(store.clone());
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

/// Takes a file already on this machine (an import's export folder) as an upload: sniffed
/// (a saved article's HTML page too, which uploads never take),
/// held to its class's limit, hashed into a temp file (blocking; the caller is on a
/// blocking thread).
pub fn receive_local(
    store: &LocalStore,
    limits: &UploadLimits,
    path: &std::path::Path,
    filename: Option<&str>,
) -> Result<ReceivedFile, IngestError<io::Error>> {
    use std::io::Read;
    let mut source = std::fs::File::open(path).map_err(IngestError::Body)?;
    let size = source.metadata().map_err(IngestError::Body)?.len();
    let mut head = vec![0; sniff::SNIFF_LEN];
    let filled = read_up_to(&mut source, &mut head).map_err(IngestError::Body)?;
    head.truncate(filled);
    if head.is_empty() {
        return Err(IngestError::Refused(UploadRefusal::EmptyFile));
    }
    let format = sniff::sniff_imported(&head).ok_or(IngestError::Refused(UploadRefusal::UnsupportedType))?;
    let limit = limits.for_class(format.class());
    if size > limit {
        return Err(IngestError::Refused(UploadRefusal::TooLarge {
            class: format.class().as_str(),
            limit_bytes: limit,
        }));
    }
    let mut temp = store.temp_upload().map_err(IngestError::from_io)?;
    temp.write(&[Bytes::from(head)]).map_err(IngestError::from_io)?;
    let mut buffer = vec![0; SEND_BATCH_BYTES];
    loop {
        let read = source.read(&mut buffer).map_err(IngestError::Body)?;
        if read == 0 {
            break;
        }
        temp.write(&[Bytes::copy_from_slice(&buffer[..read])]).map_err(IngestError::from_io)?;
        if temp.size() > limit {
            let refusal = UploadRefusal::TooLarge { class: format.class().as_str(), limit_bytes: limit };
            return Err(IngestError::Refused(refusal));
        }
    }
    let file = temp.finish().map_err(IngestError::from_io)?;
    Ok(ReceivedFile { file, format, original_filename: filename.and_then(sanitize_filename) })
}

fn read_up_to(source: &mut impl io::Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match source.read(&mut buffer[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    Ok(filled)
}

/// Passes the body on to the writer as it came (no copying), a batch at a time; refuses it
/// as soon as it passes its class's limit.
async fn pump<S, E>(
    mut body: S,
    writer: &UploadWriter,
    (limit, format): (u64, MediaFormat),
) -> Result<(), IngestError<E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let (mut total, mut batch, mut batch_bytes) = (0u64, Vec::new(), 0);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(IngestError::Body)?;
        total += chunk.len() as u64;
        if total > limit {
            let refusal = UploadRefusal::TooLarge { class: format.class().as_str(), limit_bytes: limit };
            return Err(IngestError::Refused(refusal));
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

/// An upload's temp file (or staged upload), written and hashed on a blocking thread.
/// Finished, it is durable and its digest known; abandoned, it is removed without either (and
/// without writing what was still queued).
struct UploadWriter {
    messages: tokio::sync::mpsc::Sender<ToWriter>,
    abandoned: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<io::Result<Option<HashedFile>>>,
    /// A request dropped midway (the client went away) stops the writer without writing or
    /// sending what was still queued.
    _stop_when_dropped: StopWhenDropped,
}

struct StopWhenDropped(Arc<AtomicBool>);

impl Drop for StopWhenDropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl UploadWriter {
    fn start(store: Storage) -> Self {
        let (messages, mut received) = tokio::sync::mpsc::channel(8);
        let abandoned = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&abandoned);
        let task = tokio::task::spawn_blocking(move || {
            let mut upload = store.begin_upload()?;
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
        let stop_when_dropped = StopWhenDropped(Arc::clone(&abandoned));
        Self { messages, abandoned, task, _stop_when_dropped: stop_when_dropped }
    }

    /// False once the writer has stopped (on an error that `finish` reports).
    async fn send(&self, batch: Vec<Bytes>) -> bool {
        self.messages.send(ToWriter::Batch(batch)).await.is_ok()
    }

    async fn finish<E>(self) -> Result<HashedFile, IngestError<E>> {
        let _ = self.messages.send(ToWriter::Finish).await;
        drop(self.messages);
        self.task.await.map_err(IngestError::Task)?.map_err(IngestError::from_io)?.ok_or(IngestError::WriterStopped)
    }

    /// Stops the writer and waits until its temp file is gone.
    async fn abandon(self) {
        self.abandoned.store(true, Ordering::Relaxed);
        drop(self.messages);
        let _ = self.task.await;
    }
}

/// Reads until the sniffer has enough bytes; returns them and the chunks read.
async fn read_head<S, E>(body: &mut S) -> Result<(Vec<u8>, Vec<Bytes>), E>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
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
