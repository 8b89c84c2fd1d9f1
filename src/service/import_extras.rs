//! What an imported record brings beyond its work row: the export's local files (HTML pages
//! and their assets, Weibo pictures and videos, microcat's originals) ingested as media, and
//! for microcat's own export every publication with its metrics history and the comments.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::NaiveDateTime;

use super::auth::AuthUser;
use super::import::{ImportError, Importer, Origin};
use crate::db::comments::{self, CommentRow};
use crate::db::publications::{self, MetricsRow, PublicationRow};
use crate::db::{DbConnection, users};
use crate::domain::archive::ImportRecord;
use crate::domain::archive::bundle::ExportedWork;
use crate::domain::ids::{MediaId, WorkId};
use crate::domain::media::MediaRole;
use crate::storage::ingest::{self, IngestError};

/// One file of the export that becomes media of the record's work.
#[derive(Debug, Clone)]
pub struct LocalFile {
    pub path: PathBuf,
    /// As the report names it (relative to the record's file).
    pub shown: String,
    pub role: MediaRole,
    pub filename: Option<String>,
}

/// The record's files: those it names, and the Weibo media folders' files of its post.
pub fn local_files(record: &ImportRecord, origin: Origin<'_>) -> Vec<LocalFile> {
    let named = record.local_media.iter().map(|media| LocalFile {
        path: origin.base.join(&media.path),
        shown: media.path.clone(),
        role: media.role,
        filename: media.filename.clone(),
    });
    let weibo = origin.weibo_media.get(&record.source_key).into_iter().flatten().map(|(path, role)| LocalFile {
        path: path.clone(),
        shown: path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default(),
        role: *role,
        filename: None,
    });
    named.chain(weibo).collect()
}

/// The files that are not there (a dry run's check).
pub fn missing(files: &[LocalFile]) -> Vec<String> {
    files.iter().filter(|file| !is_plain_file(file)).map(|file| format!("{}: not in the export", file.shown)).collect()
}

/// A regular file, not a link to somewhere else.
fn is_plain_file(file: &LocalFile) -> bool {
    std::fs::symlink_metadata(&file.path).is_ok_and(|meta| meta.file_type().is_file())
}

/// Ingests the files as any upload is (sniffed, held to the limits, thumbnails made), each
/// once per work; returns the media by SHA-256, and why any file was left out.
pub fn attach(
    importer: Importer<'_>,
    work_id: &WorkId,
    files: &[LocalFile],
) -> (HashMap<String, MediaId>, Vec<String>) {
    let (mut media, mut problems) = (HashMap::new(), Vec::new());
    for file in files {
        if !is_plain_file(file) {
            problems.push(format!("{}: not in the export", file.shown));
            continue;
        }
        let context = importer.media;
        let received =
            match ingest::receive_local(context.store.scratch(), &context.limits, &file.path, file.filename.as_deref())
            {
                Ok(received) => received,
                Err(error) => {
                    problems.push(format!("{}: {}", file.shown, ingest_reason(error)));
                    continue;
                }
            };
        match super::media::store_imported(importer.db, context, importer.user, work_id, received, file.role) {
            Ok(row) => {
                media.insert(row.sha256.clone(), row.id.clone());
            }
            Err(error) => problems.push(format!("{}: {error}", file.shown)),
        }
    }
    (media, problems)
}

fn ingest_reason(error: IngestError<std::io::Error>) -> String {
    match error {
        IngestError::Refused(refusal) => refusal.to_string(),
        IngestError::Body(error) => format!("cannot be read: {error}"),
        other => other.to_string(),
    }
}

/// Every publication of an exported work with its metrics snapshots.
pub fn add_publications(
    conn: &mut DbConnection,
    user: &AuthUser,
    work_id: &WorkId,
    work: &ExportedWork,
    stamp: NaiveDateTime,
) -> Result<(), ImportError> {
    for exported in &work.publications {
        let place = (exported.platform.as_str(), exported.account.clone(), exported.url.clone());
        let row = PublicationRow::new(work_id, place, exported.published_at.naive_utc(), &user.id, stamp);
        publications::insert(conn, &row)?;
        for snapshot in &exported.metrics {
            let metrics = MetricsRow::new(&row.id, snapshot.figures, snapshot.as_of.naive_utc(), &snapshot.source);
            publications::insert_metrics(conn, &metrics)?;
        }
    }
    Ok(())
}

/// An exported work's comments, once: by their author where that account exists here, else
/// by the importer with the author's name in front; replies and cuts kept.
pub fn add_comments(
    importer: Importer<'_>,
    work_id: &WorkId,
    work: &ExportedWork,
    media: &HashMap<String, MediaId>,
) -> Result<(), ImportError> {
    if work.comments.is_empty() {
        return Ok(());
    }
    importer.db.write_blocking(|conn| {
        if !comments::for_work(conn, work_id.as_str())?.is_empty() {
            return Ok(());
        }
        let mut new_ids: HashMap<&str, String> = HashMap::new();
        for comment in &work.comments {
            let author = users::find_by_username(conn, &comment.author)?;
            let body = match &author {
                Some(_) => comment.body.clone(),
                None => format!("（原评论人：{}）{}", comment.author_name, comment.body),
            };
            let author_id = author.map_or_else(|| importer.user.id.clone(), |row| row.id);
            let created_at = comment.created_at.naive_utc();
            let row = CommentRow {
                id: uuid::Uuid::now_v7().to_string(),
                work_id: work_id.clone(),
                resolved_by: comment.resolved.then(|| author_id.clone()),
                resolved_at: comment.resolved.then_some(created_at),
                author_id,
                body,
                media_id: comment.media_sha256.as_ref().and_then(|sha| media.get(sha).cloned()),
                timecode_ms: comment.timecode_ms,
                reply_to: comment.reply_to.as_deref().and_then(|old| new_ids.get(old).cloned()),
                created_at,
                frame: None,
                drawing: None,
            };
            comments::insert(conn, &row)?;
            new_ids.insert(comment.id.as_str(), row.id);
        }
        Ok(())
    })
}
