//! `microcat migrate-store --to URL`: copies every original and derivative from the configured
//! store to another (a folder or an S3 bucket), verifies each copy by reading it back and
//! comparing SHA-256 digests, records each verified copy in the database so an interrupted run
//! resumes, reports what the records name but the source lacks, and then records the new
//! place: nodes still configured for the old one refuse to start.

use std::collections::{HashMap, HashSet};
use std::io::{self, IsTerminal, Read, Write};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::app;
use crate::config::Settings;
use crate::db::Db;
use crate::db::store::{self as store_rows, CopyRow};
use crate::storage::{BlobKey, BlobStore, DerivedName, Object, Storage, StorageUrl};

/// What one run did.
#[derive(Debug, Default)]
pub struct MigrationReport {
    /// Objects in the source.
    pub listed: usize,
    /// Copied and verified now.
    pub copied: usize,
    pub copied_bytes: u64,
    /// Verified by an earlier, interrupted run.
    pub already: usize,
    /// Named by a record but absent from the source.
    pub missing: Vec<String>,
    /// Could not be copied, or read back different (the run does not switch).
    pub failed: Vec<String>,
}

/// Runs the command.
pub async fn run(settings: Settings, to: String, concurrency: usize) -> anyhow::Result<()> {
    let (from_url, s3) = settings.storage()?;
    let to_url = StorageUrl::parse(&to).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(to_url != from_url, "the files are already in {from_url}");
    let db = app::open_database(&settings).await?;
    // A second pass to the same place (after stopping nodes that still wrote to the old
    // store) is allowed; anything else must start from where the files are.
    let recorded = db.read(|conn| Ok::<_, crate::db::DbError>(store_rows::location(conn)?)).await?;
    if let Some(recorded) =
        recorded.filter(|recorded| *recorded != from_url.to_string() && *recorded != to_url.to_string())
    {
        anyhow::bail!("the stored files were moved to {recorded} by an earlier migrate-store; start from there");
    }
    let source = app::open_storage(&settings)?;
    let target = Storage::open(&settings.media_dir, &to_url, &s3)?;
    let destination = to_url.to_string();
    println!("copying {} → {}", source.blobs().describe(), target.blobs().describe());
    let report = tokio::task::spawn_blocking({
        let destination = destination.clone();
        move || migrate(&db, &source, target.blobs().as_ref(), &destination, concurrency.clamp(1, 64))
    })
    .await??;
    println!(
        "{} objects: {} copied now ({} MiB), {} verified before",
        report.listed,
        report.copied,
        report.copied_bytes / (1024 * 1024),
        report.already
    );
    for missing in &report.missing {
        println!("missing in the source: {missing}");
    }
    for failed in &report.failed {
        println!("not copied: {failed}");
    }
    anyhow::ensure!(
        report.failed.is_empty(),
        "{} objects were not copied; nothing was switched. Run the command again to retry them",
        report.failed.len()
    );
    println!("switched: every node must now run with MICROCAT_STORAGE_URL={destination}");
    Ok(())
}

