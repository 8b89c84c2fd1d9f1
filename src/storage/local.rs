//! The local-folder store: `originals/`, `derived/` and `tmp/` under the media folder.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IoSlice, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::{BlobKey, BlobStore, ByteStream, Object, Staged, StagedUpload};

/// Batches of an upload queued for its hashing thread before writing waits for it.
const HASH_QUEUE_BATCHES: usize = 4;

/// Bytes of an upload written before the disk is asked to start writing them out.
const WRITEBACK_STEP_BYTES: u64 = 8 * 1024 * 1024;

/// Bytes read per chunk of a streamed response.
const STREAM_CHUNK_BYTES: usize = 64 * 1024;

/// The media folder.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// Opens (creating) the folder layout and clears temp leftovers of a previous run.
    pub fn open(root: &Path) -> io::Result<Self> {
        let store = Self { root: root.to_owned() };
        for folder in ["originals", "derived", "tmp"] {
            fs::create_dir_all(root.join(folder))?;
        }
        store.clear_temp()?;
        Ok(store)
    }

    /// Removes everything under `tmp/` (partial uploads and job outputs of a crashed run).
    pub fn clear_temp(&self) -> io::Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(self.temp_dir())? {
            let path = entry?.path();
            let outcome = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
            if outcome.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// The folder for temp files.
    pub fn temp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Number of entries in `tmp/` (tests check none are left behind).
    pub fn temp_entries(&self) -> io::Result<usize> {
        Ok(fs::read_dir(self.temp_dir())?.count())
    }

    /// A new temp file for an upload, removed unless committed.
    pub fn temp_upload(&self) -> io::Result<TempUpload> {
        let path = self.temp_dir().join(format!("upload-{}", uuid::Uuid::now_v7()));
        let file = OpenOptions::new().write(true).create_new(true).open(&path)?;
        let sink = Sink::File { guard: TempGuard(Some(path)), file, written_back: 0 };
        Ok(TempUpload { sink, hasher: HashingThread::spawn()?, size: 0 })
    }

    /// A new temp folder (a processing job's outputs), removed by the caller.
    pub fn temp_folder(&self, name: &str) -> io::Result<PathBuf> {
        let path = self.temp_dir().join(name);
        fs::create_dir_all(&path)?;
        Ok(path)
    }

    /// Where an original lives on disk.
    pub fn original_path(&self, key: &BlobKey) -> PathBuf {
        self.root.join("originals").join(key.fan_out())
    }

    /// The folder of an original's derivatives.
    pub fn derived_dir(&self, key: &BlobKey) -> PathBuf {
        self.root.join("derived").join(key.fan_out())
    }

    /// Moves a finished derivative into place atomically (replacing an older rendering).
    pub fn put_derived(&self, key: &BlobKey, name: &str, produced: &Path) -> io::Result<PathBuf> {
        let folder = self.derived_dir(key);
        fs::create_dir_all(&folder)?;
        let target = folder.join(name);
        File::open(produced)?.sync_all()?;
        fs::rename(produced, &target)?;
        sync_dir(&folder)?;
        Ok(target)
    }
}

fn sync_dir(folder: &Path) -> io::Result<()> {
    File::open(folder)?.sync_all()
}

/// Removes its file when dropped, unless disarmed.
#[derive(Debug)]
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// An upload being written: bytes are hashed as they arrive, on a thread of their own, and
/// go to a temp file or straight into the store (see [`super::Storage::begin_upload`]).
pub struct TempUpload {
    sink: Sink,
    hasher: HashingThread,
    size: u64,
}

enum Sink {
    File {
        guard: TempGuard,
        file: File,
        /// Bytes whose writing-out to disk has been started.
        written_back: u64,
    },
    Staged(Box<dyn StagedUpload>),
}

impl std::fmt::Debug for TempUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sink = match &self.sink {
            Sink::File { guard, .. } => format!("{:?}", guard.0),
            Sink::Staged(_) => "staged in the store".to_owned(),
        };
        write!(f, "TempUpload({sink}, {} bytes)", self.size)
    }
}

