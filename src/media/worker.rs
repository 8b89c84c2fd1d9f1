//! The media worker: decoding of untrusted files happens in a child process, which reads one
//! JSON request on stdin and writes one JSON outcome on stdout. The parent runs it with a
//! wall-clock timeout and an address-space limit and kills it when over either, so a decoder
//! crash, hang or memory blow-up fails one job.
//!
//! Photos go to `microcat media-worker`, films and audio to `microcat-video media-worker`: only
//! that second executable links FFmpeg, whose ~130 shared libraries took ~60 ms to load in
//! every process that started (the server, each photo job, `microcat thumbnail`).

use crate::domain::media::Derivative;
use crate::error::codes;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::sniff::{MediaClass, MediaFormat};
use super::{DecodeLimits, LARGE_EDGE, MediaFailure, MediaMetadata, SMALL_EDGE, picture};
use crate::domain::preview::PreviewSettings;

/// What to process, and where to put the results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkRequest {
    pub input: PathBuf,
    pub format: String,
    pub output_dir: PathBuf,
    pub limits: DecodeLimits,
    #[serde(default)]
    pub task: Task,
}

/// What to make of the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Metadata, thumbnails, and for films a poster and storyboard (seconds).
    #[default]
    Derivatives,
    /// A film's playable preview rendition (minutes); progress lines go to stderr.
    Preview(PreviewSettings),
}

/// The stderr line prefix of a child's progress reports (`progress 37`).
pub const PROGRESS_PREFIX: &str = "progress ";

impl WorkRequest {
    fn media_format(&self) -> Result<MediaFormat, MediaFailure> {
        MediaFormat::parse(&self.format)
            .ok_or_else(|| MediaFailure::new(codes::UNSUPPORTED_MEDIA_TYPE, "unknown format"))
    }

    /// Whether the main binary's worker takes it: photos and subtitles (films and audio need
    /// `microcat-video`).
    fn in_main_worker(&self) -> bool {
        self.media_format().is_ok_and(|format| {
            matches!(format.class(), MediaClass::Image | MediaClass::Subtitle | MediaClass::Document)
        })
    }
}

/// One produced file, by its derivative's file name (`small.jpg`, `poster.jpg` …): the
/// server adopts only names that [`Derivative::from_file_name`] knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProducedFile {
    pub name: String,
    pub file: PathBuf,
}

/// What the worker reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum WorkOutcome {
    Ready { metadata: MediaMetadata, derivatives: Vec<ProducedFile> },
    Failed { failure: MediaFailure },
}

/// What a worker makes of one file.
pub type Processed = Result<(MediaMetadata, Vec<ProducedFile>), MediaFailure>;

/// How an executable processes films: `microcat-video` passes FFmpeg's; the main binary none,
/// so that it never references (and never loads) FFmpeg.
pub type FilmProcessor = fn(&WorkRequest, MediaFormat) -> Processed;

/// Processes one file in this process (the child's body).
pub fn process(request: &WorkRequest, films: Option<FilmProcessor>) -> WorkOutcome {
    match process_inner(request, films) {
        Ok((metadata, derivatives)) => WorkOutcome::Ready { metadata, derivatives },
        Err(failure) => WorkOutcome::Failed { failure },
    }
}

fn process_inner(request: &WorkRequest, films: Option<FilmProcessor>) -> Processed {
    let format = request.media_format()?;
    match (format.class(), films) {
        (MediaClass::Image, _) => process_picture(request, format),
        (MediaClass::Subtitle, _) => process_subtitles(request),
        // Kept as it came, for download: nothing to derive.
        (MediaClass::Document, _) => Ok((MediaMetadata::default(), Vec::new())),
        (MediaClass::Video | MediaClass::Audio, Some(process_film)) => process_film(request, format),
        (MediaClass::Video | MediaClass::Audio, None) => {
            Err(MediaFailure::new(codes::WORKER_UNAVAILABLE, "films are processed by microcat-video, not this worker"))
        }
    }
}

