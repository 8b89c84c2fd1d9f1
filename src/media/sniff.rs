//! Decides what an upload is from its first bytes (magic numbers), never from its name or the
//! client's MIME type. Pure and bounded: it only looks at the prefix it is given.

/// How many leading bytes the sniffer wants to see.
pub const SNIFF_LEN: usize = 4096;

/// The broad class of a medium; limits and processing differ per class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaClass {
    Image,
    Video,
    Audio,
    /// SRT or WebVTT text.
    Subtitle,
    /// An HTML page kept as an attachment (an imported article's original); never shown
    /// inline, only downloaded.
    Document,
}

impl MediaClass {
    /// The API and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaClass::Image => "image",
            MediaClass::Video => "video",
            MediaClass::Audio => "audio",
            MediaClass::Subtitle => "subtitle",
            MediaClass::Document => "document",
        }
    }
}

/// Every accepted container or image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaFormat {
    Jpeg,
    Png,
    Gif,
    Webp,
    Heif,
    Mp4,
    Mov,
    Webm,
    Mkv,
    Avi,
    Flv,
    Mp3,
    Aac,
    M4a,
    Srt,
    Vtt,
    Html,
}

/// A sentence naming what is accepted, for `unsupported-media-type`.
pub const ACCEPTED: &str =
    "JPEG, PNG, WebP, GIF, HEIC/HEIF, MP4/MOV, WebM, MKV, AVI, FLV, MP3, AAC, M4A, SRT or WebVTT";

impl MediaFormat {
    const ALL: [MediaFormat; 17] = [
        MediaFormat::Jpeg,
        MediaFormat::Png,
        MediaFormat::Gif,
        MediaFormat::Webp,
        MediaFormat::Heif,
        MediaFormat::Mp4,
        MediaFormat::Mov,
        MediaFormat::Webm,
        MediaFormat::Mkv,
        MediaFormat::Avi,
        MediaFormat::Flv,
        MediaFormat::Mp3,
        MediaFormat::Aac,
        MediaFormat::M4a,
        MediaFormat::Srt,
        MediaFormat::Vtt,
        MediaFormat::Html,
    ];

    /// Short stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaFormat::Jpeg => "jpeg",
            MediaFormat::Png => "png",
            MediaFormat::Gif => "gif",
            MediaFormat::Webp => "webp",
            MediaFormat::Heif => "heif",
            MediaFormat::Mp4 => "mp4",
            MediaFormat::Mov => "mov",
            MediaFormat::Webm => "webm",
            MediaFormat::Mkv => "mkv",
            MediaFormat::Avi => "avi",
            MediaFormat::Flv => "flv",
            MediaFormat::Mp3 => "mp3",
            MediaFormat::Aac => "aac",
            MediaFormat::M4a => "m4a",
            MediaFormat::Srt => "srt",
            MediaFormat::Vtt => "vtt",
            MediaFormat::Html => "html",
        }
    }

    /// Parses the stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|format| format.as_str() == raw)
    }

    /// Image, video or audio.
    pub fn class(self) -> MediaClass {
        match self {
            MediaFormat::Jpeg | MediaFormat::Png | MediaFormat::Gif | MediaFormat::Webp | MediaFormat::Heif => {
                MediaClass::Image
            }
            MediaFormat::Mp3 | MediaFormat::Aac | MediaFormat::M4a => MediaClass::Audio,
            MediaFormat::Srt | MediaFormat::Vtt => MediaClass::Subtitle,
            MediaFormat::Html => MediaClass::Document,
            _ => MediaClass::Video,
        }
    }

    /// The `Content-Type` the original is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            MediaFormat::Jpeg => "image/jpeg",
            MediaFormat::Png => "image/png",
            MediaFormat::Gif => "image/gif",
            MediaFormat::Webp => "image/webp",
            MediaFormat::Heif => "image/heic",
            MediaFormat::Mp4 => "video/mp4",
            MediaFormat::Mov => "video/quicktime",
            MediaFormat::Webm => "video/webm",
            MediaFormat::Mkv => "video/x-matroska",
            MediaFormat::Avi => "video/x-msvideo",
            MediaFormat::Flv => "video/x-flv",
            MediaFormat::Mp3 => "audio/mpeg",
            MediaFormat::Aac => "audio/aac",
            MediaFormat::M4a => "audio/mp4",
            MediaFormat::Srt => "application/x-subrip",
            MediaFormat::Vtt => "text/vtt",
            MediaFormat::Html => "text/html; charset=utf-8",
        }
    }

    /// The only FFmpeg demuxers allowed to open a file of this format. Forcing the demuxer
    /// from the sniffed type stops a playlist (HLS, concat) renamed `.mp4` from being opened as
    /// one, which a protocol whitelist alone does not.
    pub fn demuxers(self) -> &'static str {
        match self {
            MediaFormat::Mp4 | MediaFormat::Mov | MediaFormat::M4a | MediaFormat::Heif => "mov,mp4,m4a,3gp,3g2,mj2",
            MediaFormat::Webm | MediaFormat::Mkv => "matroska,webm",
            MediaFormat::Avi => "avi",
            MediaFormat::Flv => "flv",
            MediaFormat::Mp3 => "mp3",
            MediaFormat::Aac => "aac",
            MediaFormat::Jpeg
            | MediaFormat::Png
            | MediaFormat::Gif
            | MediaFormat::Webp
            | MediaFormat::Srt
            | MediaFormat::Vtt
            | MediaFormat::Html => "",
        }
    }
}

