//! The API's own URLs, built in one place for responses and pages (services never build
//! URLs: they hand out ids and derivative kinds).

use crate::domain::ids::MediaId;
use crate::domain::media::Derivative;
use crate::domain::preview::PreviewStatus;
use crate::service::media::MediaView;

/// A work's page with its player opened at `ms` (a subtitle search hit).
pub fn work_page_at(id: &crate::domain::ids::WorkId, ms: i64) -> String {
    format!("/works/{id}#t={:.3}", ms as f64 / 1000.0)
}

/// `/api/v1/media/{id}`.
pub fn media(id: &MediaId) -> String {
    format!("/api/v1/media/{id}")
}

/// The original bytes of a medium.
pub fn original(id: &MediaId) -> String {
    format!("/api/v1/media/{id}/original")
}

/// One derivative of a medium.
pub fn derivative(id: &MediaId, derivative: Derivative) -> String {
    format!("/api/v1/media/{id}/derivatives/{}", derivative.file_name())
}

/// What a player should load: the preview when one is needed and ready, else the original.
/// `None` for photos.
pub fn playback(view: &MediaView) -> Option<String> {
    let row = &view.row;
    let playable = row.content_type.starts_with("video/") || row.content_type.starts_with("audio/");
    match row.preview_status {
        _ if !playable => None,
        PreviewStatus::Ready if view.has(Derivative::Preview) => Some(derivative(&row.id, Derivative::Preview)),
        _ => Some(original(&row.id)),
    }
}
