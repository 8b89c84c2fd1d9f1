//! `microcat backup DEST`, `microcat backup verify DEST` and `microcat restore DEST`.
//!
//! A backup folder holds `database.sqlite` (a consistent snapshot taken with SQLite's
//! `VACUUM INTO` while the server runs; on PostgreSQL the database part is `pg_dump`'s, and
//! the command says so), `originals/` (content-addressed, so copying is incremental: a blob
//! already there is the same bytes) and `manifest.json` with the SHA-256 and size of every
//! file. Derivatives and the search index are not backed up: `restore` regenerates them.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{DatabaseUrl, Db, DbConnection};
use crate::storage::{BlobKey, BlobStore, Object, Storage};

/// The manifest's name in a backup folder.
pub const MANIFEST: &str = "manifest.json";
/// The SQLite snapshot's name in a backup folder.
pub const DATABASE_FILE: &str = "database.sqlite";

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the backup folder.
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: DateTime<Utc>,
    pub microcat_version: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The SQLite snapshot; `None` on PostgreSQL (pair the folder with a `pg_dump`).
    pub database: Option<FileEntry>,
    pub originals: Vec<FileEntry>,
}

/// What a backup run did.
#[derive(Debug, Default)]
pub struct BackupReport {
    pub originals: usize,
    pub copied: usize,
    pub copied_bytes: u64,
    /// Originals the snapshot names that were gone from the store (deleted meanwhile).
    pub missing: Vec<String>,
}

/// Why a backup, check or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("database: {0}")]
    Db(#[from] crate::db::DbError),
    #[error("database query: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("manifest: {0}")]
    Manifest(#[from] serde_json::Error),
    #[error("{0}")]
    Refused(String),
    #[error("backup task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

fn sha256_of(path: &Path) -> io::Result<(String, u64)> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((format!("{:x}", hasher.finalize()), size))
}

/// Copies through a temporary name, then renames: a backup never holds half a file under
/// its real name. Durability comes from one [`sync_filesystem`] at the end, not an fsync per
/// file (which made a backup 3× slower than `cp -r`).
fn copy_atomically(from: &Path, to: &Path) -> io::Result<u64> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    let partial = to.with_extension("partial");
    let bytes = fs::copy(from, &partial)?;
    fs::rename(&partial, to)?;
    Ok(bytes)
}

/// Copies streams at once: one copy waits on the disk while another issues its syscalls, which
/// a sequential `cp -r` cannot do.
const COPY_THREADS: usize = 4;

/// Copies the originals the database names that DEST lacks, on [`COPY_THREADS`] threads;
/// the entries come back in the order of `digests`.
fn copy_originals(
    store: &Storage,
    dest: &Path,
    digests: &[Digest256],
) -> Result<(Vec<FileEntry>, BackupReport), BackupError> {
    let chunk = digests.len().div_ceil(COPY_THREADS).max(1);
    let results: Vec<io::Result<(Vec<FileEntry>, BackupReport)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = digests
            .chunks(chunk)
            .map(|part| scope.spawn(move || copy_some(store.blobs().as_ref(), dest, part)))
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|_| Err(io::Error::other("a copy thread panicked"))))
            .collect()
    });
    let (mut originals, mut report) = (Vec::new(), BackupReport::default());
    for result in results {
        let (entries, part) = result?;
        originals.extend(entries);
        report.copied += part.copied;
        report.copied_bytes += part.copied_bytes;
        report.missing.extend(part.missing);
    }
    Ok((originals, report))
}

fn copy_some(blobs: &dyn BlobStore, dest: &Path, digests: &[Digest256]) -> io::Result<(Vec<FileEntry>, BackupReport)> {
    let (mut originals, mut report) = (Vec::new(), BackupReport::default());
    for digest in digests {
        let Some(key) = BlobKey::parse(&digest.sha256) else { continue };
        let relative = Path::new("originals").join(key.fan_out());
        let object = Object::Original(key);
        let target = dest.join(&relative);
        let Some(size) = blobs.size(&object)? else {
            report.missing.push(digest.sha256.clone());
            continue;
        };
        // Content-addressed: a blob of the right size under its digest is that blob.
        if fs::metadata(&target).map(|metadata| metadata.len()).ok() != Some(size) {
            report.copied_bytes += copy_out(blobs, &object, &target)?;
            report.copied += 1;
        }
        originals.push(FileEntry {
            path: relative.to_string_lossy().into_owned(),
            sha256: digest.sha256.clone(),
            size,
        });
    }
    Ok((originals, report))
}

