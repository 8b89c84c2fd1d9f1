//! The S3 backend (Garage is the reference; MinIO and AWS work alike) through the
//! `object_store` crate: the same `originals/…` and `derived/…` layout as the folder, under an
//! optional prefix. Its HTTP client runs on a small runtime of its own, so the blocking calls of
//! [`BlobStore`] work from any blocking thread and a streamed response never depends on which
//! executor polls it. Uploads go up in 8 MiB multipart parts, at most two in flight (memory per
//! upload stays bounded), and an upload that fails is aborted so no parts are left behind.

use std::future::Future;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::AsyncReadExt;

use super::{BlobKey, BlobStore, ByteStream, HashedFile, Object, Staged, StagedObject, StagedUpload};

/// Size of one multipart part (S3 wants ≥ 5 MiB for all but the last).
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts uploaded at once per upload.
const PARTS_IN_FLIGHT: usize = 2;
/// Chunks of a streamed read queued ahead of the response.
const STREAM_QUEUE: usize = 4;
/// Uploads streamed into the bucket at once; each holds up to three parts (~24 MiB). Past
/// this many, uploads are received into scratch files and sent once complete, so a burst of
/// uploads costs disk, not memory.
const STAGED_AT_ONCE: usize = 8;

/// How to reach the bucket; the keys come from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// `http://127.0.0.1:3900` for Garage; unset means AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
}

