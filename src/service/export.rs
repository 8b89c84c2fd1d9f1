//! The works `microcat export` takes, each read into the self-describing form of
//! `domain::archive::bundle`: fields, credits, publications with every metrics snapshot,
//! media, comments and the audit trail, with usernames rather than account ids (ids mean
//! nothing on another installation).

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::auth::AuthUser;
use crate::db::audit::{self, AuditFilter};
use crate::db::works::{self as rows, WorkOrder, WorkRow, WorkSelection};
use crate::db::{Db, DbConnection, DbError, comments, media, publications, users};
use crate::domain::archive::Platform;
use crate::domain::archive::bundle::{
    self, ExportedComment, ExportedEvent, ExportedMedia, ExportedMetrics, ExportedPublication, ExportedWork,
};
use crate::domain::fields::Credit;
use crate::domain::filter::WorkFilter;
use crate::domain::user::Role;

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("exporting needs the admin role")]
    AdminRequired,
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(ExportError);

/// Works read per query.
const BATCH: i64 = 500;

/// The live works matching `filter`, oldest first (blocking).
pub fn select(db: &Db, user: &AuthUser, filter: WorkFilter) -> Result<Vec<WorkRow>, ExportError> {
    if !user.has(Role::Admin) {
        return Err(ExportError::AdminRequired);
    }
    let selection = WorkSelection {
        visibility: user.visibility(),
        filter,
        created_by: None,
        deleted: false,
        order: WorkOrder::Oldest,
    };
    let mut conn = db.connection()?;
    let mut works = Vec::new();
    loop {
        let (batch, total) = rows::list(&mut conn, &selection, works.len() as i64, BATCH)?;
        let done = batch.is_empty();
        works.extend(batch);
        if done || works.len() as i64 >= total {
            return Ok(works);
        }
    }
}

/// Names of accounts by id, looked up once each.
#[derive(Default)]
struct Names(HashMap<String, (String, String)>);

impl Names {
    /// `(username, display name)`; an account since removed reads as its id.
    fn of(&mut self, conn: &mut DbConnection, id: &str) -> Result<(String, String), ExportError> {
        if let Some(known) = self.0.get(id) {
            return Ok(known.clone());
        }
        let found = users::find(conn, id)?
            .map_or_else(|| (id.to_owned(), id.to_owned()), |row| (row.username, row.display_name));
        self.0.insert(id.to_owned(), found.clone());
        Ok(found)
    }
}

fn beijing(time: NaiveDateTime) -> chrono::DateTime<chrono::FixedOffset> {
    bundle::beijing(time.and_utc())
}

/// One work with everything the archive carries (blocking).
pub fn export_work(db: &Db, work: &WorkRow) -> Result<ExportedWork, ExportError> {
    let mut conn = db.connection()?;
    let mut names = Names::default();
    let stored_media = media::list_for_work(&mut conn, work.id.as_str())?;
    let sha_of: HashMap<String, String> =
        stored_media.iter().map(|row| (row.id.as_str().to_owned(), row.sha256.clone())).collect();
    Ok(ExportedWork {
        microcat_export: bundle::VERSION,
        id: work.id.as_str().to_owned(),
        kind: work.kind,
        status: work.status,
        title: work.title.clone(),
        body: work.body.clone(),
        summary: work.summary.clone(),
        tags: work.tags.value().clone(),
        unit: work.unit.clone(),
        credits: work
            .credits
            .value()
            .iter()
            .map(|credit| Credit::named(credit.role.as_str(), credit.name.as_str()))
            .collect(),
        channel: work.channel.clone(),
        external_url: work.external_url.clone(),
        created_by: Some(names.of(&mut conn, work.created_by.as_str())?.0),
        created_at: beijing(work.created_at),
        published_at: work.published_at.map(beijing),
        publications: exported_publications(&mut conn, work)?,
        media: stored_media
            .iter()
            .map(|row| ExportedMedia {
                path: original_path(&row.sha256, &row.format),
                sha256: row.sha256.clone(),
                size: row.size,
                format: row.format.clone(),
                role: row.role.as_str().to_owned(),
                filename: row.original_filename.clone(),
            })
            .collect(),
        comments: exported_comments(&mut conn, &mut names, work, &sha_of)?,
        history: history(&mut conn, &mut names, work)?,
    })
}

/// Where an original lies in the archive.
pub fn original_path(sha256: &str, format: &str) -> String {
    format!("originals/{sha256}.{format}")
}

fn exported_publications(conn: &mut DbConnection, work: &WorkRow) -> Result<Vec<ExportedPublication>, ExportError> {
    let mut exported = Vec::new();
    for row in publications::for_work(conn, work.id.as_str())? {
        let platform = Platform::parse(&row.platform).unwrap_or(Platform::Other);
        let metrics = publications::metrics_history(conn, &row.id)?
            .into_iter()
            .map(|snapshot| ExportedMetrics {
                as_of: beijing(snapshot.as_of),
                figures: snapshot.metrics(),
                source: snapshot.source,
            })
            .collect();
        exported.push(ExportedPublication {
            platform,
            platform_label: platform.label_zh().to_owned(),
            account: row.account,
            url: row.url,
            published_at: beijing(row.published_at),
            metrics,
        });
    }
    Ok(exported)
}

fn exported_comments(
    conn: &mut DbConnection,
    names: &mut Names,
    work: &WorkRow,
    sha_of: &HashMap<String, String>,
) -> Result<Vec<ExportedComment>, ExportError> {
    let mut exported = Vec::new();
    for row in comments::for_work(conn, work.id.as_str())? {
        let (author, author_name) = names.of(conn, row.author_id.as_str())?;
        exported.push(ExportedComment {
            id: row.id,
            author,
            author_name,
            body: row.body,
            created_at: beijing(row.created_at),
            reply_to: row.reply_to,
            media_sha256: row.media_id.and_then(|id| sha_of.get(id.as_str()).cloned()),
            timecode_ms: row.timecode_ms,
            resolved: row.resolved_at.is_some(),
        });
    }
    Ok(exported)
}

fn history(conn: &mut DbConnection, names: &mut Names, work: &WorkRow) -> Result<Vec<ExportedEvent>, ExportError> {
    let filter = AuditFilter { target_id: Some(work.id.as_str().to_owned()), ..AuditFilter::default() };
    let (mut entries, _) = audit::list(conn, &filter, 0, 10_000)?;
    entries.reverse();
    let mut events = Vec::new();
    for entry in entries {
        let actor = match &entry.actor_id {
            Some(id) => Some(names.of(conn, id)?.0),
            None => None,
        };
        let details = serde_json::from_str(&entry.details).unwrap_or(serde_json::Value::String(entry.details));
        events.push(ExportedEvent { at: beijing(entry.at), action: entry.action, actor, details });
    }
    Ok(events)
}
