//! Unpacks an uploaded zip (an export of the team's archive) into a folder of ours, refusing
//! what would harm the machine: entries whose path leaves the folder (absolute, `..`, drive
//! letters), links, more entries or bytes than an export has, and archive bombs (a ratio no
//! real export reaches, or more bytes than an entry declared). Names written by Chinese
//! Windows tools in GB18030 rather than UTF-8 are decoded as such.

use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

/// What an unpacking may take.
#[derive(Debug, Clone, Copy)]
pub struct UnzipLimits {
    pub max_entries: usize,
    pub max_total_bytes: u64,
    /// Entries above 1 MiB unpacking more than this many times their packed size are bombs.
    pub max_ratio: u64,
}

impl Default for UnzipLimits {
    fn default() -> Self {
        Self { max_entries: 50_000, max_total_bytes: 8 * 1024 * 1024 * 1024, max_ratio: 200 }
    }
}

/// Why an archive was refused; nothing outside the folder was written.
#[derive(Debug, thiserror::Error)]
pub enum UnzipError {
    #[error("entry {name:?} points outside the archive (absolute path or ..)")]
    UnsafePath { name: String },
    #[error("entry {name:?} is a link; links are not unpacked")]
    Link { name: String },
    #[error("the archive has more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("the archive unpacks to more than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("entry {name:?} is an archive bomb (more than {limit}:1 or more bytes than it declares)")]
    Bomb { name: String, limit: u64 },
    #[error("not a readable zip archive: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

const BOMB_FLOOR_BYTES: u64 = 1024 * 1024;

/// Unpacks `archive` into `into` (created), returning the files written.
pub fn unpack(archive: impl Read + Seek, into: &Path, limits: UnzipLimits) -> Result<Vec<PathBuf>, UnzipError> {
    let mut zip = zip::ZipArchive::new(archive).map_err(|error| UnzipError::Corrupt(error.to_string()))?;
    if zip.len() > limits.max_entries {
        return Err(UnzipError::TooManyEntries { limit: limits.max_entries });
    }
    std::fs::create_dir_all(into)?;
    let (mut written, mut total) = (Vec::new(), 0u64);
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).map_err(|error| UnzipError::Corrupt(error.to_string()))?;
        let name = entry_name(entry.name_raw());
        let relative = safe_relative(&name).ok_or_else(|| UnzipError::UnsafePath { name: name.clone() })?;
        if entry.is_symlink() {
            return Err(UnzipError::Link { name });
        }
        let target = into.join(&relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&target)?;
            continue;
        }
        let declared = entry.size();
        if declared > BOMB_FLOOR_BYTES && declared / entry.compressed_size().max(1) > limits.max_ratio {
            return Err(UnzipError::Bomb { name, limit: limits.max_ratio });
        }
        total = total.saturating_add(declared);
        if total > limits.max_total_bytes {
            return Err(UnzipError::TooLarge { limit: limits.max_total_bytes });
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&target)?;
        // The declared size is a claim: copy one byte more than it to catch a liar.
        let copied = io::copy(&mut (&mut entry).take(declared + 1), &mut file)?;
        if copied > declared {
            return Err(UnzipError::Bomb { name, limit: limits.max_ratio });
        }
        written.push(target);
    }
    Ok(written)
}

/// An entry's name: UTF-8 when it is, else GB18030 (zips made on Chinese Windows).
fn entry_name(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(name) => name.to_owned(),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(raw).0.into_owned(),
    }
}

/// The entry's path as a relative path of plain parts, or `None` when it would leave the folder.
fn safe_relative(name: &str) -> Option<PathBuf> {
    let name = name.replace('\\', "/");
    if name.starts_with('/') || name.contains('\0') || name.split('/').next().is_some_and(|first| first.contains(':')) {
        return None;
    }
    let mut path = PathBuf::new();
    for part in name.split('/').filter(|part| !part.is_empty() && *part != ".") {
        if part == ".." {
            return None;
        }
        path.push(part);
    }
    (!path.as_os_str().is_empty()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("microcat-unzip-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn paths_that_leave_the_folder_are_refused() {
        assert_eq!(safe_relative("a/./b.json"), Some(PathBuf::from("a/b.json")));
        for hostile in ["/etc/passwd", "../x", "a/../../x", "C:/x", "a\\..\\..\\x", "", "./"] {
            assert_eq!(safe_relative(hostile), None, "{hostile:?}");
        }
        let dir = temp_dir("slip");
        let error =
            unpack(Cursor::new(archive(&[("ok.csv", b"a"), ("../evil.txt", b"x")])), &dir, UnzipLimits::default())
                .unwrap_err();
        assert!(matches!(error, UnzipError::UnsafePath { .. }), "{error}");
        assert!(!dir.parent().unwrap().join("evil.txt").exists());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn bombs_and_oversized_archives_are_refused() {
        let zeros = vec![0u8; 8 * 1024 * 1024];
        let dir = temp_dir("bomb");
        let error = unpack(Cursor::new(archive(&[("zeros.bin", &zeros)])), &dir, UnzipLimits::default()).unwrap_err();
        assert!(matches!(error, UnzipError::Bomb { .. }), "{error}");
        let small = UnzipLimits { max_total_bytes: 10, ..UnzipLimits::default() };
        let error = unpack(Cursor::new(archive(&[("a.csv", b"0123456789abc")])), &dir, small).unwrap_err();
        assert!(matches!(error, UnzipError::TooLarge { limit: 10 }), "{error}");
        let few = UnzipLimits { max_entries: 1, ..UnzipLimits::default() };
        let error = unpack(Cursor::new(archive(&[("a", b"1"), ("b", b"2")])), &dir, few).unwrap_err();
        assert!(matches!(error, UnzipError::TooManyEntries { limit: 1 }), "{error}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_plain_export_unpacks_with_chinese_names() {
        let dir = temp_dir("plain");
        let files = unpack(
            Cursor::new(archive(&[("反诈宣传/index.html", b"<html></html>"), ("articles.json", b"[]")])),
            &dir,
            UnzipLimits::default(),
        )
        .unwrap();
        assert_eq!(files.len(), 2);
        assert!(dir.join("反诈宣传/index.html").is_file());
        let gbk = encoding_rs::GB18030.encode("文章.csv").0;
        assert_eq!(entry_name(&gbk), "文章.csv");
        std::fs::remove_dir_all(&dir).ok();
    }
}
