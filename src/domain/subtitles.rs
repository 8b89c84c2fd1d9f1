//! Subtitles of a film: SRT or WebVTT as editors and phones export them (UTF-8, with or
//! without a BOM, or GB18030 from Chinese Windows tools), read into cues, served as WebVTT
//! and indexed so a line of dialogue finds its film.

use serde::{Deserialize, Serialize};

/// One subtitle: a span of the film and its text (lines joined by `\n`, markup removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cue {
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
}

/// Most cues kept from one file (a feature film has ~1500).
pub const MAX_CUES: usize = 20_000;

/// The text of a subtitle file: UTF-8 (a BOM is dropped), else GB18030 (which covers GBK
/// and GB2312). `None` when it is neither.
pub fn decode(bytes: &[u8]) -> Option<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some(text.to_owned());
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    (!had_errors).then(|| text.into_owned())
}

/// `00:01:02,345`, `00:01:02.345` or `01:02.345` in milliseconds.
fn timestamp(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    let (clock, fraction) = raw.rsplit_once([',', '.'])?;
    let parts: Vec<i64> = clock.split(':').map(|part| part.trim().parse().ok()).collect::<Option<_>>()?;
    let seconds = match parts.as_slice() {
        [hours, minutes, seconds] => hours * 3600 + minutes * 60 + seconds,
        [minutes, seconds] => minutes * 60 + seconds,
        _ => return None,
    };
    let digits: String = fraction.chars().take(3).collect();
    let millis: i64 = format!("{digits:0<3}").parse().ok()?;
    Some(seconds * 1000 + millis)
}

/// Removes `<i>`, `<b>`, `{\an8}` and other markup from a cue's text.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '<' | '{' => depth += 1,
            '>' | '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

/// Reads SRT or WebVTT into cues, in file order; blocks without a valid timing line are
/// skipped. `None` when no cue is found (not subtitles).
pub fn parse(text: &str) -> Option<Vec<Cue>> {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut cues = Vec::new();
    for block in normalised.split("\n\n") {
        let mut lines = block.lines().skip_while(|line| !line.contains("-->"));
        let Some(timing) = lines.next() else { continue };
        let Some((start, rest)) = timing.split_once("-->") else { continue };
        // WebVTT settings (`line:90%`) follow the end time.
        let end = rest.split_whitespace().next().unwrap_or_default();
        let (Some(start_ms), Some(end_ms)) = (timestamp(start), timestamp(end)) else { continue };
        let text = plain(&lines.collect::<Vec<_>>().join("\n"));
        if !text.is_empty() && end_ms >= start_ms {
            cues.push(Cue { start_ms, end_ms, text });
        }
        if cues.len() >= MAX_CUES {
            break;
        }
    }
    (!cues.is_empty()).then_some(cues)
}

fn vtt_time(ms: i64) -> String {
    let ms = ms.max(0);
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// The cues as a WebVTT file (what `<track>` loads). Text that would end a cue or look like
/// markup is escaped.
pub fn to_webvtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for cue in cues {
        let text = cue.text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace("-->", "--&gt;");
        let text: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
        out.push_str(&format!("{} --> {}\n{}\n\n", vtt_time(cue.start_ms), vtt_time(cue.end_ms), text.join("\n")));
    }
    out
}

/// Whether the first bytes look like subtitles: `WEBVTT`, or an SRT block (a number, then a
/// timing line). Only ASCII is inspected, so GB18030 files are recognised too.
pub fn looks_like_subtitles(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.starts_with(b"WEBVTT") {
        return true;
    }
    // Text has no NUL: what follows one (padding, a binary tail) is not read.
    let head = &head[..head.iter().position(|byte| *byte == 0).unwrap_or(head.len())];
    let text = String::from_utf8_lossy(&head[..head.len().min(512)]);
    let mut lines = text.lines().map(str::trim).skip_while(|line| line.is_empty());
    let counter = lines.next().is_some_and(|line| !line.is_empty() && line.chars().all(|c| c.is_ascii_digit()));
    let timing = lines.next().is_some_and(|line| {
        line.split_once("-->").is_some_and(|(start, end)| {
            timestamp(start).is_some() && timestamp(end.split_whitespace().next().unwrap_or("")).is_some()
        })
    });
    counter && timing
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRT: &str = "1\r\n00:00:01,000 --> 00:00:03,500\r\n<i>请不要相信</i>陌生来电\r\n\r\n2\r\n00:00:04,000 --> 00:00:06,000\r\n{\\an8}我们是派出所的民警\r\n第二行\r\n";

    #[test]
    fn srt_and_webvtt_become_the_same_cues() {
        let cues = parse(SRT).unwrap();
        assert_eq!(cues.len(), 2);
        assert_eq!(cues[0], Cue { start_ms: 1000, end_ms: 3500, text: "请不要相信陌生来电".into() });
        assert_eq!(cues[1].text, "我们是派出所的民警\n第二行");
        let vtt = to_webvtt(&cues);
        assert!(vtt.starts_with("WEBVTT\n\n00:00:01.000 --> 00:00:03.500\n请不要相信陌生来电\n\n"), "{vtt}");
        assert_eq!(parse(&vtt).unwrap(), cues, "our WebVTT reads back");
        let with_settings = "WEBVTT\n\nNOTE made by hand\n\nintro\n01:02.5 --> 01:04.000 line:90%\n开头\n";
        assert_eq!(parse(with_settings).unwrap(), vec![Cue { start_ms: 62_500, end_ms: 64_000, text: "开头".into() }]);
        assert_eq!(parse("just some text\n\nmore"), None);
    }

    #[test]
    fn gb18030_and_bom_files_are_read() {
        let (gbk, _, _) = encoding_rs::GB18030.encode(SRT);
        assert!(std::str::from_utf8(&gbk).is_err(), "really not UTF-8");
        assert_eq!(decode(&gbk).unwrap(), SRT);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(SRT.as_bytes());
        assert_eq!(decode(&bom).unwrap(), SRT);
        assert!(looks_like_subtitles(&gbk) && looks_like_subtitles(&bom));
        assert!(looks_like_subtitles(b"WEBVTT\n\n"));
        assert!(!looks_like_subtitles(b"hello\nworld"));
        assert!(!looks_like_subtitles(b"1\nnot a timing line"));
        assert!(looks_like_subtitles(b"3\n1:3.8-->5:3.8\0\0\0\0"), "found by the fuzzer: padding keeps the verdict");
    }

    #[test]
    fn cue_text_cannot_break_out_of_its_cue() {
        let cues = vec![Cue { start_ms: 0, end_ms: 1000, text: "a --> b <script>\n\n\nc".into() }];
        let vtt = to_webvtt(&cues);
        assert!(vtt.contains("a --&gt; b &lt;script&gt;\nc\n\n"), "{vtt}");
        assert_eq!(parse(&vtt).unwrap().len(), 1);
    }
}
