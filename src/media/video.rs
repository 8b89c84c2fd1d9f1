//! Films and audio through FFmpeg (ffmpeg-next): probe, a representative poster and a
//! storyboard sprite with its WebVTT map. Inputs are opened with a `file`-only protocol
//! whitelist and a demuxer allow-list chosen from the sniffed type, with stream, pixel and
//! duration limits checked before anything is decoded.

use crate::domain::media::Derivative;
use crate::error::codes;
use std::fmt::Write as _;
use std::path::Path;

use ffmpeg::codec::discard::Discard;
use ffmpeg::format::stream::Disposition;
use ffmpeg::media::Type as MediaType;
use ffmpeg::software::scaling::{Context as Scaler, Flags};
use ffmpeg::util::format::Pixel;
use ffmpeg::util::frame::Video as Frame;
use ffmpeg_next as ffmpeg;
use image::{GrayImage, RgbImage};

use super::sniff::MediaFormat;
use super::worker::{PROGRESS_PREFIX, Processed, ProducedFile, Task, WorkRequest, thumbnails, write_derivative};
use super::{DecodeLimits, LARGE_EDGE, MediaFailure, MediaMetadata};
use crate::domain::preview::PreviewSettings;

/// More streams than this is not a phone clip: refuse before probing further.
const MAX_STREAMS: u32 = 32;
/// Widest or tallest frame accepted, whatever the pixel limit.
const MAX_FRAME_EDGE: u32 = 16_384;
/// Storyboard tile width, in pixels.
pub const TILE_WIDTH: u32 = 160;
/// Most storyboard tiles.
const MAX_TILES: u32 = 100;
/// Columns of the storyboard grid.
const TILE_COLUMNS: u32 = 10;
/// A poster candidate with at least this much detail ([`luma_detail`]) is a real picture
/// and is taken without looking further: black, flat or fading frames score under 10, an
/// ordinary scene 40 and more.
const GOOD_ENOUGH_DETAIL: f64 = 30.0;
/// Read errors tolerated before a file is declared broken.
const MAX_READ_ERRORS: u32 = 64;

/// An opened, probed input.
pub struct Film {
    input: ffmpeg::format::context::Input,
    video: Option<VideoStream>,
    /// What probing found.
    pub metadata: MediaMetadata,
}

/// An opened film taken apart for a transcode.
pub(super) struct FilmParts {
    pub input: ffmpeg::format::context::Input,
    pub video_index: Option<usize>,
    /// Clockwise degrees to display upright.
    pub rotation: u32,
    pub metadata: MediaMetadata,
}

#[derive(Debug, Clone, Copy)]
struct VideoStream {
    index: usize,
    time_base: f64,
    start_pts: i64,
    coded_width: u32,
    coded_height: u32,
    rotation: u32,
}

fn ffmpeg_failure(context: &str) -> impl Fn(ffmpeg::Error) -> MediaFailure + '_ {
    move |error| MediaFailure::decode(format!("{context}: {error}"))
}

/// Opens a file with the demuxers allowed for its sniffed format, and probes it.
pub fn open(path: &Path, format: MediaFormat, limits: DecodeLimits) -> Result<Film, MediaFailure> {
    ffmpeg::init().map_err(ffmpeg_failure("ffmpeg init"))?;
    ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Fatal);
    let mut options = ffmpeg::Dictionary::new();
    options.set("protocol_whitelist", "file");
    options.set("format_whitelist", format.demuxers());
    options.set("probesize", "20000000");
    options.set("analyzeduration", "20000000");
    let input = ffmpeg::format::input_with_dictionary(path, options)
        .map_err(|error| MediaFailure::decode(format!("not a readable {} file ({error})", format.as_str())))?;
    if input.nb_streams() > MAX_STREAMS {
        let message = format!("{} streams exceed the limit of {MAX_STREAMS}", input.nb_streams());
        return Err(MediaFailure::new(codes::TOO_MANY_STREAMS, message));
    }
    let mut film = Film { input, video: None, metadata: MediaMetadata::default() };
    film.probe(limits)?;
    Ok(film)
}