/// A bucket (and prefix) of originals and derivatives.
pub struct S3Store {
    objects: Arc<AmazonS3>,
    /// Uploads streaming into the bucket now (see [`STAGED_AT_ONCE`]).
    staging: Arc<std::sync::atomic::AtomicUsize>,
    prefix: String,
    label: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

impl Drop for S3Store {
    fn drop(&mut self) {
        // Dropping a runtime inside another one's async context panics; this never waits.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl S3Store {
    /// Connects (lazily: nothing is sent until the first call) to `bucket` under `prefix`.
    pub fn open(bucket: &str, prefix: &str, settings: &S3Settings) -> io::Result<Self> {
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket).with_region(&settings.region);
        if let Some(endpoint) = &settings.endpoint {
            // A self-hosted store has no instance metadata to ask for keys: say what is missing.
            for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
                if std::env::var_os(name).is_none_or(|value| value.is_empty()) {
                    return Err(io::Error::other(format!("{name} is not set: the S3 store at {endpoint} needs a key")));
                }
            }
            // Custom endpoints (Garage, MinIO) address buckets by path, not by host name.
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let objects = builder.build().map_err(|error| io::Error::other(format!("S3 settings: {error}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("microcat-s3")
            .enable_all()
            .build()?;
        let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        let at = settings.endpoint.as_deref().unwrap_or("AWS");
        let label = format!("s3://{bucket}/{prefix} at {at}");
        let staging = Arc::default();
        Ok(Self { objects: Arc::new(objects), staging, prefix, label, runtime: Some(runtime) })
    }

    fn location(&self, object: &Object) -> ObjectPath {
        ObjectPath::from(format!("{}{}", self.prefix, object.relative_path()))
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.as_ref().expect("the runtime lives until drop")
    }

    /// Runs S3 calls on the store's runtime and waits (the caller is a blocking thread).
    fn wait<F: Future>(&self, future: F) -> F::Output {
        self.runtime().block_on(future)
    }
}

/// Uploads a local file: one PUT when small, else multipart parts read from disk as they go.
async fn upload_file(objects: &AmazonS3, location: &ObjectPath, file: &Path) -> io::Result<()> {
    let mut source = tokio::fs::File::open(file).await?;
    let size = source.metadata().await?.len();
    if size <= PART_BYTES as u64 {
        let mut bytes = Vec::with_capacity(size as usize);
        source.read_to_end(&mut bytes).await?;
        objects.put(location, PutPayload::from(bytes)).await.map_err(s3_error)?;
        return Ok(());
    }
    let upload = objects.put_multipart(location).await.map_err(s3_error)?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
    let written = async {
        let mut buffer = vec![0u8; PART_BYTES];
        loop {
            writer.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(s3_error)?;
            let read = read_full(&mut source, &mut buffer).await?;
            if read == 0 {
                return Ok::<_, io::Error>(());
            }
            writer.put(Bytes::copy_from_slice(&buffer[..read]));
        }
    }
    .await;
    match written {
        Ok(()) => writer.finish().await.map(|_| ()).map_err(s3_error),
        Err(error) => {
            let _ = writer.abort().await;
            Err(error)
        }
    }
}

async fn read_full(source: &mut tokio::fs::File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let read = source.read(&mut buffer[filled..]).await?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    Ok(filled)
}

fn range_of(offset: u64, length: Option<u64>) -> Option<GetRange> {
    match (offset, length) {
        (0, None) => None,
        (offset, None) => Some(GetRange::Offset(offset)),
        (offset, Some(length)) => Some(GetRange::Bounded(offset..offset + length)),
    }
}

fn s3_error(error: object_store::Error) -> io::Error {
    match error {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, error.to_string()),
        other => io::Error::other(other.to_string()),
    }
}

impl BlobStore for S3Store {
    fn put(&self, mut file: HashedFile) -> io::Result<BlobKey> {
        let key = file.key().clone();
        let object = Object::Original(key.clone());
        // Dropping what is not filed removes it: the temp copy, or the staged object.
        let staged = file.take_staged();
        if self.size(&object)?.is_some() {
            return Ok(key);
        }
        let location = self.location(&object);
        match staged {
            None => self.put_file(&object, file.path())?,
            Some(Staged::Bytes(pieces)) => {
                self.wait(self.objects.put(&location, PutPayload::from_iter(pieces))).map_err(s3_error)?;
            }
            // A copy within the bucket: Garage shares the blocks, no bytes travel again.
            Some(Staged::Object(staged)) => {
                self.wait(self.objects.copy(&ObjectPath::from(staged.name()), &location)).map_err(s3_error)?;
            }
        }
        Ok(key)
    }

    fn stage(&self) -> io::Result<Option<Box<dyn StagedUpload>>> {
        let Some(slot) = StagingSlot::take(&self.staging) else { return Ok(None) };
        let name = format!("{}staging/{}", self.prefix, uuid::Uuid::now_v7());
        let handle = self.runtime().handle().clone();
        let objects = Arc::clone(&self.objects);
        let staging = S3Staging { objects, handle, name, held: Vec::new(), held_bytes: 0, writer: None, _slot: slot };
        Ok(Some(Box::new(staging)))
    }

    fn remove_stale_staging(&self, age: std::time::Duration) -> io::Result<usize> {
        let under = ObjectPath::from(format!("{}staging", self.prefix));
        let cutoff = chrono::Utc::now() - age;
        self.wait(async {
            let mut removed = 0;
            let mut listed = self.objects.list(Some(&under));
            while let Some(meta) = listed.next().await {
                let meta = meta.map_err(s3_error)?;
                if meta.last_modified < cutoff {
                    self.objects.delete(&meta.location).await.map_err(s3_error)?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
    }

    fn put_file(&self, object: &Object, file: &Path) -> io::Result<()> {
        let location = self.location(object);
        self.wait(upload_file(&self.objects, &location, file))
    }

    fn get_range(&self, object: &Object, offset: u64, length: Option<u64>) -> io::Result<Box<dyn Read + Send>> {
        if length == Some(0) {
            return Ok(Box::new(io::empty()));
        }
        let location = self.location(object);
        let options = GetOptions { range: range_of(offset, length), ..GetOptions::default() };
        let result = self.wait(self.objects.get_opts(&location, options)).map_err(s3_error)?;
        let handle = self.runtime().handle().clone();
        Ok(Box::new(BlockingReader { stream: result.into_stream(), handle, pending: Bytes::new() }))
    }

    fn stream(&self, object: &Object, offset: u64, length: Option<u64>) -> ByteStream {
        let (sender, receiver) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(STREAM_QUEUE);
        let objects = Arc::clone(&self.objects);
        let location = self.location(object);
        self.runtime().spawn(async move {
            if length == Some(0) {
                return;
            }
            let options = GetOptions { range: range_of(offset, length), ..GetOptions::default() };
            let mut chunks = match objects.get_opts(&location, options).await {
                Ok(result) => result.into_stream(),
                Err(error) => {
                    let _ = sender.send(Err(s3_error(error))).await;
                    return;
                }
            };
            while let Some(chunk) = chunks.next().await {
                let failed = chunk.is_err();
                // A closed receiver means the client went away: stop reading.
                if sender.send(chunk.map_err(s3_error)).await.is_err() || failed {
                    return;
                }
            }
        });
        Box::pin(futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|chunk| (chunk, receiver))
        }))
    }

    fn size(&self, object: &Object) -> io::Result<Option<u64>> {
        match self.wait(self.objects.head(&self.location(object))) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(s3_error(error)),
        }
    }

    fn delete(&self, key: &BlobKey) -> io::Result<()> {
        let derived = ObjectPath::from(format!("{}derived/{}", self.prefix, key.fan_out().display()));
        self.wait(async {
            let mut listed = self.objects.list(Some(&derived));
            while let Some(meta) = listed.next().await {
                self.objects.delete(&meta.map_err(s3_error)?.location).await.map_err(s3_error)?;
            }
            match self.objects.delete(&self.location(&Object::Original(key.clone()))).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(error) => Err(s3_error(error)),
            }
        })
    }

    fn delete_object(&self, object: &Object) -> io::Result<()> {
        match self.wait(self.objects.delete(&self.location(object))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(s3_error(error)),
        }
    }

    fn list(&self) -> io::Result<Vec<(Object, u64)>> {
        let mut found = Vec::new();
        for folder in ["originals", "derived"] {
            let under = ObjectPath::from(format!("{}{folder}", self.prefix));
            self.wait(async {
                let mut listed = self.objects.list(Some(&under));
                while let Some(meta) = listed.next().await {
                    let meta = meta.map_err(s3_error)?;
                    let relative = meta.location.as_ref().strip_prefix(&self.prefix).unwrap_or_default();
                    if let Some(object) = Object::from_relative_path(relative) {
                        found.push((object, meta.size));
                    }
                }
                Ok::<_, io::Error>(())
            })?;
        }
        Ok(found)
    }

    fn local_path(&self, _object: &Object) -> Option<PathBuf> {
        None
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}

/// An upload going into the bucket as it arrives. Up to one part is held in memory (a photo
/// then goes up in one request, under its digest, once that is known); past that, a multipart
/// upload to `staging/<uuid>` takes 8 MiB parts, two in flight. Dropped unfinished, the
/// multipart upload is aborted.
struct S3Staging {
    objects: Arc<AmazonS3>,
    handle: tokio::runtime::Handle,
    name: String,
    held: Vec<Bytes>,
    held_bytes: usize,
    writer: Option<WriteMultipart>,
    _slot: StagingSlot,
}

/// One of the [`STAGED_AT_ONCE`] places for an upload streaming into the bucket, given back
/// when dropped.
struct StagingSlot(Arc<std::sync::atomic::AtomicUsize>);

impl StagingSlot {
    fn take(in_use: &Arc<std::sync::atomic::AtomicUsize>) -> Option<Self> {
        use std::sync::atomic::Ordering;
        in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| (now < STAGED_AT_ONCE).then_some(now + 1))
            .ok()
            .map(|_| Self(Arc::clone(in_use)))
    }
}

impl Drop for StagingSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl S3Staging {
    fn send(writer: &mut WriteMultipart, handle: &tokio::runtime::Handle, pieces: &[Bytes]) -> io::Result<()> {
        handle.block_on(async {
            for piece in pieces {
                writer.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(s3_error)?;
                writer.put(piece.clone());
            }
            Ok(())
        })
    }
}

impl StagedUpload for S3Staging {
    fn write(&mut self, pieces: &[Bytes]) -> io::Result<()> {
        if let Some(writer) = &mut self.writer {
            return Self::send(writer, &self.handle, pieces);
        }
        self.held.extend(pieces.iter().cloned());
        self.held_bytes += pieces.iter().map(Bytes::len).sum::<usize>();
        if self.held_bytes <= PART_BYTES {
            return Ok(());
        }
        let location = ObjectPath::from(self.name.as_str());
        let upload = self.handle.block_on(self.objects.put_multipart(&location)).map_err(s3_error)?;
        let writer = self.writer.insert(WriteMultipart::new_with_chunk_size(upload, PART_BYTES));
        let held = std::mem::take(&mut self.held);
        self.held_bytes = 0;
        Self::send(writer, &self.handle, &held)
    }

