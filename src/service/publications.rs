//! Where and when a work was published, and what each platform showed of it: records added
//! when a work is published, imported, or entered and corrected by reviewers and admins
//! afterwards (every change audited with the old value).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::audit;
use super::auth::AuthUser;
use super::works::{WorkError, load_live, load_visible};
use crate::clock::now;
use crate::db::publications::{self, MetricsRow, PublicationRow};
use crate::db::{Db, DbConnection};
use crate::domain::FieldError;
use crate::domain::archive::{Metrics, Platform, web_link};
use crate::domain::ids::WorkId;
use crate::domain::transition::past_publication;
use crate::domain::user::Role;
use crate::domain::work::Status;

/// A publication with its newest metrics snapshot.
#[derive(Debug, Clone)]
pub struct PublicationView {
    pub row: PublicationRow,
    pub latest: Option<MetricsRow>,
}

/// A publication as a client sends it, checked.
#[derive(Debug, Clone)]
pub struct NewPublication {
    pub platform: Platform,
    pub account: Option<String>,
    pub url: Option<String>,
    pub published_at: DateTime<Utc>,
    pub metrics: Option<Metrics>,
}

/// A correction; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct PublicationPatch {
    pub platform: Option<Platform>,
    pub account: Option<Option<String>>,
    pub url: Option<Option<String>>,
    pub published_at: Option<DateTime<Utc>>,
}

/// Parses a platform field.
pub fn platform_field(raw: &str) -> Result<Platform, FieldError> {
    Platform::parse(raw).ok_or_else(|| {
        let names: Vec<&str> = Platform::ALL.iter().map(|platform| platform.as_str()).collect();
        FieldError::invalid("platform", format!("must be one of {}", names.join(", ")))
    })
}

/// Parses a URL field: only `http` and `https` links are kept (they are shown clickable).
pub fn url_field(raw: &str) -> Result<String, FieldError> {
    web_link(raw).ok_or_else(|| FieldError::invalid("url", "must be an http:// or https:// link"))
}

/// Checks that no count is negative.
pub fn metrics_field(metrics: Metrics) -> Result<Metrics, FieldError> {
    let counts = [metrics.reads, metrics.likes, metrics.shares, metrics.comments, metrics.reposts];
    if counts.iter().flatten().any(|count| *count < 0) {
        return Err(FieldError::invalid("metrics", "counts must be 0 or more"));
    }
    if metrics.is_empty() {
        return Err(FieldError::invalid("metrics", "give at least one of reads, likes, shares, comments, reposts"));
    }
    Ok(metrics)
}

fn may_record(user: &AuthUser) -> Result<(), WorkError> {
    if user.has(Role::Reviewer) || user.is_admin() { Ok(()) } else { Err(WorkError::RoleRequired("reviewer or admin")) }
}

fn views_of(conn: &mut DbConnection, work_id: &WorkId) -> diesel::QueryResult<Vec<PublicationView>> {
    let rows = publications::for_work(conn, work_id)?;
    rows.into_iter()
        .map(|row| Ok(PublicationView { latest: publications::latest_metrics(conn, &row.id)?, row }))
        .collect()
}

/// A work's publications, earliest first.
pub async fn list(db: &Db, user: &AuthUser, work_id: WorkId) -> Result<Vec<PublicationView>, WorkError> {
    let caller = user.clone();
    db.read(move |conn| -> Result<_, WorkError> {
        load_visible(conn, &caller, &work_id)?;
        Ok(views_of(conn, &work_id)?)
    })
    .await
}

/// Records one more place a published work appeared (reviewers, admins).
pub async fn add(
    db: &Db,
    user: &AuthUser,
    work_id: WorkId,
    input: NewPublication,
) -> Result<PublicationView, WorkError> {
    may_record(user)?;
    past_publication("published_at", input.published_at, now().and_utc())?;
    let caller = user.clone();
    db.write(move |conn| -> Result<_, WorkError> {
        let work = load_live(conn, &caller, &work_id)?;
        if !matches!(work.status, Status::Published | Status::Archived) {
            return Err(WorkError::Field(FieldError::invalid("status", "publication records are for published works")));
        }
        let stamp = now();
        let place = (input.platform.as_str(), input.account, input.url);
        let row = PublicationRow::new(&work_id, place, input.published_at.naive_utc(), &caller.id, stamp);
        publications::insert(conn, &row)?;
        let latest = match input.metrics {
            Some(metrics) => {
                let snapshot = MetricsRow::new(&row.id, metrics, stamp, "manual");
                publications::insert_metrics(conn, &snapshot)?;
                Some(snapshot)
            }
            None => None,
        };
        let details = json!({"publication_id": row.id, "platform": row.platform, "account": row.account, "url": row.url, "published_at": input.published_at});
        audit::record(conn, Some(&caller), "publication.added", ("work", work_id.as_str()), details, stamp)?;
        crate::db::outbox::enqueue(conn, &work_id, stamp)?;
        crate::db::compliance::mark_unchecked(conn, work_id.as_str())?;
        Ok(PublicationView { row, latest })
    })
    .await
}