/// Copies what is not yet verified at `destination`, then switches when nothing failed.
pub fn migrate(
    db: &Db,
    source: &Storage,
    target: &dyn BlobStore,
    destination: &str,
    concurrency: usize,
) -> anyhow::Result<MigrationReport> {
    let listed = source.blobs().list()?;
    let done: HashMap<String, i64> = {
        let mut conn = db.connection()?;
        store_rows::copies(&mut conn, destination)?.into_iter().map(|row| (row.object_path, row.size)).collect()
    };
    let mut report = MigrationReport { listed: listed.len(), ..MigrationReport::default() };
    let (todo, already): (Vec<_>, Vec<_>) =
        listed.iter().partition(|(object, size)| done.get(&object.relative_path()) != Some(&(*size as i64)));
    report.already = already.len();
    report.missing = missing_objects(db, &listed)?;
    let progress = progress_bar(todo.iter().map(|(_, size)| size).sum());
    let outcome = Mutex::new(report);
    let next = Mutex::new(todo.into_iter());
    std::thread::scope(|scope| {
        for _ in 0..concurrency {
            scope.spawn(|| {
                loop {
                    let item = next.lock().expect("queue").next();
                    let Some((object, _)) = item else { break };
                    let copied = copy_verified(source, target, object);
                    let recorded = copied.and_then(|(sha256, size)| {
                        let row = CopyRow {
                            destination: destination.to_owned(),
                            object_path: object.relative_path(),
                            sha256,
                            size: size as i64,
                            copied_at: crate::clock::now(),
                        };
                        let mut conn = db.connection().map_err(io::Error::other)?;
                        store_rows::record_copy(&mut conn, &row).map_err(io::Error::other)?;
                        Ok(size)
                    });
                    let mut report = outcome.lock().expect("report");
                    match recorded {
                        Ok(size) => {
                            report.copied += 1;
                            report.copied_bytes += size;
                            progress.inc(size);
                        }
                        Err(error) => report.failed.push(format!("{}: {error}", object.relative_path())),
                    }
                }
            });
        }
    });
    progress.finish_and_clear();
    let report = outcome.into_inner().expect("report");
    if report.failed.is_empty() {
        let mut conn = db.connection()?;
        // The copy records stay: a later pass to the same place copies only what is new.
        store_rows::set_location(&mut conn, destination, crate::clock::now())?;
    }
    Ok(report)
}

/// Streams one object down to scratch while hashing, checks an original against its digest,
/// uploads it, and reads the copy back through the same hash.
fn copy_verified(source: &Storage, target: &dyn BlobStore, object: &Object) -> io::Result<(String, u64)> {
    let scratch = source.scratch().temp_dir().join(format!("migrate-{}", uuid::Uuid::now_v7()));
    let result = (|| {
        let mut file = std::fs::File::create(&scratch)?;
        let reader = source.blobs().get_range(object, 0, None)?;
        let (sha256, size) = hash_copy(reader, &mut file)?;
        file.sync_all()?;
        if let Object::Original(key) = object
            && key.as_str() != sha256
        {
            return Err(io::Error::other(format!("the source copy is damaged (its SHA-256 is {sha256})")));
        }
        target.put_file(object, &scratch)?;
        let (read_back, _) = hash_copy(target.get_range(object, 0, None)?, &mut io::sink())?;
        if read_back != sha256 {
            return Err(io::Error::other(format!("read back as {read_back}, expected {sha256}")));
        }
        Ok((sha256, size))
    })();
    let _ = std::fs::remove_file(&scratch);
    result
}

fn hash_copy(mut reader: impl Read, writer: &mut impl Write) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    let mut size = 0u64;
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            return Ok((hex::encode(hasher.finalize()), size));
        }
        hasher.update(&buffer[..read]);
        writer.write_all(&buffer[..read])?;
        size += read as u64;
    }
}

/// What the records name that the source does not hold.
fn missing_objects(db: &Db, listed: &[(Object, u64)]) -> anyhow::Result<Vec<String>> {
    let present: HashSet<&Object> = listed.iter().map(|(object, _)| object).collect();
    let mut conn = db.connection()?;
    let mut missing = Vec::new();
    for (sha256, derivatives) in crate::db::media::stored_objects(&mut conn)? {
        let Some(key) = BlobKey::parse(&sha256) else { continue };
        let names = derivatives.value().iter().filter_map(|name| DerivedName::parse(name));
        let wanted =
            std::iter::once(Object::Original(key.clone())).chain(names.map(|name| Object::Derived(key.clone(), name)));
        missing.extend(wanted.filter(|object| !present.contains(object)).map(|object| object.relative_path()));
    }
    missing.sort();
    missing.dedup();
    Ok(missing)
}

fn progress_bar(bytes: u64) -> indicatif::ProgressBar {
    if !io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(bytes);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes}  {bytes_per_sec}  ETA {eta}")
    {
        bar.set_style(style);
    }
    bar
}
