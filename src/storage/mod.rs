//! Stored files. Originals are content-addressed (`originals/ab/cd/<sha256>`): streamed to a
//! temp file while hashed, fsynced, renamed into place, and only then recorded by the caller;
//! the same bytes uploaded twice are stored once. Derivatives (thumbnails, posters,
//! storyboards) live under `derived/ab/cd/<sha256>/` and can always be rebuilt from the
//! original. Temp files are removed by a guard on any early return, and at start.

pub mod ingest;
mod local;
mod s3;
pub mod unzip;

pub use local::{HashedFile, LocalStore, TempUpload};
pub use s3::{S3Settings, S3Store};

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A SHA-256 digest in lowercase hex: the key of an original.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// Parses a stored or computed digest; anything but 64 lowercase hex digits is refused,
    /// so a key can never smuggle a path.
    pub fn parse(raw: &str) -> Option<Self> {
        let valid = raw.len() == 64 && raw.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| Self(raw.to_owned()))
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `ab/cd/<digest>`: two levels of fan-out keep folders small.
    pub fn fan_out(&self) -> PathBuf {
        PathBuf::from(fan_out(self))
    }
}

/// One stored object: an original, or one derivative of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Object {
    Original(BlobKey),
    Derived(BlobKey, DerivedName),
    /// A piece of a resumable upload in progress, by its unique name (two requests that race
    /// at one offset never write the same object).
    UploadPiece(UploadId, PieceName),
}

/// A piece's object name: `<offset>-<uuid>`, checked like every name that becomes a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PieceName(String);

impl PieceName {
    /// A fresh name for a piece starting at `offset`.
    pub fn new(offset: u64) -> Self {
        Self(format!("{offset:020}-{}", uuid::Uuid::new_v4().simple()))
    }
}

impl TryFrom<String> for PieceName {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let valid =
            !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
        if valid { Ok(Self(raw)) } else { Err(format!("{raw:?} is not a piece name")) }
    }
}

impl From<PieceName> for String {
    fn from(name: PieceName) -> String {
        name.0
    }
}

/// A resumable upload's id: a UUID, checked so it can never smuggle a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UploadId(String);