/// Copies a stored object into the backup, atomically like [`copy_atomically`].
fn copy_out(blobs: &dyn BlobStore, object: &Object, to: &Path) -> io::Result<u64> {
    if let Some(source) = blobs.local_path(object) {
        return copy_atomically(&source, to);
    }
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    let partial = to.with_extension("partial");
    let copied = blobs.download(object, &partial).and_then(|bytes| fs::rename(&partial, to).map(|()| bytes));
    if copied.is_err() {
        let _ = fs::remove_file(&partial);
    }
    copied
}

/// Flushes everything written to the filesystem holding `folder` (`syncfs(2)`), so the
/// manifest is only written once the files it lists are on disk.
fn sync_filesystem(folder: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let handle = fs::File::open(folder)?;
    // SAFETY: syncfs only reads the descriptor, which `handle` keeps open for the call.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Digest256 {
    #[diesel(sql_type = diesel::sql_types::Text)]
    sha256: String,
}

/// Takes the backup into `dest` (created if needed).
pub fn backup(
    db: &Db,
    url: &DatabaseUrl,
    store: &Storage,
    dest: &Path,
) -> Result<(Manifest, BackupReport), BackupError> {
    fs::create_dir_all(dest.join("originals"))?;
    let (database, digests) = match url {
        DatabaseUrl::Sqlite(_) => {
            let snapshot = dest.join(DATABASE_FILE);
            let partial = dest.join("database.sqlite.partial");
            let _ = fs::remove_file(&partial);
            let mut conn = db.connection()?;
            let DbConnection::Sqlite(sqlite) = &mut *conn else {
                return Err(BackupError::Refused("the connection is not SQLite".into()));
            };
            diesel::sql_query("VACUUM INTO ?")
                .bind::<diesel::sql_types::Text, _>(partial.to_string_lossy().into_owned())
                .execute(sqlite)?;
            drop(conn);
            fs::rename(&partial, &snapshot)?;
            let mut snapshot_conn = diesel::SqliteConnection::establish(&snapshot.to_string_lossy())
                .map_err(|error| BackupError::Refused(format!("opening the snapshot: {error}")))?;
            let digests: Vec<Digest256> =
                diesel::sql_query("SELECT DISTINCT sha256 FROM media").load(&mut snapshot_conn)?;
            let (sha256, size) = sha256_of(&snapshot)?;
            (Some(FileEntry { path: DATABASE_FILE.into(), sha256, size }), digests)
        }
        DatabaseUrl::Postgres(_) => {
            let mut conn = db.connection()?;
            let DbConnection::Postgresql(pg) = &mut *conn else {
                return Err(BackupError::Refused("the connection is not PostgreSQL".into()));
            };
            let digests: Vec<Digest256> = diesel::sql_query("SELECT DISTINCT sha256 FROM media").load(pg)?;
            (None, digests)
        }
    };
    let (originals, mut report) = copy_originals(store, dest, &digests)?;
    report.originals = originals.len();
    let manifest = Manifest {
        format: 1,
        created_at: Utc::now(),
        microcat_version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: url.backend().to_owned(),
        database,
        originals,
    };
    sync_filesystem(dest)?;
    let text = serde_json::to_vec_pretty(&manifest)?;
    let partial = dest.join("manifest.json.partial");
    let mut file = fs::File::create(&partial)?;
    file.write_all(&text)?;
    file.sync_all()?;
    fs::rename(&partial, dest.join(MANIFEST))?;
    fs::File::open(dest)?.sync_all()?;
    Ok((manifest, report))
}

/// Reads a backup's manifest.
pub fn read_manifest(dest: &Path) -> Result<Manifest, BackupError> {
    let text = fs::read(dest.join(MANIFEST))
        .map_err(|error| BackupError::Refused(format!("{} has no readable {MANIFEST}: {error}", dest.display())))?;
    Ok(serde_json::from_slice(&text)?)
}