impl Film {
    fn probe(&mut self, limits: DecodeLimits) -> Result<(), MediaFailure> {
        let duration = self.input.duration();
        if duration > 0 {
            self.metadata.duration_ms = Some((duration as u64) / 1000);
        }
        if self.input.bit_rate() > 0 {
            self.metadata.bitrate = Some(self.input.bit_rate() as u64);
        }
        if let Some(audio) = self.input.streams().best(MediaType::Audio) {
            self.metadata.audio_codec = Some(audio.parameters().id().name().to_owned());
        }
        let video = self
            .input
            .streams()
            .best(MediaType::Video)
            .filter(|stream| !stream.disposition().contains(Disposition::ATTACHED_PIC));
        if let Some(stream) = video {
            let decoder = open_decoder(&stream, false)?;
            let (coded_width, coded_height) = (decoder.width(), decoder.height());
            let rotation = rotation_of(&stream);
            let rate = stream.avg_frame_rate();
            let time_base = f64::from(stream.time_base());
            self.metadata.video_codec = Some(stream.parameters().id().name().to_owned());
            self.metadata.pixel_format = decoder.format().descriptor().map(|descriptor| descriptor.name().to_owned());
            self.metadata.frame_rate =
                (rate.numerator() > 0 && rate.denominator() > 0).then(|| round3(f64::from(rate)));
            self.metadata.rotation = Some(rotation);
            let (width, height) =
                if rotation % 180 == 90 { (coded_height, coded_width) } else { (coded_width, coded_height) };
            self.metadata.width = Some(width);
            self.metadata.height = Some(height);
            let start_pts = if stream.start_time() == ffmpeg::ffi::AV_NOPTS_VALUE { 0 } else { stream.start_time() };
            self.video =
                Some(VideoStream { index: stream.index(), time_base, start_pts, coded_width, coded_height, rotation });
        }
        self.check_limits(limits)
    }

    fn check_limits(&self, limits: DecodeLimits) -> Result<(), MediaFailure> {
        let is_video = self.video.is_some();
        if let Some(duration_ms) = self.metadata.duration_ms.filter(|duration| *duration > limits.max_duration_ms) {
            let code = if is_video { codes::VIDEO_TOO_LONG } else { codes::AUDIO_TOO_LONG };
            let message = format!("duration {} exceeds the limit of {}", hms(duration_ms), hms(limits.max_duration_ms));
            return Err(MediaFailure::new(code, message));
        }
        if let Some(video) = self.video {
            let (width, height) = (video.coded_width, video.coded_height);
            let pixels = u64::from(width) * u64::from(height);
            if width > MAX_FRAME_EDGE || height > MAX_FRAME_EDGE || pixels > limits.max_pixels {
                let message = format!(
                    "frame {width}x{height} exceeds the limit of {MAX_FRAME_EDGE} pixels a side and {} megapixels",
                    limits.max_pixels / 1_000_000
                );
                return Err(MediaFailure::new(codes::VIDEO_FRAME_TOO_LARGE, message));
            }
            if width == 0 || height == 0 {
                return Err(MediaFailure::decode("the video stream has no frame size"));
            }
        } else if self.metadata.audio_codec.is_none() {
            return Err(MediaFailure::new(codes::NO_MEDIA_STREAMS, "the file has neither video nor audio"));
        }
        Ok(())
    }

    /// The opened input and what probing found, for a transcode.
    pub(super) fn into_parts(self) -> FilmParts {
        let (video_index, rotation) = self.video.map_or((None, 0), |video| (Some(video.index), video.rotation));
        FilmParts { input: self.input, video_index, rotation, metadata: self.metadata }
    }

    /// Whether there is a video stream to draw pictures from.
    pub fn has_video(&self) -> bool {
        self.video.is_some()
    }

    fn duration_secs(&self) -> f64 {
        self.metadata.duration_ms.map_or(0.0, |ms| ms as f64 / 1000.0)
    }

