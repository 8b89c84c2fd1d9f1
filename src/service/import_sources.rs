//! What an import was given, laid out as files to read: export files as given, folders walked
//! (record files, `index.html` pages, weibo-crawler's `img/`, `video/`, `live_photo/`), zips
//! unpacked into the import's own folder first (refusing hostile ones, see
//! `storage::unzip`). Links inside folders are not followed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::domain::archive::{self, bundle};
use crate::domain::media::MediaRole;
use crate::storage::unzip::{self, UnzipError, UnzipLimits};

/// How deep a folder is walked.
const MAX_DEPTH: usize = 12;
/// Most files looked at in the folders of one import.
const MAX_FILES: usize = 200_000;

/// The files of an import.
#[derive(Debug, Default)]
pub struct ExportFiles {
    /// Files holding records, each with the name reports use.
    pub documents: Vec<(PathBuf, String)>,
    /// weibo-crawler's media files by the post they belong to (`weibo:<id>`).
    pub weibo_media: HashMap<String, Vec<(PathBuf, MediaRole)>>,
}

/// Why the given files could not be laid out.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A zip was refused (its name, and why).
    #[error("{name}: {error}")]
    Archive { name: String, error: UnzipError },
    #[error("{0} is neither a file nor a folder")]
    Missing(String),
    #[error("more than {MAX_FILES} files in the folders given")]
    TooManyFiles,
    #[error("{name}: {error}")]
    Io { name: String, error: std::io::Error },
}

/// Lays out `inputs` (path, name); zips are unpacked under `scratch`.
pub fn gather(inputs: &[(PathBuf, String)], scratch: &Path) -> Result<ExportFiles, SourceError> {
    let mut files = ExportFiles::default();
    for (index, (path, name)) in inputs.iter().enumerate() {
        let io_error = |error| SourceError::Io { name: name.clone(), error };
        if path.is_dir() {
            walk(path, name, 0, &mut files)?;
        } else if path.is_file() && is_plain_zip(path).map_err(io_error)? {
            let into = scratch.join(format!("unpacked-{index:02}"));
            let archive = std::fs::File::open(path).map_err(io_error)?;
            unzip::unpack(std::io::BufReader::new(archive), &into, UnzipLimits::default())
                .map_err(|error| SourceError::Archive { name: name.clone(), error })?;
            walk(&into, name, 0, &mut files)?;
        } else if path.is_file() {
            files.documents.push((path.clone(), name.clone()));
        } else {
            return Err(SourceError::Missing(name.clone()));
        }
    }
    Ok(files)
}

/// A zip that is not an Excel workbook (which is one too).
fn is_plain_zip(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut head = [0u8; 4];
    let mut file = std::fs::File::open(path)?;
    if file.read(&mut head)? < 4 || !archive::is_zip(&head) {
        return Ok(false);
    }
    let archive = zip::ZipArchive::new(std::io::BufReader::new(std::fs::File::open(path)?));
    Ok(archive.is_ok_and(|archive| archive.index_for_name("xl/workbook.xml").is_none()))
}

fn walk(dir: &Path, name: &str, depth: usize, files: &mut ExportFiles) -> Result<(), SourceError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let io_error = |error| SourceError::Io { name: name.to_owned(), error };
    let mut entries: Vec<std::fs::DirEntry> =
        std::fs::read_dir(dir).map_err(io_error)?.collect::<Result<_, _>>().map_err(io_error)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let kind = entry.file_type().map_err(io_error)?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let shown = format!("{name}/{file_name}");
        if kind.is_dir() {
            walk(&entry.path(), &shown, depth + 1, files)?;
        } else if kind.is_file() {
            if files.documents.len() + files.weibo_media.len() > MAX_FILES {
                return Err(SourceError::TooManyFiles);
            }
            sort_file(entry.path(), &file_name, shown, dir, files);
        }
    }
    Ok(())
}

/// Puts one file of a folder where it belongs: a record file, a Weibo post's media, or
/// nothing (assets are found from the pages that show them).
fn sort_file(path: PathBuf, file_name: &str, shown: String, dir: &Path, files: &mut ExportFiles) {
    let folder = dir.file_name().map(|name| name.to_string_lossy().to_lowercase()).unwrap_or_default();
    let extension = file_name.rsplit_once('.').map(|(_, ext)| ext.to_lowercase()).unwrap_or_default();
    let weibo_role = match folder.as_str() {
        "img" => Some(MediaRole::Still),
        "video" => Some(MediaRole::Main),
        "live_photo" => Some(MediaRole::Attachment),
        _ => None,
    };
    if let Some(role) = weibo_role
        && let Some(owner) = archive::weibo_media_owner(file_name)
    {
        files.weibo_media.entry(owner).or_default().push((path, role));
    } else if file_name.eq_ignore_ascii_case("index.html")
        || (matches!(extension.as_str(), "json" | "csv" | "xlsx") && !is_manifest(&path))
    {
        files.documents.push((path, shown));
    }
}

/// microcat's export manifest, which lists files rather than records.
fn is_manifest(path: &Path) -> bool {
    use std::io::Read;
    let mut head = vec![0u8; 256];
    let Ok(read) = std::fs::File::open(path).and_then(|mut file| file.read(&mut head)) else { return false };
    memchr::memmem::find(&head[..read], bundle::MANIFEST_MARKER.as_bytes()).is_some()
}