impl TempUpload {
    /// An upload whose bytes go straight into the store as they arrive.
    pub fn staged(staged: Box<dyn StagedUpload>) -> io::Result<Self> {
        Ok(Self { sink: Sink::Staged(staged), hasher: HashingThread::spawn()?, size: 0 })
    }

    /// Appends a batch of pieces (to a file: in one vectored write, no copy into a buffer).
    pub fn write(&mut self, pieces: &[Bytes]) -> io::Result<()> {
        self.hasher.update(pieces.to_vec())?;
        self.size += pieces.iter().map(|piece| piece.len() as u64).sum::<u64>();
        match &mut self.sink {
            Sink::Staged(staged) => staged.write(pieces),
            Sink::File { file, written_back, .. } => {
                let mut slices: Vec<IoSlice<'_>> = pieces.iter().map(|piece| IoSlice::new(piece)).collect();
                write_all_vectored(file, &mut slices)?;
                if self.size - *written_back >= WRITEBACK_STEP_BYTES {
                    start_writeback(file, *written_back, self.size - *written_back);
                    *written_back = self.size;
                }
                Ok(())
            }
        }
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flushes to disk (or completes the staged upload) and returns the digest; the bytes
    /// are not yet filed under it.
    pub fn finish(self) -> io::Result<HashedFile> {
        let (guard, staged) = match self.sink {
            Sink::File { guard, file, .. } => {
                file.sync_all()?;
                (guard, None)
            }
            Sink::Staged(staged) => (TempGuard(None), Some(staged.finish()?)),
        };
        let digest = hex::encode(self.hasher.finish()?);
        let key = BlobKey::parse(&digest).expect("sha-256 hex is a valid key");
        Ok(HashedFile { guard, staged, key, size: self.size })
    }
}

/// Starts writing a range out to disk without waiting for it, so the disk works while the
/// rest arrives and the final fsync has little left to do (the kernel alone would wait
/// until gigabytes are dirty). Only a hint: fsync reports any error.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, offset: u64, length: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(length)) = (i64::try_from(offset), i64::try_from(length)) else { return };
    // SAFETY: a plain syscall on an open descriptor; it touches no memory of ours.
    unsafe { libc::sync_file_range(file.as_raw_fd(), offset, length, libc::SYNC_FILE_RANGE_WRITE) };
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _offset: u64, _length: u64) {}