    /// The first of a few keyframes from ~10% of the film that shows a real picture (else the
    /// most detailed of them), upright, fit in `edge`. A black or fading first frame is never
    /// chosen over a real picture; a detailed one is taken at once, so a typical film costs
    /// one keyframe decode, like `ffmpeg -ss`.
    pub fn poster(&mut self, edge: u32) -> Result<RgbImage, MediaFailure> {
        let video = self
            .video
            .ok_or_else(|| MediaFailure::new(codes::NO_VIDEO_STREAM, "the file has no video to take a poster from"))?;
        let duration = self.duration_secs();
        let candidates: Vec<f64> =
            if duration >= 1.0 { [0.1, 0.3, 0.5, 0.7].iter().map(|part| part * duration).collect() } else { vec![0.0] };
        let mut cursor = FrameCursor::new(&mut self.input, video, true)?;
        let mut best: Option<(f64, Frame)> = None;
        for at in candidates {
            let Some(frame) = cursor.frame_at(at)? else { continue };
            let score = detail_score(&frame)?;
            if best.as_ref().is_none_or(|(best_score, _)| score > *best_score) {
                best = Some((score, frame));
            }
            if score >= GOOD_ENOUGH_DETAIL {
                break;
            }
        }
        let (_, frame) = best.ok_or_else(|| MediaFailure::decode("no picture could be decoded"))?;
        picture_of(&frame, video.rotation, edge)
    }