impl UploadId {
    pub fn parse(raw: &str) -> Option<Self> {
        uuid::Uuid::parse_str(raw).ok().map(|id| Self(id.hyphenated().to_string()))
    }

    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().hyphenated().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Object {
    /// `originals/ab/cd/<digest>` or `derived/ab/cd/<digest>/<name>`: the same layout in a
    /// folder and in a bucket, so a store can be copied to another as it is.
    pub fn relative_path(&self) -> String {
        match self {
            Object::Original(key) => format!("originals/{}", fan_out(key)),
            Object::Derived(key, name) => format!("derived/{}/{}", fan_out(key), name.0),
            Object::UploadPiece(upload, piece) => format!("uploads/{}/{}", upload.0, piece.0),
        }
    }

    /// The object a relative path names (the inverse of [`Object::relative_path`]).
    pub fn from_relative_path(path: &str) -> Option<Self> {
        let parts: Vec<&str> = path.split('/').collect();
        let key_at = |index: usize| {
            let key = BlobKey::parse(parts[index])?;
            (parts[1] == &key.0[0..2] && parts[2] == &key.0[2..4]).then_some(key)
        };
        match parts.as_slice() {
            ["originals", _, _, _] => Some(Object::Original(key_at(3)?)),
            ["derived", _, _, _, name] => Some(Object::Derived(key_at(3)?, DerivedName::parse(name)?)),
            _ => None,
        }
    }
}

fn fan_out(key: &BlobKey) -> String {
    format!("{}/{}/{}", &key.0[0..2], &key.0[2..4], key.0)
}

/// A derivative's file name: letters, digits, `.`, `-`, `_`, not starting with a dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DerivedName(String);

impl DerivedName {
    pub fn parse(raw: &str) -> Option<Self> {
        let safe = |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_');
        let valid = !raw.is_empty() && raw.len() <= 64 && !raw.starts_with('.') && raw.bytes().all(safe);
        valid.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A byte stream of a stored object, for a response body.
pub type ByteStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = io::Result<bytes::Bytes>> + Send>>;

/// The small interface every backend of stored files offers: a local folder, or an
/// S3-compatible bucket for deployments of several nodes. Its calls block (on the caller's
/// thread, never an async executor's), except [`BlobStore::stream`].
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Stores a fully written, hashed temp file under its digest (once: a duplicate is dropped).
    fn put(&self, file: HashedFile) -> io::Result<BlobKey>;
    /// Stores a copy of a local file as `object` (derivatives, and copies between stores).
    fn put_file(&self, object: &Object, file: &Path) -> io::Result<()>;
    /// Reads `length` bytes (all when `None`) starting at `offset`.
    fn get_range(&self, object: &Object, offset: u64, length: Option<u64>) -> io::Result<Box<dyn Read + Send>>;
    /// Streams `length` bytes (all when `None`) from `offset` without blocking the caller.
    fn stream(&self, object: &Object, offset: u64, length: Option<u64>) -> ByteStream;
    /// The size of an object, `None` when it is not stored.
    fn size(&self, object: &Object) -> io::Result<Option<u64>>;
    /// Removes an original and its derivatives; absent is fine.
    fn delete(&self, key: &BlobKey) -> io::Result<()>;
    /// Removes one object (an upload's piece); absent is fine.
    fn delete_object(&self, object: &Object) -> io::Result<()>;
    /// Every stored object and its size (for copying a store).
    fn list(&self) -> io::Result<Vec<(Object, u64)>>;
    /// Where the object is on this machine's disk, when the store is a folder: files are
    /// then served and decoded in place instead of streamed.
    fn local_path(&self, object: &Object) -> Option<PathBuf>;
    /// `folder /srv/media` or `s3://bucket/prefix at http://…`, for logs and the health page.
    fn describe(&self) -> String;

    /// Starts taking an upload's bytes as they arrive, for a store on the network (S3: parts
    /// go up while the rest arrives and is hashed); `None` when a finished local file is best
    /// (a folder: written once, then renamed into place), or when the node's memory budget for
    /// uploads in flight is taken (the upload then goes through a scratch file).
    fn stage(&self) -> io::Result<Option<Box<dyn StagedUpload>>> {
        Ok(None)
    }

    /// Removes staged uploads older than `age` that were never filed (their node died between
    /// completing and naming them); returns how many.
    fn remove_stale_staging(&self, _age: std::time::Duration) -> io::Result<usize> {
        Ok(0)
    }

    /// Whether an original is stored.
    fn exists(&self, key: &BlobKey) -> io::Result<bool> {
        Ok(self.size(&Object::Original(key.clone()))?.is_some())
    }

    /// Copies an object to a local file (for a decoder child, or a backup).
    fn download(&self, object: &Object, target: &Path) -> io::Result<u64> {
        let mut reader = self.get_range(object, 0, None)?;
        let mut file = std::fs::File::create(target)?;
        let copied = io::copy(&mut reader, &mut file)?;
        file.sync_all()?;
        Ok(copied)
    }
}

/// An upload written into a store while it arrives, before its digest (its name) is known.
/// Calls block on the caller's (blocking) thread; memory stays within a few parts per upload.
pub trait StagedUpload: Send {
    /// Appends bytes.
    fn write(&mut self, pieces: &[bytes::Bytes]) -> io::Result<()>;
    /// Completes the upload; [`BlobStore::put`] then files it under its digest.
    fn finish(self: Box<Self>) -> io::Result<Staged>;
}

/// A completed staged upload, waiting for its name.
#[derive(Debug)]
pub enum Staged {
    /// Small enough to have stayed in memory (the pieces as they came): sent in one request
    /// once named.
    Bytes(Vec<bytes::Bytes>),
    /// Stored under a staging name in the store.
    Object(StagedObject),
}

/// Bytes stored under a staging name; removed when dropped (once filed under their digest, the
/// staged copy is no longer needed).
pub struct StagedObject {
    name: String,
    remove: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl StagedObject {
    /// `remove` deletes the staged bytes without blocking (it runs on drop).
    pub fn new(name: String, remove: Box<dyn FnOnce() + Send + Sync>) -> Self {
        Self { name, remove: Some(remove) }
    }

    /// The staging name within its store.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Debug for StagedObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StagedObject({})", self.name)
    }
}

impl Drop for StagedObject {
    fn drop(&mut self) {
        if let Some(remove) = self.remove.take() {
            remove();
        }
    }
}

/// Where originals and derivatives live: a folder (the default) or an S3 bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    Folder(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl StorageUrl {
    /// `s3://bucket/optional/prefix`, or a folder path (also as `file:///path`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(rest) = raw.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let bucket_ok = (3..=63).contains(&bucket.len())
                && bucket
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || matches!(byte, b'-' | b'.'));
            if !bucket_ok {
                return Err(format!("{raw:?}: the bucket name must be 3-63 lowercase letters, digits, '-' or '.'"));
            }
            let prefix = prefix.trim_matches('/');
            // Object names are compared as written: no empty, dot or percent-encoded segments.
            let plain = |part: &str| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
            };
            if !prefix.is_empty() && !prefix.split('/').all(plain) {
                return Err(format!("{raw:?}: the prefix is folders of letters, digits, '-', '_' or '.'"));
            }
            return Ok(StorageUrl::S3 { bucket: bucket.to_owned(), prefix: prefix.to_owned() });
        }
        if raw.contains("://") && !raw.starts_with("file://") {
            return Err(format!("{raw:?}: a storage URL is a folder or s3://bucket/prefix"));
        }
        let path = raw.strip_prefix("file://").unwrap_or(raw);
        if path.is_empty() {
            return Err("the storage folder is empty".into());
        }
        Ok(StorageUrl::Folder(PathBuf::from(path)))
    }
}