/// Writes one derivative into the job's output folder.
pub fn write_derivative(dir: &Path, derivative: Derivative, bytes: &[u8]) -> Result<ProducedFile, MediaFailure> {
    let file = dir.join(derivative.file_name());
    std::fs::write(&file, bytes).map_err(MediaFailure::io)?;
    Ok(ProducedFile { name: derivative.file_name().to_owned(), file })
}

/// The `large` and `small` thumbnails of an upright picture.
pub fn thumbnails(dir: &Path, upright: &image::RgbImage) -> Result<Vec<ProducedFile>, MediaFailure> {
    let large = picture::resize_to_fit(upright, LARGE_EDGE)?;
    let small = picture::resize_to_fit(&large, SMALL_EDGE)?;
    Ok(vec![
        write_derivative(dir, Derivative::Large, &picture::encode_jpeg(&large)?)?,
        write_derivative(dir, Derivative::Small, &picture::encode_jpeg(&small)?)?,
    ])
}

fn process_picture(
    request: &WorkRequest,
    format: MediaFormat,
) -> Result<(MediaMetadata, Vec<ProducedFile>), MediaFailure> {
    let bytes = std::fs::read(&request.input).map_err(MediaFailure::io)?;
    let decoded = picture::decode(&bytes, format, LARGE_EDGE, request.limits)?;
    let derivatives = thumbnails(&request.output_dir, &decoded.pixels)?;
    Ok((decoded.metadata, derivatives))
}

/// Subtitles: decoded (UTF-8 or GB18030), read into cues, written as WebVTT; the cues go back
/// as the transcript that search indexes.
fn process_subtitles(request: &WorkRequest) -> Processed {
    use crate::domain::subtitles;
    let bytes = std::fs::read(&request.input).map_err(MediaFailure::io)?;
    let text =
        subtitles::decode(&bytes).ok_or_else(|| MediaFailure::decode("subtitles must be UTF-8 or GB18030 text"))?;
    let cues = subtitles::parse(&text).ok_or_else(|| MediaFailure::decode("no subtitle cue could be read"))?;
    let vtt = write_derivative(&request.output_dir, Derivative::Subtitles, subtitles::to_webvtt(&cues).as_bytes())?;
    let metadata = MediaMetadata {
        duration_ms: cues.iter().map(|cue| cue.end_ms.max(0) as u64).max(),
        transcript: Some(cues),
        ..MediaMetadata::default()
    };
    Ok((metadata, vec![vtt]))
}

/// The `media-worker` entry point of both executables: one request in, one outcome out.
pub fn run_worker_process(films: Option<FilmProcessor>) -> anyhow::Result<()> {
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)?;
    let request: WorkRequest = serde_json::from_str(&input)?;
    let outcome = process(&request, films);
    println!("{}", serde_json::to_string(&outcome)?);
    Ok(())
}

/// How the parent runs children.
#[derive(Debug, Clone)]
pub struct ChildLimits {
    /// The program run for photos and subtitles (this binary).
    pub program: PathBuf,
    /// The program run for films and audio (`microcat-video`).
    pub film_program: PathBuf,
    /// Wall-clock limit.
    pub timeout: Duration,
    /// Address-space limit, in bytes.
    pub memory_bytes: u64,
}

/// Why a child produced no outcome; these are worth a retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChildFailure {
    #[error("media worker did not finish within {0} seconds and was killed")]
    TimedOut(u64),
    #[error("media worker died: {0}")]
    Crashed(String),
    #[error("media worker could not start: {0}")]
    Spawn(String),
}

impl ChildFailure {
    /// The stable code recorded on the job.
    pub fn code(&self) -> &'static str {
        match self {
            ChildFailure::TimedOut(_) => codes::WORKER_TIMEOUT,
            ChildFailure::Crashed(_) => codes::WORKER_CRASHED,
            ChildFailure::Spawn(_) => codes::WORKER_UNAVAILABLE,
        }
    }
}

/// The film worker beside a photo worker (or beside this binary).
pub fn film_program(photo_program: &Path) -> PathBuf {
    photo_program.with_file_name("microcat-video")
}

