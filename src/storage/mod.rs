//! Stored files. Originals are content-addressed (`originals/ab/cd/<sha256>`): streamed to a
//! temp file while hashed, fsynced, renamed into place, and only then recorded by the caller;
//! the same bytes uploaded twice are stored once. Derivatives (thumbnails, posters,
//! storyboards) live under `derived/ab/cd/<sha256>/` and can always be rebuilt from the
//! original. Temp files are removed by a guard on any early return, and at start.

pub mod ingest;
mod local;
pub mod unzip;

pub use local::{HashedFile, LocalStore, TempUpload};

use std::io::{self, Read};
use std::path::PathBuf;

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
        PathBuf::from(&self.0[0..2]).join(&self.0[2..4]).join(&self.0)
    }
}

/// The small interface every backend of stored originals offers. The local folder is the
/// first; an S3-compatible object store is the next, for deployments that outgrow one machine.
pub trait BlobStore: Send + Sync {
    /// Stores a fully written, hashed temp file under its digest (once: a duplicate is dropped).
    fn put(&self, file: HashedFile) -> io::Result<BlobKey>;
    /// Reads `length` bytes (all when `None`) starting at `offset`.
    fn get_range(&self, key: &BlobKey, offset: u64, length: Option<u64>) -> io::Result<Box<dyn Read + Send>>;
    /// Removes an original and its derivatives; absent is fine.
    fn delete(&self, key: &BlobKey) -> io::Result<()>;
    /// Whether an original is stored.
    fn exists(&self, key: &BlobKey) -> io::Result<bool>;
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
}