/// What the first bytes say the file is; `None` when it is nothing we accept.
pub fn sniff(prefix: &[u8]) -> Option<MediaFormat> {
    let head = &prefix[..prefix.len().min(SNIFF_LEN)];
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(MediaFormat::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(MediaFormat::Png);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some(MediaFormat::Gif);
    }
    if head.starts_with(b"RIFF") && head.len() >= 12 {
        return match &head[8..12] {
            b"WEBP" => Some(MediaFormat::Webp),
            b"AVI " => Some(MediaFormat::Avi),
            _ => None,
        };
    }
    if head.starts_with(b"FLV\x01") {
        return Some(MediaFormat::Flv);
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return sniff_matroska(head);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return sniff_iso_media(head);
    }
    if head.len() >= 8 && matches!(&head[4..8], b"moov" | b"mdat" | b"wide" | b"free" | b"pnot") {
        return Some(MediaFormat::Mov);
    }
    sniff_audio(head).or_else(|| sniff_subtitles(head))
}

/// What a file an import brings is: any medium, or the HTML page of a saved article (kept as
/// an attachment and only ever downloaded). Uploads never take HTML: see [`sniff`].
pub fn sniff_imported(prefix: &[u8]) -> Option<MediaFormat> {
    sniff(prefix).or_else(|| sniff_html(&prefix[..prefix.len().min(SNIFF_LEN)]))
}

/// An HTML page, from its doctype or root element.
fn sniff_html(head: &[u8]) -> Option<MediaFormat> {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|byte| !byte.is_ascii_whitespace())?;
    let opening: Vec<u8> = text[start..].iter().take(14).map(u8::to_ascii_lowercase).collect();
    (opening.starts_with(b"<!doctype html") || opening.starts_with(b"<html")).then_some(MediaFormat::Html)
}