impl std::fmt::Display for StorageUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageUrl::Folder(path) => write!(f, "{}", path.display()),
            StorageUrl::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            StorageUrl::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// The stores of one process: scratch space on this machine (uploads being received, job
/// outputs) and the shared store of originals and derivatives.
#[derive(Debug, Clone)]
pub struct Storage {
    scratch: LocalStore,
    blobs: Arc<dyn BlobStore>,
}

impl Storage {
    /// Scratch under `media_dir`; originals in `url` (the media folder itself by default).
    pub fn open(media_dir: &Path, url: &StorageUrl, s3: &S3Settings) -> io::Result<Self> {
        let scratch = LocalStore::open(media_dir)?;
        let blobs: Arc<dyn BlobStore> = match url {
            StorageUrl::Folder(path) if path == media_dir => Arc::new(scratch.clone()),
            StorageUrl::Folder(path) => Arc::new(LocalStore::open(path)?),
            StorageUrl::S3 { bucket, prefix } => Arc::new(S3Store::open(bucket, prefix, s3)?),
        };
        Ok(Self { scratch, blobs })
    }

    /// One folder for everything (tests, and tools working on a folder).
    pub fn local(store: LocalStore) -> Self {
        Self { blobs: Arc::new(store.clone()), scratch: store }
    }

    /// A new upload being written and hashed: straight into the store when it takes bytes
    /// as they arrive, else into a scratch temp file.
    pub fn begin_upload(&self) -> io::Result<TempUpload> {
        match self.blobs.stage()? {
            Some(staged) => TempUpload::staged(staged),
            None => self.scratch.temp_upload(),
        }
    }

    /// Temp files of this machine.
    pub fn scratch(&self) -> &LocalStore {
        &self.scratch
    }

