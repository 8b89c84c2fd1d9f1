//! The API's own URLs, built in one place for responses and pages (services never build
//! URLs: they hand out ids and derivative kinds).

use crate::domain::ids::MediaId;
use crate::domain::media::Derivative;

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
