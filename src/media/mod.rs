//! Media processing: deciding what a file is (`sniff`), reading photos (`picture`) and films
//! (`video`) into metadata and derivatives, and the child process (`worker`) in which all
//! decoding of untrusted files happens, so a hostile file can kill a worker, never the server.

pub mod heif;
pub mod picture;
pub mod preview;
pub mod sniff;
pub mod video;
pub mod worker;

use crate::error::codes;
use serde::{Deserialize, Serialize};

/// Long edge of the `small` thumbnail, in pixels.
pub const SMALL_EDGE: u32 = 320;
/// Long edge of the `large` thumbnail and of the poster, in pixels.
pub const LARGE_EDGE: u32 = 1280;
/// JPEG quality of derivatives.
pub const JPEG_QUALITY: i32 = 82;

/// Limits a decoder must respect.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct DecodeLimits {
    /// Largest image (or video frame), in pixels.
    pub max_pixels: u64,
    /// Longest video or audio, in milliseconds.
    pub max_duration_ms: u64,
}

/// Why a file could not be processed: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct MediaFailure {
    /// `image-too-large`, `video-too-long`, `decode-failed`, `unsupported-media-type` …
    pub code: String,
    /// Lowercase, names the limit when one was hit.
    pub message: String,
}

impl MediaFailure {
    /// A failure with a code and message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into() }
    }

    /// The file is damaged or not what it claims to be.
    pub fn decode(detail: impl std::fmt::Display) -> Self {
        Self::new(codes::DECODE_FAILED, format!("the file could not be decoded: {detail}"))
    }

    /// An I/O problem while reading or writing.
    pub fn io(detail: impl std::fmt::Display) -> Self {
        Self::new(codes::IO_ERROR, format!("reading or writing media failed: {detail}"))
    }

    /// Over the pixel limit.
    pub fn too_many_pixels(width: u64, height: u64, limit: u64) -> Self {
        let megapixels = limit / 1_000_000;
        Self::new(codes::IMAGE_TOO_LARGE, format!("{width}x{height} exceeds the limit of {megapixels} megapixels"))
    }
}

/// What processing learned about a medium.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaMetadata {
    /// Displayed width (after rotation).
    pub width: Option<u32>,
    /// Displayed height (after rotation).
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    /// Clockwise degrees the stored frames must be turned to display upright.
    pub rotation: Option<u32>,
    pub video_codec: Option<String>,
    /// The decoder's pixel format (`yuv420p`, `yuv420p10le` …): 10-bit or 4:2:2 pictures do not
    /// play in every browser.
    #[serde(default)]
    pub pixel_format: Option<String>,
    pub audio_codec: Option<String>,
    pub frame_rate: Option<f64>,
    pub bitrate: Option<u64>,
    /// When the photo was taken (EXIF), as written by the camera (local time, no zone).
    pub taken_at: Option<String>,
    /// Camera make and model (EXIF).
    pub camera: Option<String>,
    /// The cues of a subtitle file.
    #[serde(default)]
    pub transcript: Option<Vec<crate::domain::subtitles::Cue>>,
    /// Whether the photo's EXIF carries GPS coordinates (the compliance check asks).
    #[serde(default)]
    pub gps: Option<bool>,
}