    /// The store of originals and derivatives.
    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.blobs
    }

    /// Whether other nodes write to the store too (a bucket, not this machine's folder).
    pub fn is_shared(&self) -> bool {
        let probe = Object::Original(BlobKey(format!("{:0>64}", "")));
        self.blobs.local_path(&probe).is_none()
    }

    /// A path on this machine holding the object's bytes: the stored file itself in a folder
    /// store, else a scratch copy streamed down (removed when the value is dropped). Blocks.
    pub fn local_copy(&self, object: &Object) -> io::Result<LocalCopy> {
        if let Some(path) = self.blobs.local_path(object) {
            return Ok(LocalCopy { path, temporary: false });
        }
        let path = self.scratch.temp_dir().join(format!("copy-{}", uuid::Uuid::now_v7()));
        let copy = LocalCopy { path, temporary: true };
        self.blobs.download(object, &copy.path)?;
        Ok(copy)
    }
}

/// A file on this machine with an object's bytes; a scratch copy is removed on drop.
#[derive(Debug)]
pub struct LocalCopy {
    path: PathBuf,
    temporary: bool,
}

impl LocalCopy {
    /// A scratch file that is removed when the value is dropped.
    pub fn temporary(path: PathBuf) -> Self {
        Self { path, temporary: true }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LocalCopy {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether an I/O error means the disk is full (answered as 507).
pub fn is_storage_full(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::StorageFull
        || error.raw_os_error() == Some(libc::ENOSPC)
        || error.raw_os_error() == Some(libc::EDQUOT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hex_digests_only() {
        let digest = "a".repeat(64);
        assert_eq!(BlobKey::parse(&digest).unwrap().fan_out(), PathBuf::from(format!("aa/aa/{digest}")));
        assert!(BlobKey::parse("../../etc/passwd").is_none());
        assert!(BlobKey::parse(&"A".repeat(64)).is_none());
        assert!(BlobKey::parse(&"a".repeat(63)).is_none());
    }

    #[test]
    fn objects_round_trip_through_their_paths() {
        let key = BlobKey::parse(&format!("ab{}", "c".repeat(62))).unwrap();
        let small = Object::Derived(key.clone(), DerivedName::parse("small.jpg").unwrap());
        for object in [Object::Original(key.clone()), small] {
            assert_eq!(Object::from_relative_path(&object.relative_path()), Some(object));
        }
        let digest = key.as_str();
        assert!(Object::from_relative_path(&format!("originals/zz/cc/{digest}")).is_none(), "wrong fan-out");
        assert!(Object::from_relative_path(&format!("derived/ab/cc/{digest}/../x")).is_none());
        assert!(Object::from_relative_path("tmp/upload-1").is_none());
        assert!(DerivedName::parse(".hidden").is_none());
        assert!(DerivedName::parse("a/b").is_none());
    }

    #[test]
    fn storage_urls_are_folders_or_buckets() {
        assert_eq!(StorageUrl::parse("media").unwrap(), StorageUrl::Folder("media".into()));
        assert_eq!(StorageUrl::parse("file:///srv/media").unwrap(), StorageUrl::Folder("/srv/media".into()));
        let bucket = StorageUrl::parse("s3://microcat/county/").unwrap();
        assert_eq!(bucket, StorageUrl::S3 { bucket: "microcat".into(), prefix: "county".into() });
        assert_eq!(bucket.to_string(), "s3://microcat/county");
        assert_eq!(StorageUrl::parse("s3://media").unwrap().to_string(), "s3://media");
        assert!(StorageUrl::parse("s3://UPPER").is_err());
        assert!(StorageUrl::parse("s3://ok-bucket/../x").is_err());
        assert!(StorageUrl::parse("s3://ok-bucket/a//b").is_err());
        assert!(StorageUrl::parse("s3://ok-bucket/a b").is_err());
        assert!(StorageUrl::parse("http://example.com").is_err());
    }
}
