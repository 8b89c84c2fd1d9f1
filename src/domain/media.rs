//! Media records: what an upload is for, how far processing got, and the sanitised original
//! filename (kept as metadata, never used as a path).

use super::fields::FieldError;

/// Longest kept original filename, in bytes.
pub const FILENAME_MAX_BYTES: usize = 255;

/// A file made from an original (always rebuildable from it), by its stored and public name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Derivative {
    /// 320 px long edge, for cards and lists.
    Small,
    /// 1280 px long edge, for the work page.
    Large,
    /// A film's most detailed keyframe.
    Poster,
    /// A film's sprite of tiles, one every ~2 s.
    StoryboardImage,
    /// WebVTT mapping time ranges to regions of the storyboard sprite.
    StoryboardVtt,
    /// An H.264/AAC MP4 every browser plays, for films whose original may not play.
    Preview,
    /// Subtitles as WebVTT (from an SRT or WebVTT upload), for the player's text track.
    Subtitles,
}

impl Derivative {
    /// Every derivative, in the order they are listed.
    pub const ALL: [Derivative; 7] = [
        Derivative::Small,
        Derivative::Large,
        Derivative::Poster,
        Derivative::StoryboardImage,
        Derivative::StoryboardVtt,
        Derivative::Preview,
        Derivative::Subtitles,
    ];

    /// The file name, in storage and in `/derivatives/{name}` URLs.
    pub fn file_name(self) -> &'static str {
        match self {
            Derivative::Small => "small.jpg",
            Derivative::Large => "large.jpg",
            Derivative::Poster => "poster.jpg",
            Derivative::StoryboardImage => "storyboard.jpg",
            Derivative::StoryboardVtt => "storyboard.vtt",
            Derivative::Preview => "preview.mp4",
            Derivative::Subtitles => "subtitles.vtt",
        }
    }

    /// The `Content-Type` it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Derivative::StoryboardVtt | Derivative::Subtitles => "text/vtt; charset=utf-8",
            Derivative::Preview => "video/mp4",
            _ => "image/jpeg",
        }
    }

    /// The derivative with this file name, if any.
    pub fn from_file_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|derivative| derivative.file_name() == name)
    }
}

/// What an upload is to its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediaRole {
    /// The work itself: a film cut, the post's picture.
    Main,
    /// The cover image.
    Cover,
    /// A still from a film.
    Still,
    /// Anything else attached.
    Attachment,
    /// The film's subtitles (SRT or WebVTT).
    Subtitle,
}

impl MediaRole {
    const ALL: [MediaRole; 5] =
        [MediaRole::Main, MediaRole::Cover, MediaRole::Still, MediaRole::Attachment, MediaRole::Subtitle];

    /// The API and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaRole::Main => "main",
            MediaRole::Cover => "cover",
            MediaRole::Still => "still",
            MediaRole::Attachment => "attachment",
            MediaRole::Subtitle => "subtitle",
        }
    }

    /// Parses the `role` form field (blank means `main`).
    pub fn parse_field(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(MediaRole::Main);
        }
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == raw)
            .ok_or_else(|| FieldError::invalid("role", "must be one of main, cover, still, attachment, subtitle"))
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == raw)
    }
}

/// Where processing of a medium stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediaStatus {
    Processing,
    Ready,
    Failed,
}

impl MediaStatus {
    /// The API and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaStatus::Processing => "processing",
            MediaStatus::Ready => "ready",
            MediaStatus::Failed => "failed",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        [MediaStatus::Processing, MediaStatus::Ready, MediaStatus::Failed]
            .into_iter()
            .find(|status| status.as_str() == raw)
    }
}

/// Characters that reorder or hide text (bidi overrides, zero-width marks): a name like
/// `gpj.exe` shown as `exe.jpg` must not survive.
fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Keeps a display-safe original filename: the last path segment, without control, bidi or
/// zero-width characters, trimmed, at most 255 bytes. `None` when nothing usable remains.
pub fn sanitize_filename(raw: &str) -> Option<String> {
    let last_segment = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last_segment.chars().filter(|c| !c.is_control() && !is_invisible_or_bidi(*c)).collect();
    // Leading dots and spaces in any mix (`. .`, ` ..x`) would leave a hidden or dot name.
    let trimmed = cleaned.trim_start_matches(|c: char| c == '.' || c.is_whitespace());
    let mut end = trimmed.len().min(FILENAME_MAX_BYTES);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    // Trimmed after the cut, so cleaning a cleaned name changes nothing.
    let kept = trimmed[..end].trim_end();
    (!kept.is_empty()).then(|| kept.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_are_found_by_their_file_names_only() {
        for derivative in Derivative::ALL {
            assert_eq!(Derivative::from_file_name(derivative.file_name()), Some(derivative));
        }
        assert_eq!(Derivative::from_file_name("../small.jpg"), None);
        assert_eq!(Derivative::StoryboardVtt.content_type(), "text/vtt; charset=utf-8");
    }

    #[test]
    fn path_segments_and_dot_prefixes_are_dropped() {
        assert_eq!(sanitize_filename("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(sanitize_filename(". ."), None, "found by the fuzzer");
        assert_eq!(sanitize_filename(" . .hidden.jpg").as_deref(), Some("hidden.jpg"));
        let cut_at_a_space = format!("{} tail", "a".repeat(FILENAME_MAX_BYTES - 1));
        let kept = sanitize_filename(&cut_at_a_space).unwrap();
        assert_eq!(kept.len(), FILENAME_MAX_BYTES - 1, "no trailing space after the cut");
        assert_eq!(sanitize_filename(&kept), Some(kept), "idempotent (found by the fuzzer)");
        assert_eq!(sanitize_filename("C:\\Users\\张三\\视频.mp4").as_deref(), Some("视频.mp4"));
        assert_eq!(sanitize_filename("..").as_deref(), None);
        assert_eq!(sanitize_filename(".hidden").as_deref(), Some("hidden"));
    }

    #[test]
    fn control_bidi_and_nul_characters_are_removed() {
        assert_eq!(sanitize_filename("photo\u{0}.jpg\n").as_deref(), Some("photo.jpg"));
        assert_eq!(sanitize_filename("invoice\u{202E}gpj.exe").as_deref(), Some("invoicegpj.exe"));
        assert_eq!(sanitize_filename("\u{0}\u{1}\u{202E}").as_deref(), None);
    }

    #[test]
    fn long_chinese_names_are_cut_on_a_character_boundary() {
        let name = format!("{}.mp4", "微".repeat(300));
        let kept = sanitize_filename(&name).unwrap();
        assert!(kept.len() <= FILENAME_MAX_BYTES);
        assert!(kept.chars().all(|c| c == '微'));
    }

    #[test]
    fn roles_default_to_main() {
        assert_eq!(MediaRole::parse_field("").unwrap(), MediaRole::Main);
        assert_eq!(MediaRole::parse_field("cover").unwrap(), MediaRole::Cover);
        assert_eq!(MediaRole::parse_field("poster").unwrap_err().field, "role");
    }
}