fn write_all_vectored(file: &mut File, mut slices: &mut [IoSlice<'_>]) -> io::Result<()> {
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut slices, written),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// SHA-256 of an upload computed beside its writing: on two cores, hashing and writing in
/// one thread made that thread the upload's bottleneck. Dropped unfinished, it just ends.
#[derive(Debug)]
struct HashingThread {
    batches: SyncSender<Vec<Bytes>>,
    digest: JoinHandle<[u8; 32]>,
}

impl HashingThread {
    fn spawn() -> io::Result<Self> {
        let (batches, received) = sync_channel::<Vec<Bytes>>(HASH_QUEUE_BATCHES);
        let digest = std::thread::Builder::new().name("upload-hash".into()).spawn(move || {
            let mut hasher = Sha256::new();
            for piece in received.into_iter().flatten() {
                hasher.update(&piece);
            }
            hasher.finalize().into()
        })?;
        Ok(Self { batches, digest })
    }

    fn update(&self, batch: Vec<Bytes>) -> io::Result<()> {
        self.batches.send(batch).map_err(|_| io::Error::other("the upload's hashing thread stopped"))
    }

    fn finish(self) -> io::Result<[u8; 32]> {
        drop(self.batches);
        self.digest.join().map_err(|_| io::Error::other("the upload's hashing thread panicked"))
    }
}

/// A complete upload and its digest: a fsynced temp file, or bytes staged in the store.
#[derive(Debug)]
pub struct HashedFile {
    guard: TempGuard,
    /// The bytes when they went straight into the store instead of a temp file.
    staged: Option<Staged>,
    key: BlobKey,
    size: u64,
}

impl HashedFile {
    /// The content digest.
    pub fn key(&self) -> &BlobKey {
        &self.key
    }

    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where the temp file is (for sniffing or probing before it is stored).
    pub fn path(&self) -> &Path {
        self.guard.0.as_deref().expect("a hashed file keeps its path until stored")
    }

    /// The bytes already in the store under a staging name (or held in memory), if the upload
    /// went there instead of a temp file.
    pub fn take_staged(&mut self) -> Option<Staged> {
        self.staged.take()
    }
}

impl LocalStore {
    fn object_path(&self, object: &Object) -> PathBuf {
        self.root.join(object.relative_path())
    }

    fn list_under(&self, folder: &str, found: &mut Vec<(Object, u64)>) -> io::Result<()> {
        let mut pending = vec![self.root.join(folder)];
        while let Some(dir) = pending.pop() {
            let entries = match fs::read_dir(&dir) {
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                entries => entries?,
            };
            for entry in entries {
                let entry = entry?;
                let kind = entry.file_type()?;
                if kind.is_dir() {
                    pending.push(entry.path());
                } else if kind.is_file() {
                    let relative = entry.path().strip_prefix(&self.root).map(Path::to_path_buf);
                    let object = relative.ok().and_then(|path| Object::from_relative_path(path.to_str()?));
                    if let Some(object) = object {
                        found.push((object, entry.metadata()?.len()));
                    }
                }
            }
        }
        Ok(())
    }
}

impl BlobStore for LocalStore {
    fn put(&self, mut file: HashedFile) -> io::Result<BlobKey> {
        let target = self.original_path(&file.key);
        if target.exists() {
            return Ok(file.key.clone());
        }
        let folder = target.parent().expect("originals have a parent folder");
        fs::create_dir_all(folder)?;
        let source = file.guard.0.take().expect("not yet stored");
        if let Err(error) = fs::rename(&source, &target) {
            file.guard.0 = Some(source);
            return Err(error);
        }
        sync_dir(folder)?;
        Ok(file.key.clone())
    }

    fn put_file(&self, object: &Object, file: &Path) -> io::Result<()> {
        let target = self.object_path(object);
        let folder = target.parent().expect("objects have a parent folder");
        fs::create_dir_all(folder)?;
        let temp = TempGuard(Some(self.temp_dir().join(format!("copy-{}", uuid::Uuid::now_v7()))));
        let copy = temp.0.as_deref().expect("just set");
        // A scratch file on the same disk is linked, not copied (a preview can be large).
        if fs::hard_link(file, copy).is_err() {
            fs::copy(file, copy)?;
        }
        File::open(copy)?.sync_all()?;
        fs::rename(copy, &target)?;
        std::mem::forget(temp);
        sync_dir(folder)
    }

    fn get_range(&self, object: &Object, offset: u64, length: Option<u64>) -> io::Result<Box<dyn Read + Send>> {
        let mut file = File::open(self.object_path(object))?;
        file.seek(SeekFrom::Start(offset))?;
        Ok(match length {
            Some(length) => Box::new(file.take(length)),
            None => Box::new(file),
        })
    }

    fn stream(&self, object: &Object, offset: u64, length: Option<u64>) -> ByteStream {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        enum State {
            Closed(PathBuf),
            Open(tokio::io::Take<tokio::fs::File>, Vec<u8>),
        }
        let start = State::Closed(self.object_path(object));
        let chunks = futures_util::stream::try_unfold(start, move |state| async move {
            let (mut file, mut buffer) = match state {
                State::Open(file, buffer) => (file, buffer),
                State::Closed(path) => {
                    let mut file = tokio::fs::File::open(path).await?;
                    file.seek(SeekFrom::Start(offset)).await?;
                    (file.take(length.unwrap_or(u64::MAX)), vec![0u8; STREAM_CHUNK_BYTES])
                }
            };
            let read = file.read(&mut buffer).await?;
            if read == 0 {
                return Ok(None);
            }
            let chunk = Bytes::copy_from_slice(&buffer[..read]);
            Ok(Some((chunk, State::Open(file, buffer))))
        });
        Box::pin(chunks)
    }

    fn size(&self, object: &Object) -> io::Result<Option<u64>> {
        match fs::metadata(self.object_path(object)) {
            Ok(meta) => Ok(Some(meta.len())),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn delete(&self, key: &BlobKey) -> io::Result<()> {
        match fs::remove_file(self.original_path(key)) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        match fs::remove_dir_all(self.derived_dir(key)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    fn delete_object(&self, object: &Object) -> io::Result<()> {
        let path = self.object_path(object);
        match fs::remove_file(&path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        // An upload's folder goes with its last piece (not empty yet: fine).
        if let Some(folder) = path.parent().filter(|_| matches!(object, Object::UploadPiece(..))) {
            let _ = fs::remove_dir(folder);
        }
        Ok(())
    }

    fn list(&self) -> io::Result<Vec<(Object, u64)>> {
        let mut found = Vec::new();
        self.list_under("originals", &mut found)?;
        self.list_under("derived", &mut found)?;
        Ok(found)
    }

    fn local_path(&self, object: &Object) -> Option<PathBuf> {
        Some(self.object_path(object))
    }

    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, LocalStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn same_bytes_are_stored_once() {
        let (_dir, store) = store();
        let put = |bytes: &[u8]| {
            let mut upload = store.temp_upload().unwrap();
            upload.write(&[Bytes::copy_from_slice(bytes)]).unwrap();
            store.put(upload.finish().unwrap()).unwrap()
        };
        let first = put(b"hello");
        let second = put(b"hello");
        assert_eq!(first, second);
        assert_eq!(first.as_str(), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(store.temp_entries().unwrap(), 0, "the duplicate's temp file is gone");
        let mut read = String::new();
        store.get_range(&Object::Original(first.clone()), 1, Some(3)).unwrap().read_to_string(&mut read).unwrap();
        assert_eq!(read, "ell");
    }

    #[test]
    fn batches_of_many_pieces_are_written_and_hashed_in_order() {
        let (_dir, store) = store();
        let mut upload = store.temp_upload().unwrap();
        upload.write(&[Bytes::from_static(b"hel"), Bytes::from_static(b"lo")]).unwrap();
        // More pieces than one writev call takes (IOV_MAX is 1024 on Linux).
        let spaces: Vec<Bytes> = (0..3000).map(|_| Bytes::from_static(b" ")).collect();
        upload.write(&spaces).unwrap();
        upload.write(&[Bytes::from_static(b"world")]).unwrap();
        assert_eq!(upload.size(), 3010);
        let key = store.put(upload.finish().unwrap()).unwrap();
        let expected = format!("hello{}world", " ".repeat(3000));
        assert_eq!(key.as_str(), hex::encode(Sha256::digest(expected.as_bytes())));
        assert_eq!(fs::read(store.original_path(&key)).unwrap(), expected.as_bytes());
    }

    #[test]
    fn abandoned_uploads_leave_nothing() {
        let (_dir, store) = store();
        let mut upload = store.temp_upload().unwrap();
        upload.write(&[Bytes::from_static(b"partial")]).unwrap();
        drop(upload);
        assert_eq!(store.temp_entries().unwrap(), 0);
        let finished = {
            let mut upload = store.temp_upload().unwrap();
            upload.write(&[Bytes::from_static(b"complete but never stored")]).unwrap();
            upload.finish().unwrap()
        };
        drop(finished);
        assert_eq!(store.temp_entries().unwrap(), 0);
    }

    #[test]
    fn opening_clears_leftovers_and_delete_removes_derivatives() {
        let (dir, store) = store();
        fs::write(store.temp_dir().join("upload-crashed"), b"x").unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        assert_eq!(store.temp_entries().unwrap(), 0);
        let mut upload = store.temp_upload().unwrap();
        upload.write(&[Bytes::from_static(b"film")]).unwrap();
        let key = store.put(upload.finish().unwrap()).unwrap();
        let produced = store.temp_dir().join("small.jpg");
        fs::write(&produced, b"jpeg").unwrap();
        store.put_derived(&key, "small.jpg", &produced).unwrap();
        assert!(store.exists(&key).unwrap());
        store.delete(&key).unwrap();
        assert!(!store.exists(&key).unwrap());
        assert!(!store.derived_dir(&key).exists());
        store.delete(&key).unwrap();
    }
}
