//! The local-folder store: `originals/`, `derived/` and `tmp/` under the media folder.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{BlobKey, BlobStore};

/// Write buffer of an upload's temp file, in bytes.
const WRITE_BUFFER_BYTES: usize = 512 * 1024;

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
        // Uploads arrive in small pieces; a large buffer turns them into few, large writes.
        let file = BufWriter::with_capacity(WRITE_BUFFER_BYTES, file);
        Ok(TempUpload { guard: TempGuard(Some(path)), file, hasher: Sha256::new(), size: 0 })
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

/// An upload being written: bytes are hashed as they arrive.
#[derive(Debug)]
pub struct TempUpload {
    guard: TempGuard,
    file: BufWriter<File>,
    hasher: Sha256,
    size: u64,
}

impl TempUpload {
    /// Appends a chunk.
    pub fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.file.write_all(chunk)?;
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flushes to disk and returns the digest; the file is still a temp file.
    pub fn finish(self) -> io::Result<HashedFile> {
        let file = self.file.into_inner().map_err(|error| error.into_error())?;
        file.sync_all()?;
        let digest = hex::encode(self.hasher.finalize());
        let key = BlobKey::parse(&digest).expect("sha-256 hex is a valid key");
        Ok(HashedFile { guard: self.guard, key, size: self.size })
    }
}

/// A complete, fsynced temp file and its digest.
#[derive(Debug)]
pub struct HashedFile {
    guard: TempGuard,
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

    fn get_range(&self, key: &BlobKey, offset: u64, length: Option<u64>) -> io::Result<Box<dyn Read + Send>> {
        let mut file = File::open(self.original_path(key))?;
        file.seek(SeekFrom::Start(offset))?;
        Ok(match length {
            Some(length) => Box::new(file.take(length)),
            None => Box::new(file),
        })
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

    fn exists(&self, key: &BlobKey) -> io::Result<bool> {
        self.original_path(key).try_exists()
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
            upload.write(bytes).unwrap();
            store.put(upload.finish().unwrap()).unwrap()
        };
        let first = put(b"hello");
        let second = put(b"hello");
        assert_eq!(first, second);
        assert_eq!(first.as_str(), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(store.temp_entries().unwrap(), 0, "the duplicate's temp file is gone");
        let mut read = String::new();
        store.get_range(&first, 1, Some(3)).unwrap().read_to_string(&mut read).unwrap();
        assert_eq!(read, "ell");
    }

    #[test]
    fn abandoned_uploads_leave_nothing() {
        let (_dir, store) = store();
        let mut upload = store.temp_upload().unwrap();
        upload.write(b"partial").unwrap();
        drop(upload);
        assert_eq!(store.temp_entries().unwrap(), 0);
        let finished = {
            let mut upload = store.temp_upload().unwrap();
            upload.write(b"complete but never stored").unwrap();
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
        upload.write(b"film").unwrap();
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
