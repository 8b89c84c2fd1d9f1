//! Playable previews of films: when a browser cannot be counted on to play an original, the
//! worker makes an H.264/AAC MP4 rendition. This module holds the rule that decides, the
//! settings and the preview's status; the transcoding itself is `media::preview`.

use serde::{Deserialize, Serialize};

/// When to make a preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviewPolicy {
    /// Only when the original would not play in every browser (the default).
    Required,
    /// Also when the original is bigger than the preview size.
    Optimal,
    /// For every film.
    Always,
    /// Never; players get the original.
    Never,
}

impl PreviewPolicy {
    pub const ALL: [PreviewPolicy; 4] =
        [PreviewPolicy::Required, PreviewPolicy::Optimal, PreviewPolicy::Always, PreviewPolicy::Never];

    /// The settings spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PreviewPolicy::Required => "required",
            PreviewPolicy::Optimal => "optimal",
            PreviewPolicy::Always => "always",
            PreviewPolicy::Never => "never",
        }
    }

    /// Parses the settings spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|policy| policy.as_str() == raw.trim())
    }

    /// Whether a film with these facts gets a preview whose shorter side is `short_side`.
    pub fn needs_preview(self, film: &PlaybackFacts<'_>, short_side: u32) -> bool {
        if !film.has_video {
            return false;
        }
        match self {
            PreviewPolicy::Never => false,
            PreviewPolicy::Always => true,
            PreviewPolicy::Required => !film.plays_everywhere(),
            PreviewPolicy::Optimal => !film.plays_everywhere() || film.shorter_side() > short_side,
        }
    }
}

/// What decides whether an original plays in every browser, as probing found it.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlaybackFacts<'a> {
    /// The sniffed container (`mp4`, `mov`, `webm` …).
    pub container: &'a str,
    pub has_video: bool,
    pub video_codec: Option<&'a str>,
    pub pixel_format: Option<&'a str>,
    /// `None` for a silent film.
    pub audio_codec: Option<&'a str>,
    pub width: u32,
    pub height: u32,
}

/// Audio codecs every browser plays inside MP4.
const PLAYABLE_AUDIO: [&str; 3] = ["aac", "mp3", "opus"];

impl PlaybackFacts<'_> {
    /// H.264 in 8-bit 4:2:0 with AAC, MP3, Opus or no audio, in MP4 or MOV.
    pub fn plays_everywhere(&self) -> bool {
        let container = matches!(self.container, "mp4" | "mov");
        let video = self.video_codec == Some("h264") && self.pixel_format == Some("yuv420p");
        let audio = self.audio_codec.is_none_or(|codec| PLAYABLE_AUDIO.contains(&codec));
        container && video && audio
    }

    fn shorter_side(&self) -> u32 {
        self.width.min(self.height)
    }
}

/// Allowed preview sizes (the shorter side, in pixels).
pub const PREVIEW_SIZES: [u32; 3] = [480, 720, 1080];

/// x264 presets accepted in settings, fastest first.
pub const X264_PRESETS: [&str; 9] =
    ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"];

/// How previews are encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewSettings {
    /// Shorter side at most this (480, 720 or 1080); smaller films keep their size.
    pub short_side: u32,
    /// x264 constant rate factor (0–51; 23 by default).
    pub crf: u8,
    /// x264 preset (`veryfast` by default).
    pub preset: String,
}

impl Default for PreviewSettings {
    fn default() -> Self {
        Self { short_side: 720, crf: 23, preset: "veryfast".to_owned() }
    }
}

/// The preview's display size for a film shown at `width`×`height` (after rotation): the
/// shorter side brought down to `short_side` (never up), both sides even, aspect kept.
pub fn preview_size(width: u32, height: u32, short_side: u32) -> (u32, u32) {
    let even = |value: u32| (value & !1).max(2);
    let shorter = width.min(height).max(1);
    if shorter <= short_side {
        return (even(width), even(height));
    }
    let scale =
        |side: u32| ((u64::from(side) * u64::from(short_side) + u64::from(shorter) / 2) / u64::from(shorter)) as u32;
    (even(scale(width)), even(scale(height)))
}