/// Loads a publication of a work the caller may see, or `PublicationNotFound`.
fn load_publication(conn: &mut DbConnection, user: &AuthUser, id: &str) -> Result<PublicationRow, WorkError> {
    let row = publications::find(conn, id)?.ok_or(WorkError::PublicationNotFound)?;
    load_visible(conn, user, &row.work_id).map_err(|error| match error {
        WorkError::NotFound => WorkError::PublicationNotFound,
        other => other,
    })?;
    Ok(row)
}

/// Corrects a publication record (reviewers, admins); the audit entry keeps the old values.
pub async fn correct(
    db: &Db,
    user: &AuthUser,
    id: String,
    patch: PublicationPatch,
) -> Result<PublicationView, WorkError> {
    may_record(user)?;
    if let Some(time) = patch.published_at {
        past_publication("published_at", time, now().and_utc())?;
    }
    let caller = user.clone();
    db.write(move |conn| -> Result<_, WorkError> {
        let before = load_publication(conn, &caller, &id)?;
        let mut after = before.clone();
        if let Some(platform) = patch.platform {
            after.platform = platform.as_str().to_owned();
        }
        if let Some(account) = patch.account {
            after.account = account;
        }
        if let Some(url) = patch.url {
            after.url = url;
        }
        if let Some(time) = patch.published_at {
            after.published_at = time.naive_utc();
        }
        let stamp = now();
        after.updated_at = stamp;
        publications::update(conn, &after)?;
        let view = |row: &PublicationRow| json!({"platform": row.platform, "account": row.account, "url": row.url, "published_at": row.published_at.and_utc()});
        let details = json!({"publication_id": id, "before": view(&before), "after": view(&after)});
        audit::record(conn, Some(&caller), "publication.corrected", ("work", before.work_id.as_str()), details, stamp)?;
        crate::db::outbox::enqueue(conn, &before.work_id, stamp)?;
        crate::db::compliance::mark_unchecked(conn, before.work_id.as_str())?;
        Ok(PublicationView { latest: publications::latest_metrics(conn, &after.id)?, row: after })
    })
    .await
}

/// Adds a metrics snapshot to a publication (reviewers, admins).
pub async fn add_metrics(
    db: &Db,
    user: &AuthUser,
    id: String,
    metrics: Metrics,
    as_of: Option<DateTime<Utc>>,
) -> Result<PublicationView, WorkError> {
    may_record(user)?;
    let caller = user.clone();
    db.write(move |conn| -> Result<_, WorkError> {
        let row = load_publication(conn, &caller, &id)?;
        let stamp = now();
        let snapshot = MetricsRow::new(&row.id, metrics, as_of.map_or(stamp, |time| time.naive_utc()), "manual");
        publications::insert_metrics(conn, &snapshot)?;
        let details = json!({"publication_id": row.id, "metrics": metrics, "as_of": snapshot.as_of.and_utc()});
        audit::record(conn, Some(&caller), "publication.metrics", ("work", row.work_id.as_str()), details, stamp)?;
        Ok(PublicationView { latest: publications::latest_metrics(conn, &row.id)?, row })
    })
    .await
}

/// The record a publish step leaves: the channel named in the step, read as a platform.
pub fn record_publish(
    conn: &mut DbConnection,
    user: &AuthUser,
    work_id: &WorkId,
    channel: &str,
    url: &str,
    published_at: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    let stamp = now();
    let account = Some(channel.to_owned()).filter(|text| !text.trim().is_empty());
    let place = (Platform::from_channel(channel).as_str(), account, web_link(url));
    let row = PublicationRow::new(work_id, place, published_at.naive_utc(), &user.id, stamp);
    publications::insert(conn, &row)
}
