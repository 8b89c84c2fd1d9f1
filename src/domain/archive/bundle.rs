//! microcat's own export (`microcat export OUT.zip`): a self-describing archive for reporting
//! upward (上报) or moving hardware. One JSON per work (`works/<id>.json`: fields, credits,
//! publications with metrics, media, comments, history), its originals under `originals/`
//! named by SHA-256, a `manifest.json` with every file's digest and a README. All times are
//! Beijing time with the offset written (`2024-05-01T08:30:00+08:00`). Read back by
//! `microcat import`, which recreates each work.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use super::{ImportRecord, LocalMedia, Metrics, Platform};
use crate::domain::fields::Credit;
use crate::domain::media::MediaRole;
use crate::domain::work::{Kind, Status};

/// The key that marks a work file (its value is the format version).
pub const WORK_MARKER: &str = "microcat_export";
/// The key that marks the manifest.
pub const MANIFEST_MARKER: &str = "microcat_export_manifest";
/// The version written; a later microcat reads it or refuses it by name.
pub const VERSION: u32 = 1;

/// A time as exports carry it: Beijing time, the offset written.
pub fn beijing(time: DateTime<Utc>) -> DateTime<FixedOffset> {
    time.with_timezone(&crate::clock::beijing())
}

/// One work, as exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedWork {
    pub microcat_export: u32,
    pub id: String,
    pub kind: Kind,
    pub status: Status,
    pub title: String,
    pub body: String,
    pub summary: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub unit: Option<String>,
    #[serde(default)]
    pub credits: Vec<Credit>,
    pub channel: Option<String>,
    pub external_url: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    pub published_at: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub publications: Vec<ExportedPublication>,
    #[serde(default)]
    pub media: Vec<ExportedMedia>,
    #[serde(default)]
    pub comments: Vec<ExportedComment>,
    /// The audit trail of the work where it came from, for the reader; an import records
    /// it as it was, it does not replay it.
    #[serde(default)]
    pub history: Vec<ExportedEvent>,
}

/// A place the work was published, with its metrics snapshots oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedPublication {
    pub platform: Platform,
    pub platform_label: String,
    pub account: Option<String>,
    pub url: Option<String>,
    pub published_at: DateTime<FixedOffset>,
    #[serde(default)]
    pub metrics: Vec<ExportedMetrics>,
}

/// One metrics snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedMetrics {
    pub as_of: DateTime<FixedOffset>,
    #[serde(flatten)]
    pub figures: Metrics,
    pub source: String,
}

/// One original, stored in the archive at `path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedMedia {
    /// `originals/<sha256>.<format>`.
    pub path: String,
    pub sha256: String,
    pub size: i64,
    pub format: String,
    pub role: String,
    pub filename: Option<String>,
}

/// One comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedComment {
    pub id: String,
    /// The author's username and display name.
    pub author: String,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<FixedOffset>,
    pub reply_to: Option<String>,
    /// The original's SHA-256 the comment is about, and the moment in it.
    pub media_sha256: Option<String>,
    pub timecode_ms: Option<i64>,
    pub resolved: bool,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedEvent {
    pub at: DateTime<FixedOffset>,
    pub action: String,
    pub actor: Option<String>,
    pub details: serde_json::Value,
}

/// The archive's table of contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub microcat_export_manifest: u32,
    pub exported_at: DateTime<FixedOffset>,
    pub works: usize,
    /// Every other file with its SHA-256.
    pub files: Vec<ManifestFile>,
}

/// One file of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// A work file read into the record the import stores; its originals are its local media,
/// by path from the archive's root (the folder above `works/`).
pub fn record(text: &str) -> Result<ImportRecord, String> {
    let work: ExportedWork =
        serde_json::from_str(text).map_err(|error| format!("not a microcat work file: {error}"))?;
    if work.microcat_export != VERSION {
        return Err(format!("export version {} is not one this microcat reads ({VERSION})", work.microcat_export));
    }
    let first = work.publications.first();
    let published_at =
        first.map(|publication| publication.published_at).or(work.published_at).unwrap_or(work.created_at);
    let local_media = work
        .media
        .iter()
        .map(|media| {
            let role = MediaRole::parse(&media.role).ok_or_else(|| format!("unknown media role {:?}", media.role))?;
            LocalMedia::inside(&media.path, role, media.filename.clone())
                .ok_or_else(|| format!("media path {:?} is not inside the archive", media.path))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(ImportRecord {
        source_key: format!("microcat:{}", work.id),
        kind: work.kind,
        title: work.title.clone(),
        body: work.body.clone(),
        summary: work.summary.clone(),
        author: None,
        published_at: published_at.with_timezone(&Utc),
        deleted: false,
        platform: first.map_or(Platform::Other, |publication| publication.platform),
        account: first.and_then(|publication| publication.account.clone()),
        url: first.and_then(|publication| publication.url.clone()).or_else(|| work.external_url.clone()),
        metrics: first.and_then(|publication| publication.metrics.last()).map(|last| last.figures).unwrap_or_default(),
        tags: work.tags.clone(),
        remote_media: Vec::new(),
        local_media,
        bundle: Some(Box::new(work)),
    })
}