/// Checks every file of a backup against its manifest; the problems found (empty: intact).
pub fn verify(dest: &Path) -> Result<(usize, Vec<String>), BackupError> {
    let manifest = read_manifest(dest)?;
    let mut problems = Vec::new();
    let entries: Vec<&FileEntry> = manifest.database.iter().chain(&manifest.originals).collect();
    for entry in &entries {
        let path = dest.join(&entry.path);
        match sha256_of(&path) {
            Ok((sha256, size)) if sha256 == entry.sha256 && size == entry.size => {}
            Ok((sha256, size)) => problems.push(format!(
                "{}: {size} bytes, SHA-256 {sha256}, expected {} bytes, {}",
                entry.path, entry.size, entry.sha256
            )),
            Err(error) => problems.push(format!("{}: {error}", entry.path)),
        }
    }
    Ok((entries.len(), problems))
}

/// Puts a verified backup's database (SQLite) and originals in place of an empty
/// installation. Refuses a target that already holds works or media. On PostgreSQL the
/// database must have been restored with `pg_restore` first.
pub fn restore_files(url: &DatabaseUrl, store: &Storage, dest: &Path) -> Result<Manifest, BackupError> {
    let (checked, problems) = verify(dest)?;
    if !problems.is_empty() {
        return Err(BackupError::Refused(format!(
            "the backup is damaged ({} of {checked} files): {}",
            problems.len(),
            problems.join("; ")
        )));
    }
    let manifest = read_manifest(dest)?;
    if let DatabaseUrl::Sqlite(path) = url {
        let Some(database) = &manifest.database else {
            return Err(BackupError::Refused(
                "this backup was taken on PostgreSQL: restore it with pg_restore into a PostgreSQL database".into(),
            ));
        };
        if path.exists() && !sqlite_is_empty(path)? {
            return Err(BackupError::Refused(format!(
                "{} already holds works or media; restore into an empty installation",
                path.display()
            )));
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        for suffix in ["-wal", "-shm"] {
            let _ = fs::remove_file(PathBuf::from(format!("{}{suffix}", path.display())));
        }
        copy_atomically(&dest.join(&database.path), path)?;
    }
    for entry in &manifest.originals {
        let Some(key) = BlobKey::parse(&entry.sha256) else { continue };
        let object = Object::Original(key);
        if store.blobs().size(&object)? != Some(entry.size) {
            store.blobs().put_file(&object, &dest.join(&entry.path))?;
        }
    }
    sync_filesystem(&store.scratch().temp_dir())?;
    Ok(manifest)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

fn sqlite_is_empty(path: &Path) -> Result<bool, BackupError> {
    let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
        .map_err(|error| BackupError::Refused(format!("opening {}: {error}", path.display())))?;
    let tables: Vec<Count> =
        diesel::sql_query("SELECT count(*) AS count FROM sqlite_master WHERE type = 'table' AND name = 'works'")
            .load(&mut conn)?;
    if tables.first().is_none_or(|row| row.count == 0) {
        return Ok(true);
    }
    let works: Vec<Count> =
        diesel::sql_query("SELECT (SELECT count(*) FROM works) + (SELECT count(*) FROM media) AS count")
            .load(&mut conn)?;
    Ok(works.first().is_none_or(|row| row.count == 0))
}

/// After [`restore_files`] and migrations: every medium is processed again (derivatives are
/// never backed up) and its job queued; returns how many.
pub fn requeue_processing(db: &Db, max_attempts: i32) -> Result<usize, BackupError> {
    db.write_blocking(|conn| -> Result<usize, BackupError> {
        let stamp = crate::clock::now();
        let ids = crate::db::media::reset_all(conn, stamp)?;
        crate::db::jobs::clear_all(conn)?;
        for id in &ids {
            crate::db::jobs::insert(
                conn,
                &crate::db::jobs::new_job(id, crate::db::jobs::PROCESS_MEDIA, max_attempts, stamp),
            )?;
        }
        Ok(ids.len())
    })
}
