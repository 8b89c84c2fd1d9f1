//! The audit trail: every change appends an entry in the same transaction, hash-chained so
//! an edited or removed entry is detected. Reading: a work's history, the admin's log, and
//! verification of the whole chain.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Value, json};

use super::auth::AuthUser;
use crate::db::DbError;
use crate::db::audit::{self, AuditFilter, AuditRow, ChainCheck, NewEntry};
use crate::db::works::WorkRow;
use crate::db::{Db, DbConnection};
use crate::domain::page::Page;

/// Why reading the audit log was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The log is for admins.
    #[error("this action needs the admin role")]
    AdminRequired,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(AuditError);

/// Appends an entry for an action by `user` (inside the caller's transaction).
pub fn record(
    conn: &mut DbConnection,
    user: Option<&AuthUser>,
    action: &str,
    target: (&str, &str),
    details: Value,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let entry = NewEntry {
        actor_id: user.map(|user| user.id.as_str().to_owned()),
        client_addr: user.and_then(|user| user.client_addr.clone()),
        action: action.to_owned(),
        target_type: target.0.to_owned(),
        target_id: Some(target.1.to_owned()),
        details: redacted(details),
    };
    audit::append(conn, entry, now)
}

/// Details with every string's personal data masked: the trail keeps that a value changed,
/// never the ID or phone number itself.
fn redacted(details: Value) -> Value {
    match details {
        Value::String(text) => match crate::domain::compliance::redact(&text) {
            std::borrow::Cow::Borrowed(_) => Value::String(text),
            std::borrow::Cow::Owned(masked) => Value::String(masked),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(redacted).collect()),
        Value::Object(fields) => Value::Object(fields.into_iter().map(|(key, value)| (key, redacted(value))).collect()),
        other => other,
    }
}

/// Appends an entry with no authenticated actor (failed logins).
pub fn record_anonymous(
    conn: &mut DbConnection,
    client_addr: Option<&str>,
    action: &str,
    details: Value,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let entry = NewEntry {
        actor_id: None,
        client_addr: client_addr.map(str::to_owned),
        action: action.to_owned(),
        target_type: "session".into(),
        target_id: None,
        details,
    };
    audit::append(conn, entry, now)
}

fn digest(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))[..16].to_owned()
}

/// Field-by-field before/after of an edit (bodies by size and digest, not in full).
pub fn work_changes(before: &WorkRow, after: &WorkRow) -> Value {
    let mut changes = serde_json::Map::new();
    let mut compare = |name: &str, old: Value, new: Value| {
        if old != new {
            changes.insert(name.to_owned(), json!({"before": old, "after": new}));
        }
    };
    compare("title", json!(before.title), json!(after.title));
    let body = |row: &WorkRow| json!({"chars": row.body.chars().count(), "sha256_16": digest(&row.body)});
    compare("body", body(before), body(after));
    compare("summary", json!(before.summary), json!(after.summary));
    // Lists are recorded as their stored JSON text, as they always were.
    compare("tags", json!(before.tags.text()), json!(after.tags.text()));
    compare("unit", json!(before.unit), json!(after.unit));
    compare("credits", json!(before.credits.text()), json!(after.credits.text()));
    compare("channel", json!(before.channel), json!(after.channel));
    compare("external_url", json!(before.external_url), json!(after.external_url));
    compare("published_at", json!(before.published_at), json!(after.published_at));
    compare("assignees", json!(before.assignees.text()), json!(after.assignees.text()));
    compare("due_date", json!(before.due_date), json!(after.due_date));
    Value::Object(changes)
}

/// An entry as shown.
#[derive(Debug, Clone)]
pub struct AuditView {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub client_addr: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub details: Value,
    pub hash: String,
}

impl From<AuditRow> for AuditView {
    fn from(row: AuditRow) -> Self {
        Self {
            seq: row.seq,
            at: row.at.and_utc(),
            actor_id: row.actor_id,
            client_addr: row.client_addr,
            action: row.action,
            target_type: row.target_type,
            target_id: row.target_id,
            // The stored text is what the chain hashes; one that is not JSON (only an edit
            // outside microcat makes one, and `audit verify` names it) is shown as it is.
            details: serde_json::from_str(&row.details).unwrap_or(Value::String(row.details)),
            hash: row.hash,
        }
    }
}

/// A page of the log (admins), newest first.
pub async fn list(
    db: &Db,
    user: &AuthUser,
    filter: AuditFilter,
    page: Page,
) -> Result<(Vec<AuditView>, i64), AuditError> {
    if !user.is_admin() {
        return Err(AuditError::AdminRequired);
    }
    let (rows, total) = db.read(move |conn| audit::list(conn, &filter, page.offset(), page.per_page)).await?;
    Ok((rows.into_iter().map(AuditView::from).collect(), total))
}

/// Checks the whole chain: the number of entries, or the first broken one.
pub async fn verify(db: &Db) -> Result<ChainCheck, DbError> {
    Ok(db.read(audit::verify).await?)
}