    fn finish(mut self: Box<Self>) -> io::Result<Staged> {
        let Some(writer) = self.writer.take() else {
            return Ok(Staged::Bytes(std::mem::take(&mut self.held)));
        };
        self.handle.block_on(writer.finish()).map_err(s3_error)?;
        let (objects, handle, location) =
            (Arc::clone(&self.objects), self.handle.clone(), ObjectPath::from(self.name.as_str()));
        // Removal never blocks: the staged object may be dropped on any thread.
        let remove = Box::new(move || {
            handle.spawn(async move { objects.delete(&location).await });
        });
        Ok(Staged::Object(StagedObject::new(self.name.clone(), remove)))
    }
}

impl Drop for S3Staging {
    fn drop(&mut self) {
        // Dropped unfinished on the writer's blocking thread: the parts sent so far go. An
        // abort that fails leaves an incomplete upload for the bucket's lifecycle rule (README).
        if let Some(writer) = self.writer.take()
            && let Err(error) = self.handle.block_on(writer.abort())
        {
            tracing::warn!(%error, staging = %self.name, "aborting a cut-off multipart upload failed");
        }
    }
}

/// A `Read` over an object's byte stream, for blocking callers (decoder input, backups).
struct BlockingReader {
    stream: futures_util::stream::BoxStream<'static, object_store::Result<Bytes>>,
    handle: tokio::runtime::Handle,
    pending: Bytes,
}

impl Read for BlockingReader {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() {
            match self.handle.block_on(self.stream.next()) {
                Some(chunk) => self.pending = chunk.map_err(s3_error)?,
                None => return Ok(0),
            }
        }
        let take = buffer.len().min(self.pending.len());
        buffer[..take].copy_from_slice(&self.pending.split_to(take));
        Ok(take)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_ask_only_for_what_is_needed() {
        assert_eq!(range_of(0, None), None);
        assert_eq!(range_of(10, None), Some(GetRange::Offset(10)));
        assert_eq!(range_of(10, Some(5)), Some(GetRange::Bounded(10..15)));
    }
}