/// SRT or WebVTT, from their first lines.
fn sniff_subtitles(head: &[u8]) -> Option<MediaFormat> {
    if !crate::domain::subtitles::looks_like_subtitles(head) {
        return None;
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    Some(if text.starts_with(b"WEBVTT") { MediaFormat::Vtt } else { MediaFormat::Srt })
}

/// WebM or other Matroska, from the EBML DocType element.
fn sniff_matroska(head: &[u8]) -> Option<MediaFormat> {
    let doc_type = head.windows(2).position(|pair| pair == [0x42, 0x82])?;
    let rest = &head[doc_type + 2..];
    let text = rest.get(1..rest.len().min(12))?;
    if text.starts_with(b"webm") {
        Some(MediaFormat::Webm)
    } else if text.starts_with(b"matroska") {
        Some(MediaFormat::Mkv)
    } else {
        None
    }
}

/// ISO base media files (MP4, MOV, M4A, HEIF) by their major and compatible brands.
fn sniff_iso_media(head: &[u8]) -> Option<MediaFormat> {
    let box_size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = box_size.clamp(12, head.len());
    let brands: Vec<&[u8]> = std::iter::once(&head[8..12]).chain(head[16.min(end)..end].chunks_exact(4)).collect();
    let has = |wanted: &[&[u8]]| brands.iter().any(|brand| wanted.contains(brand));
    if has(&[b"avif", b"avis"]) {
        return None;
    }
    if has(&[b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"]) {
        return Some(MediaFormat::Heif);
    }
    match &head[8..12] {
        b"M4A " | b"M4B " | b"M4P " => Some(MediaFormat::M4a),
        b"qt  " => Some(MediaFormat::Mov),
        _ => Some(MediaFormat::Mp4),
    }
}

/// MP3 (ID3 tag or MPEG audio frame sync) or AAC in ADTS frames.
fn sniff_audio(head: &[u8]) -> Option<MediaFormat> {
    if head.starts_with(b"ID3") {
        return Some(MediaFormat::Mp3);
    }
    let [first, second, third, ..] = *head else { return None };
    if first != 0xFF || second & 0xE0 != 0xE0 {
        return None;
    }
    let version = (second >> 3) & 0b11;
    let layer = (second >> 1) & 0b11;
    if layer == 0 {
        // ADTS: MPEG-2/4 AAC; the sampling index must be a real one.
        let sampling_index = (third >> 2) & 0x0F;
        return (second & 0xF6 == 0xF0 && sampling_index < 13).then_some(MediaFormat::Aac);
    }
    let bitrate_index = third >> 4;
    let sample_rate_index = (third >> 2) & 0b11;
    let plausible = version != 0b01 && bitrate_index != 0x0F && bitrate_index != 0 && sample_rate_index != 0b11;
    plausible.then_some(MediaFormat::Mp3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut bytes = (size as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(major);
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        for brand in compatible {
            bytes.extend_from_slice(*brand);
        }
        bytes.extend_from_slice(&[0, 0, 0, 8, b'f', b'r', b'e', b'e']);
        bytes
    }

    #[test]
    fn images_by_magic_number() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 0]), Some(MediaFormat::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(MediaFormat::Png));
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Some(MediaFormat::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(MediaFormat::Webp));
    }

    #[test]
    fn iso_media_by_brand() {
        assert_eq!(sniff(&ftyp(b"isom", &[b"isom", b"avc1"])), Some(MediaFormat::Mp4));
        assert_eq!(sniff(&ftyp(b"qt  ", &[b"qt  "])), Some(MediaFormat::Mov));
        assert_eq!(sniff(&ftyp(b"M4A ", &[b"M4A ", b"mp42"])), Some(MediaFormat::M4a));
        assert_eq!(sniff(&ftyp(b"heic", &[b"mif1", b"heic"])), Some(MediaFormat::Heif));
        assert_eq!(sniff(&ftyp(b"mif1", &[b"mif1", b"avif"])), None, "avif is not accepted");
    }

    #[test]
    fn matroska_by_doctype() {
        let webm = [0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm'];
        assert_eq!(sniff(&webm), Some(MediaFormat::Webm));
        let mkv = [0x1A, 0x45, 0xDF, 0xA3, 0x42, 0x82, 0x88, b'm', b'a', b't', b'r', b'o', b's', b'k', b'a'];
        assert_eq!(sniff(&mkv), Some(MediaFormat::Mkv));
    }

    #[test]
    fn other_containers_and_audio() {
        assert_eq!(sniff(b"RIFF\0\0\0\0AVI LIST"), Some(MediaFormat::Avi));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"FLV\x01\x05\0\0\0\x09"), Some(MediaFormat::Flv));
        assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\0"), Some(MediaFormat::Mp3));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), Some(MediaFormat::Mp3));
        assert_eq!(sniff(&[0xFF, 0xF1, 0x50, 0x80]), Some(MediaFormat::Aac));
    }

    #[test]
    fn text_scripts_and_executables_are_refused() {
        assert_eq!(sniff(b"<!DOCTYPE html><script>alert(1)</script>"), None);
        assert_eq!(sniff(b"#EXTM3U\n#EXT-X-VERSION:3\nfile:///etc/passwd"), None);
        assert_eq!(sniff(b"ffconcat version 1.0\nfile /etc/passwd"), None);
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), None);
        assert_eq!(sniff(b"MZ\x90\0"), None);
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"), None);
        assert_eq!(sniff_imported(b"<!DOCTYPE html><p>saved article</p>"), Some(MediaFormat::Html), "imports only");
        assert_eq!(sniff_imported(b"<svg><script/></svg>"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(&[0xFF]), None);
    }

    #[test]
    fn truncated_headers_do_not_panic() {
        for length in 0..20 {
            let _ = sniff(&ftyp(b"isom", &[b"isom"])[..length.min(24)]);
            let _ = sniff(&b"RIFF\0\0\0\0WEBP"[..length.min(12)]);
            let _ = sniff(&[0x1A, 0x45, 0xDF, 0xA3, 0x42, 0x82][..length.min(6)]);
        }
    }

    #[test]
    fn every_format_round_trips_and_has_a_class() {
        for format in MediaFormat::ALL {
            assert_eq!(MediaFormat::parse(format.as_str()), Some(format));
            assert!(format.content_type().contains('/'));
        }
        assert_eq!(MediaFormat::Heif.class(), MediaClass::Image);
        assert_eq!(MediaFormat::M4a.class(), MediaClass::Audio);
        assert_eq!(MediaFormat::Flv.class(), MediaClass::Video);
    }
}