/// Runs one request in a child process under the limits; its progress reports (previews)
/// are sent to `progress` as they come.
pub async fn run_child(
    limits: &ChildLimits,
    request: &WorkRequest,
    progress: Option<&tokio::sync::watch::Sender<u8>>,
) -> Result<WorkOutcome, ChildFailure> {
    let program = if request.in_main_worker() { &limits.program } else { &limits.film_program };
    let mut command = tokio::process::Command::new(program);
    command
        .arg("media-worker")
        .env("MALLOC_ARENA_MAX", "2")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    limit_address_space(&mut command, limits.memory_bytes);
    let mut child = command.spawn().map_err(|error| ChildFailure::Spawn(error.to_string()))?;
    let body = serde_json::to_vec(request).expect("requests serialise");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let conversation = async {
        // A child that dies early breaks these pipes; its exit status says why, so pipe
        // errors are not the story.
        let _ = stdin.write_all(&body).await;
        drop(stdin);
        let mut output = Vec::new();
        let (_, errors) = tokio::join!(stdout.read_to_end(&mut output), read_stderr(&mut stderr, progress));
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((status, output, errors))
    };
    let (status, output, errors) = match tokio::time::timeout(limits.timeout, conversation).await {
        Ok(Ok(finished)) => finished,
        Ok(Err(error)) => return Err(ChildFailure::Crashed(error.to_string())),
        Err(_) => return Err(ChildFailure::TimedOut(limits.timeout.as_secs())),
    };
    if !status.success() {
        let tail = String::from_utf8_lossy(&errors);
        let tail: String = tail.chars().rev().take(300).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(ChildFailure::Crashed(describe_exit(status, tail.trim())));
    }
    serde_json::from_slice(&output).map_err(|error| ChildFailure::Crashed(format!("unreadable outcome: {error}")))
}

/// Collects a child's stderr, passing its progress lines on instead.
async fn read_stderr(
    stderr: &mut tokio::process::ChildStderr,
    progress: Option<&tokio::sync::watch::Sender<u8>>,
) -> Vec<u8> {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    let mut kept = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let percent = line.strip_prefix(PROGRESS_PREFIX).and_then(|rest| rest.trim().parse::<u8>().ok());
        match (percent, progress) {
            (Some(percent), Some(sender)) => {
                sender.send_replace(percent.min(100));
            }
            (Some(_), None) => {}
            (None, _) => {
                kept.extend_from_slice(line.as_bytes());
                kept.push(b'\n');
            }
        }
    }
    kept
}

fn describe_exit(status: std::process::ExitStatus, stderr_tail: &str) -> String {
    use std::os::unix::process::ExitStatusExt;
    let how = match (status.code(), status.signal()) {
        (_, Some(libc::SIGKILL)) => "killed (SIGKILL, possibly out of memory)".to_owned(),
        (_, Some(signal)) => format!("killed by signal {signal}"),
        (Some(code), _) => format!("exit code {code}"),
        _ => "unknown exit".to_owned(),
    };
    if stderr_tail.is_empty() { how } else { format!("{how}: {stderr_tail}") }
}

/// Caps the child's address space before it execs: a decoder that tries to allocate beyond it
/// fails or aborts in the child alone.
fn limit_address_space(command: &mut tokio::process::Command, bytes: u64) {
    // SAFETY: the closure runs between fork and exec and only calls setrlimit, which is
    // async-signal-safe; it allocates nothing and touches no locks.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: bytes as libc::rlim_t };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(format: &str) -> WorkRequest {
        let limits = DecodeLimits { max_pixels: 1_000_000, max_duration_ms: 1000 };
        WorkRequest {
            input: "/nonexistent".into(),
            format: format.into(),
            output_dir: "/nonexistent".into(),
            limits,
            task: Task::Derivatives,
        }
    }

    #[test]
    fn films_go_to_the_film_worker_and_the_photo_worker_refuses_them() {
        assert!(request("jpeg").in_main_worker());
        assert!(!request("mp4").in_main_worker() && !request("mp3").in_main_worker());
        let WorkOutcome::Failed { failure } = process(&request("mp4"), None) else {
            panic!("a film needs microcat-video")
        };
        assert_eq!(failure.code, "worker-unavailable");
        let WorkOutcome::Failed { failure } = process(&request("jpeg"), None) else { panic!("no such file") };
        assert_ne!(failure.code, "worker-unavailable", "photos are this worker's own");
    }
}