    /// A sprite of frames at even intervals (10 columns) and the WebVTT cues mapping each
    /// time range to its tile of `sprite_name`.
    pub fn storyboard(&mut self, sprite_name: &str) -> Result<(RgbImage, String), MediaFailure> {
        let video = self
            .video
            .ok_or_else(|| MediaFailure::new(codes::NO_VIDEO_STREAM, "the file has no video for a storyboard"))?;
        let duration = self.duration_secs().max(0.001);
        let count = ((duration / 2.0).ceil() as u32).clamp(1, MAX_TILES);
        let interval = duration / f64::from(count);
        let (display_width, display_height) = (self.metadata.width.unwrap_or(1), self.metadata.height.unwrap_or(1));
        let tile_height = ((u64::from(TILE_WIDTH) * u64::from(display_height) / u64::from(display_width.max(1)))
            as u32)
            .clamp(2, 4 * TILE_WIDTH)
            & !1;
        let columns = count.min(TILE_COLUMNS);
        let rows = count.div_ceil(columns);
        let mut sheet = RgbImage::new(columns * TILE_WIDTH, rows * tile_height);
        let mut vtt = String::from("WEBVTT\n\n");
        let mut cursor = FrameCursor::new(&mut self.input, video, false)?;
        let mut last_tile: Option<RgbImage> = None;
        for tile_index in 0..count {
            let start = f64::from(tile_index) * interval;
            let tile = match cursor.frame_at(start + interval / 2.0)? {
                Some(frame) => scaled_upright(&frame, video.rotation, TILE_WIDTH, tile_height)?,
                None => last_tile.clone().unwrap_or_else(|| RgbImage::new(TILE_WIDTH, tile_height)),
            };
            let (x, y) = ((tile_index % columns) * TILE_WIDTH, (tile_index / columns) * tile_height);
            image::imageops::replace(&mut sheet, &tile, i64::from(x), i64::from(y));
            last_tile = Some(tile);
            let end = (start + interval).min(duration);
            let _ = write!(
                vtt,
                "{} --> {}\n{sprite_name}#xywh={x},{y},{TILE_WIDTH},{tile_height}\n\n",
                vtt_time(start),
                vtt_time(end)
            );
        }
        Ok((sheet, vtt))
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn hms(ms: u64) -> String {
    let seconds = ms / 1000;
    format!("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

fn vtt_time(seconds: f64) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// A decoder for a stream; `keyframes_only` skips every other frame (fast poster candidates).
pub(super) fn open_decoder(
    stream: &ffmpeg::format::stream::Stream,
    keyframes_only: bool,
) -> Result<ffmpeg::decoder::Video, MediaFailure> {
    let mut context = ffmpeg::codec::context::Context::from_parameters(stream.parameters())
        .map_err(ffmpeg_failure("decoder parameters"))?;
    if !keyframes_only {
        // Decoding a whole film for the storyboard: use every core, as the ffmpeg CLI does.
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        context.set_threading(ffmpeg::codec::threading::Config {
            kind: ffmpeg::codec::threading::Type::Frame,
            count: threads,
            ..Default::default()
        });
    }
    let mut decoder = context.decoder();
    if keyframes_only {
        decoder.skip_frame(Discard::NonKey);
    }
    decoder.video().map_err(|error| {
        MediaFailure::new(
            codes::UNSUPPORTED_CODEC,
            format!("no decoder for {}: {error}", stream.parameters().id().name()),
        )
    })
}

/// Clockwise degrees (0, 90, 180, 270) from the stream's display matrix, as FFmpeg's own
/// tools read it.
fn rotation_of(stream: &ffmpeg::format::stream::Stream) -> u32 {
    stream
        .side_data()
        .find(|data| data.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix)
        .map_or(0, |data| rotation_from_matrix(data.data()))
}

/// Reads a 3×3 16.16 fixed-point display matrix (native-endian `i32`s).
pub fn rotation_from_matrix(bytes: &[u8]) -> u32 {
    if bytes.len() < 36 {
        return 0;
    }
    let at = |index: usize| {
        f64::from(i32::from_ne_bytes(bytes[index * 4..index * 4 + 4].try_into().expect("four bytes"))) / 65536.0
    };
    let (scale_x, scale_y) = (at(0).hypot(at(3)), at(1).hypot(at(4)));
    if scale_x == 0.0 || scale_y == 0.0 {
        return 0;
    }
    let degrees = (at(1) / scale_y).atan2(at(0) / scale_x).to_degrees();
    let quarter_turns = (degrees / 90.0).round() as i64;
    (quarter_turns.rem_euclid(4) * 90) as u32
}

/// Walks a video stream: seeks when the wanted time is far ahead, decodes forward otherwise.
struct FrameCursor<'a> {
    input: &'a mut ffmpeg::format::context::Input,
    video: VideoStream,
    decoder: ffmpeg::decoder::Video,
    keyframes_only: bool,
    last_pts: Option<i64>,
}

/// How far ahead (seconds) decoding forward beats seeking.
const FORWARD_WINDOW_SECS: f64 = 4.0;

impl<'a> FrameCursor<'a> {
    fn new(
        input: &'a mut ffmpeg::format::context::Input,
        video: VideoStream,
        keyframes_only: bool,
    ) -> Result<Self, MediaFailure> {
        let stream = input.stream(video.index).ok_or_else(|| MediaFailure::decode("video stream vanished"))?;
        let decoder = open_decoder(&stream, keyframes_only)?;
        Ok(Self { input, video, decoder, keyframes_only, last_pts: None })
    }

    fn pts_of(&self, seconds: f64) -> i64 {
        self.video.start_pts + (seconds / self.video.time_base) as i64
    }

    /// The first frame at or after `seconds` (or, for keyframes, the keyframe at or before).
    fn frame_at(&mut self, seconds: f64) -> Result<Option<Frame>, MediaFailure> {
        let target = self.pts_of(seconds);
        let window = (FORWARD_WINDOW_SECS / self.video.time_base) as i64;
        let close_ahead = self.last_pts.is_some_and(|last| last <= target && target - last <= window);
        if self.keyframes_only || !close_ahead {
            let micros = (seconds * 1_000_000.0) as i64;
            if self.input.seek(micros, ..micros).is_ok() {
                self.decoder.flush();
            }
        }
        self.decode_until(target)
    }

    fn decode_until(&mut self, target: i64) -> Result<Option<Frame>, MediaFailure> {
        let mut frame = Frame::empty();
        let mut packet = ffmpeg::Packet::empty();
        let mut errors = 0;
        loop {
            match packet.read(self.input) {
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => break,
                Err(_) if errors < MAX_READ_ERRORS => {
                    errors += 1;
                    continue;
                }
                Err(error) => return Err(MediaFailure::decode(format!("reading packets: {error}"))),
            }
            if packet.stream() != self.video.index {
                continue;
            }
            if self.decoder.send_packet(&packet).is_err() {
                errors += 1;
                if errors > MAX_READ_ERRORS {
                    return Err(MediaFailure::decode("too many undecodable packets"));
                }
                continue;
            }
            while self.decoder.receive_frame(&mut frame).is_ok() {
                let pts = frame.timestamp().unwrap_or(target);
                self.last_pts = Some(pts);
                if self.keyframes_only || pts >= target {
                    return Ok(Some(frame));
                }
            }
        }
        let _ = self.decoder.send_eof();
        let found = self.decoder.receive_frame(&mut frame).is_ok().then_some(frame);
        Ok(found)
    }
}

/// Converts a frame to packed pixels of `format` at `width`×`height`.
fn convert(frame: &Frame, format: Pixel, width: u32, height: u32) -> Result<Frame, MediaFailure> {
    let mut scaler = Scaler::get(frame.format(), frame.width(), frame.height(), format, width, height, Flags::BILINEAR)
        .map_err(ffmpeg_failure("scaler"))?;
    let mut converted = Frame::empty();
    scaler.run(frame, &mut converted).map_err(ffmpeg_failure("scaling"))?;
    Ok(converted)
}

fn packed_rows(frame: &Frame, bytes_per_pixel: usize) -> Vec<u8> {
    let (width, height, stride) = (frame.width() as usize, frame.height() as usize, frame.stride(0));
    let data = frame.data(0);
    let mut packed = Vec::with_capacity(width * height * bytes_per_pixel);
    for row in 0..height {
        packed.extend_from_slice(&data[row * stride..row * stride + width * bytes_per_pixel]);
    }
    packed
}

/// How much is going on in a frame: luma spread plus mean gradient on a 96 px sketch. Black,
/// flat or faded frames score near zero.
fn detail_score(frame: &Frame) -> Result<f64, MediaFailure> {
    let width = 96u32;
    let height =
        ((u64::from(width) * u64::from(frame.height()) / u64::from(frame.width().max(1))) as u32).clamp(2, 192);
    let gray = convert(frame, Pixel::GRAY8, width, height)?;
    let sketch =
        GrayImage::from_raw(width, height, packed_rows(&gray, 1)).ok_or_else(|| MediaFailure::decode("sketch size"))?;
    Ok(luma_detail(&sketch))
}

/// Standard deviation plus mean absolute horizontal gradient of a grayscale image.
pub fn luma_detail(image: &GrayImage) -> f64 {
    let values: Vec<f64> = image.pixels().map(|pixel| f64::from(pixel.0[0])).collect();
    let count = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / count;
    let spread = (values.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / count).sqrt();
    let gradient: f64 = image
        .rows()
        .flat_map(|row| {
            row.collect::<Vec<_>>()
                .windows(2)
                .map(|pair| (f64::from(pair[0].0[0]) - f64::from(pair[1].0[0])).abs())
                .collect::<Vec<_>>()
        })
        .sum();
    spread + gradient / count
}

/// A frame as upright RGB fitting `edge` on its long side.
fn picture_of(frame: &Frame, rotation: u32, edge: u32) -> Result<RgbImage, MediaFailure> {
    let (display_width, display_height) =
        if rotation % 180 == 90 { (frame.height(), frame.width()) } else { (frame.width(), frame.height()) };
    let (width, height) = super::picture::fit(display_width, display_height, edge);
    scaled_upright(frame, rotation, width, height)
}

/// Scales (in the frame's stored orientation) and then turns the frame upright.
fn scaled_upright(frame: &Frame, rotation: u32, width: u32, height: u32) -> Result<RgbImage, MediaFailure> {
    let (stored_width, stored_height) = if rotation % 180 == 90 { (height, width) } else { (width, height) };
    let rgb = convert(frame, Pixel::RGB24, stored_width, stored_height)?;
    let image = RgbImage::from_raw(stored_width, stored_height, packed_rows(&rgb, 3))
        .ok_or_else(|| MediaFailure::decode("frame size"))?;
    Ok(match rotation {
        90 => image::imageops::rotate90(&image),
        180 => image::imageops::rotate180(&image),
        270 => image::imageops::rotate270(&image),
        _ => image,
    })
}

/// A film job in `microcat-video media-worker`: metadata, poster, thumbnails of the poster,
/// storyboard (audio has metadata only).
pub fn process_film(request: &WorkRequest, format: MediaFormat) -> Processed {
    if let Task::Preview(settings) = &request.task {
        return preview_in_worker(request, format, settings);
    }
    let mut film = open(&request.input, format, request.limits)?;
    if !film.has_video() {
        return Ok((film.metadata.clone(), Vec::new()));
    }
    let poster = film.poster(LARGE_EDGE)?;
    let folder = &request.output_dir;
    let mut derivatives = vec![write_derivative(folder, Derivative::Poster, &super::picture::encode_jpeg(&poster)?)?];
    derivatives.extend(thumbnails(folder, &poster)?);
    let (sheet, vtt) = film.storyboard(Derivative::StoryboardImage.file_name())?;
    derivatives.push(write_derivative(folder, Derivative::StoryboardImage, &super::picture::encode_jpeg(&sheet)?)?);
    derivatives.push(write_derivative(folder, Derivative::StoryboardVtt, vtt.as_bytes())?);
    Ok((film.metadata.clone(), derivatives))
}

/// A preview job in `microcat-video media-worker`: the rendition, with progress on stderr.
fn preview_in_worker(request: &WorkRequest, format: MediaFormat, settings: &PreviewSettings) -> Processed {
    let output = request.output_dir.join(Derivative::Preview.file_name());
    let mut report = |percent: u8| eprintln!("{PROGRESS_PREFIX}{percent}");
    super::preview::make_preview(&request.input, format, request.limits, settings, &output, &mut report)?;
    let metadata = open(&request.input, format, request.limits)?.metadata;
    let produced = ProducedFile { name: Derivative::Preview.file_name().to_owned(), file: output };
    Ok((metadata, vec![produced]))
}

/// The one-shot `microcat preview` path: film in, MP4 preview out, progress on stderr.
pub fn preview_file(
    input: &Path,
    output: &Path,
    settings: &PreviewSettings,
    limits: DecodeLimits,
    progress: &mut dyn FnMut(u8),
) -> Result<(), MediaFailure> {
    let format = sniff_file(input)?;
    super::preview::make_preview(input, format, limits, settings, output, progress)
}

/// The one-shot `microcat poster` path: film in, JPEG poster out.
pub fn poster_file(input: &Path, output: &Path, size: u32, limits: DecodeLimits) -> Result<(), MediaFailure> {
    let format = sniff_file(input)?;
    let mut film = open(input, format, limits)?;
    let poster = film.poster(size)?;
    std::fs::write(output, super::picture::encode_jpeg(&poster)?).map_err(MediaFailure::io)
}

/// Sniffs a file on disk from its first bytes.
pub fn sniff_file(path: &Path) -> Result<MediaFormat, MediaFailure> {
    use std::io::Read;
    let mut head = Vec::with_capacity(super::sniff::SNIFF_LEN);
    std::fs::File::open(path)
        .map_err(MediaFailure::io)?
        .take(super::sniff::SNIFF_LEN as u64)
        .read_to_end(&mut head)
        .map_err(MediaFailure::io)?;
    super::sniff::sniff(&head).ok_or_else(|| {
        MediaFailure::new(
            codes::UNSUPPORTED_MEDIA_TYPE,
            format!("not a supported file; accepted: {}", super::sniff::ACCEPTED),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(values: [i32; 9]) -> Vec<u8> {
        values.iter().flat_map(|value| value.to_ne_bytes()).collect()
    }

    #[test]
    fn display_matrices_give_clockwise_quarter_turns() {
        let one = 1 << 16;
        assert_eq!(rotation_from_matrix(&matrix([one, 0, 0, 0, one, 0, 0, 0, 1 << 30])), 0);
        assert_eq!(rotation_from_matrix(&matrix([0, one, 0, -one, 0, 0, 0, 0, 1 << 30])), 90);
        assert_eq!(rotation_from_matrix(&matrix([-one, 0, 0, 0, -one, 0, 0, 0, 1 << 30])), 180);
        assert_eq!(rotation_from_matrix(&matrix([0, -one, 0, one, 0, 0, 0, 0, 1 << 30])), 270);
        assert_eq!(rotation_from_matrix(&[1, 2, 3]), 0);
    }

    #[test]
    fn vtt_times_are_zero_padded() {
        assert_eq!(vtt_time(0.0), "00:00:00.000");
        assert_eq!(vtt_time(3723.5), "01:02:03.500");
    }

    #[test]
    fn black_frames_have_no_detail() {
        let black = GrayImage::new(96, 54);
        let busy = GrayImage::from_fn(96, 54, |x, y| image::Luma([((x * 37 + y * 91) % 256) as u8]));
        assert!(luma_detail(&black) < 0.001);
        assert!(luma_detail(&busy) > 10.0);
    }
}