/// Where a film's preview stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PreviewStatus {
    /// The original plays everywhere (or the file is not a film, or the policy is `never`).
    NotNeeded,
    /// Queued behind the poster, thumbnails and storyboard.
    Pending,
    /// Being transcoded; see the progress.
    Processing,
    Ready,
    Failed,
}

impl PreviewStatus {
    const ALL: [PreviewStatus; 5] = [
        PreviewStatus::NotNeeded,
        PreviewStatus::Pending,
        PreviewStatus::Processing,
        PreviewStatus::Ready,
        PreviewStatus::Failed,
    ];

    /// The API and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PreviewStatus::NotNeeded => "not_needed",
            PreviewStatus::Pending => "pending",
            PreviewStatus::Processing => "processing",
            PreviewStatus::Ready => "ready",
            PreviewStatus::Failed => "failed",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

/// The wall-clock limit of one preview transcode: a minute plus `seconds_per_second` for
/// every second of film (a 10-minute film at 4 s/s gets 41 minutes).
pub fn transcode_time_limit(duration_ms: u64, seconds_per_second: u64) -> std::time::Duration {
    std::time::Duration::from_secs(60 + duration_ms.div_ceil(1000) * seconds_per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(video: &'static str, pixels: &'static str, audio: Option<&'static str>) -> PlaybackFacts<'static> {
        PlaybackFacts {
            container: "mp4",
            has_video: true,
            video_codec: Some(video),
            pixel_format: Some(pixels),
            audio_codec: audio,
            width: 1920,
            height: 1080,
        }
    }

    #[test]
    fn required_transcodes_what_a_browser_may_not_play() {
        let policy = PreviewPolicy::Required;
        assert!(!policy.needs_preview(&phone("h264", "yuv420p", Some("aac")), 720));
        assert!(!policy.needs_preview(&phone("h264", "yuv420p", None), 720), "silent films play");
        assert!(policy.needs_preview(&phone("hevc", "yuv420p10le", Some("aac")), 720));
        assert!(policy.needs_preview(&phone("h264", "yuv422p", Some("aac")), 720));
        assert!(policy.needs_preview(&phone("h264", "yuv420p", Some("pcm_s16le")), 720));
        let webm = PlaybackFacts { container: "webm", ..phone("h264", "yuv420p", Some("opus")) };
        assert!(policy.needs_preview(&webm, 720), "only MP4 and MOV containers");
        let audio_only = PlaybackFacts { has_video: false, ..phone("h264", "yuv420p", Some("flac")) };
        assert!(!policy.needs_preview(&audio_only, 720));
    }

    #[test]
    fn optimal_also_shrinks_big_films_and_always_and_never_mean_it() {
        let playable = phone("h264", "yuv420p", Some("aac"));
        assert!(PreviewPolicy::Optimal.needs_preview(&playable, 720));
        assert!(!PreviewPolicy::Optimal.needs_preview(&playable, 1080));
        assert!(PreviewPolicy::Always.needs_preview(&playable, 1080));
        assert!(!PreviewPolicy::Never.needs_preview(&phone("prores", "yuv422p10le", None), 720));
        assert_eq!(PreviewPolicy::parse(" optimal "), Some(PreviewPolicy::Optimal));
        assert_eq!(PreviewPolicy::parse("sometimes"), None);
    }

    #[test]
    fn preview_sizes_bring_the_shorter_side_down_and_stay_even() {
        assert_eq!(preview_size(1920, 1080, 720), (1280, 720));
        assert_eq!(preview_size(1080, 1920, 720), (720, 1280), "portrait keeps its orientation");
        assert_eq!(preview_size(3840, 2160, 480), (852, 480));
        assert_eq!(preview_size(640, 360, 720), (640, 360), "never scaled up");
        assert_eq!(preview_size(641, 361, 720), (640, 360), "odd sides are made even");
    }

    #[test]
    fn time_limits_grow_with_the_film() {
        assert_eq!(transcode_time_limit(0, 4).as_secs(), 60);
        assert_eq!(transcode_time_limit(600_000, 4).as_secs(), 60 + 2400);
        assert_eq!(transcode_time_limit(1, 4).as_secs(), 64);
    }

    #[test]
    fn statuses_round_trip() {
        for status in PreviewStatus::ALL {
            assert_eq!(PreviewStatus::parse(status.as_str()), Some(status));
        }
    }
}
