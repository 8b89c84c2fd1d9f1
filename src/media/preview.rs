//! The preview rendition of a film (see `domain::preview` for when one is made): H.264 High
//! 8-bit 4:2:0 through libx264, AAC stereo 128 kb/s, the display rotation baked in, HDR
//! tone-mapped to SDR, `+faststart`, and no metadata of the original copied (no GPS, device
//! or creation tags). Runs inside `microcat-video`, like every other decode.
//!
//! The pipeline is FFmpeg's own: decoder → filter graph (scale, transpose, tone map,
//! `format=yuv420p`) → encoder → MP4 muxer, so its speed is the ffmpeg CLI's with the same
//! settings (`make bench` compares the two).

use std::path::Path;

use ffmpeg::codec::{self, Flags as CodecFlags};
use ffmpeg::format::Pixel;
use ffmpeg::format::Sample;
use ffmpeg::format::sample::Type as SampleType;
use ffmpeg::media::Type as MediaType;
use ffmpeg::util::channel_layout::ChannelLayout;
use ffmpeg::util::color::TransferCharacteristic;
use ffmpeg::util::frame::{Audio as AudioFrame, Video as VideoFrame};
use ffmpeg::{Dictionary, Packet, Rational, decoder, encoder, filter, format};
use ffmpeg_next as ffmpeg;

use super::sniff::MediaFormat;
use super::video::{self, FilmParts};
use super::{DecodeLimits, MediaFailure};
use crate::domain::preview::{PreviewSettings, preview_size};
use crate::error::codes;

/// Audio bit rate of previews.
const AUDIO_BIT_RATE: usize = 128_000;
/// Sample rates the AAC encoder takes; others are resampled to 48 kHz.
const AAC_RATES: [u32; 6] = [48_000, 44_100, 32_000, 24_000, 22_050, 16_000];
/// Undecodable packets tolerated before the file is declared broken.
const MAX_BAD_PACKETS: u32 = 64;

fn failed(context: &'static str) -> impl Fn(ffmpeg::Error) -> MediaFailure {
    move |error| MediaFailure::new(codes::DECODE_FAILED, format!("making the preview failed ({context}): {error}"))
}

/// Transcodes `input` into an MP4 preview at `output`, calling `progress` with 0–100 as the
/// film advances. The output is complete when this returns `Ok`; on `Err` it may be partial
/// and must be discarded (the worker writes into a private folder the server never serves).
pub fn make_preview(
    input: &Path,
    format: MediaFormat,
    limits: DecodeLimits,
    settings: &PreviewSettings,
    output: &Path,
    progress: &mut dyn FnMut(u8),
) -> Result<(), MediaFailure> {
    let film = video::open(input, format, limits)?.into_parts();
    let Some(video_index) = film.video_index else {
        return Err(MediaFailure::new(codes::NO_VIDEO_STREAM, "the file has no video to make a preview of"));
    };
    let mut octx = format::output_as(output, "mp4").map_err(failed("output"))?;
    let mut video = VideoLane::new(&film, video_index, settings, &mut octx)?;
    let mut audio = AudioLane::new(&film, &mut octx)?;
    let mut options = Dictionary::new();
    options.set("movflags", "+faststart");
    options.set("fflags", "+bitexact");
    octx.write_header_with(options).map_err(failed("writing the header"))?;
    video.out_time_base = octx.stream(video.out_index).map_or(video.out_time_base, |stream| stream.time_base());
    if let Some(lane) = audio.as_mut() {
        lane.out_time_base = octx.stream(lane.out_index).map_or(lane.out_time_base, |stream| stream.time_base());
    }
    let duration = film.metadata.duration_ms.unwrap_or(0) as f64 / 1000.0;
    let mut reporter = Reporter { duration, last: None, progress };
    let mut input_context = film.input;
    let mut bad_packets = 0;
    for (stream, packet) in input_context.packets() {
        let fed = if stream.index() == video_index {
            video.feed(Some(&packet), &mut octx, &mut reporter)
        } else if let Some(lane) = audio.as_mut().filter(|lane| lane.in_index == stream.index()) {
            lane.feed(Some(&packet), &mut octx)
        } else {
            Ok(())
        };
        if let Err(error) = fed {
            bad_packets += 1;
            if bad_packets > MAX_BAD_PACKETS {
                return Err(error);
            }
        }
    }
    video.feed(None, &mut octx, &mut reporter)?;
    if let Some(lane) = audio.as_mut() {
        lane.feed(None, &mut octx)?;
    }
    if video.frames == 0 {
        return Err(MediaFailure::decode("no picture could be decoded"));
    }
    octx.write_trailer().map_err(failed("finishing the file"))?;
    (reporter.progress)(100);
    Ok(())
}

/// Turns decoded timestamps into whole percentages, reported once each.
struct Reporter<'a> {
    duration: f64,
    last: Option<u8>,
    progress: &'a mut dyn FnMut(u8),
}

impl Reporter<'_> {
    fn at(&mut self, seconds: f64) {
        if self.duration <= 0.0 {
            return;
        }
        // 100 is said only when the file is finished.
        let percent = ((seconds / self.duration) * 100.0).clamp(0.0, 99.0) as u8;
        if self.last.is_none_or(|last| percent > last) {
            self.last = Some(percent);
            (self.progress)(percent);
        }
    }
}

/// Decoder, filter graph and H.264 encoder of the picture.
struct VideoLane {
    decoder: decoder::Video,
    graph: filter::Graph,
    encoder: encoder::Video,
    in_time_base: Rational,
    out_index: usize,
    out_time_base: Rational,
    frames: u64,
}

impl VideoLane {
    fn new(
        film: &FilmParts,
        index: usize,
        settings: &PreviewSettings,
        octx: &mut format::context::Output,
    ) -> Result<Self, MediaFailure> {
        let stream = film.input.stream(index).ok_or_else(|| MediaFailure::decode("video stream vanished"))?;
        let in_time_base = stream.time_base();
        let frame_rate = stream.avg_frame_rate();
        let decoder = video::open_decoder(&stream, false)?;
        let (display_width, display_height) = (film.metadata.width.unwrap_or(2), film.metadata.height.unwrap_or(2));
        let (width, height) = preview_size(display_width, display_height, settings.short_side);
        let graph = video_graph(&decoder, in_time_base, film.rotation, (width, height))?;
        let codec = encoder::find_by_name("libx264")
            .ok_or_else(|| MediaFailure::new(codes::WORKER_UNAVAILABLE, "this FFmpeg has no libx264 encoder"))?;
        let mut context =
            codec::context::Context::new_with_codec(codec).encoder().video().map_err(failed("encoder"))?;
        context.set_width(width);
        context.set_height(height);
        context.set_format(Pixel::YUV420P);
        context.set_aspect_ratio(Rational(1, 1));
        context.set_time_base(in_time_base);
        if frame_rate.numerator() > 0 && frame_rate.denominator() > 0 {
            context.set_frame_rate(Some(frame_rate));
        }
        if octx.format().flags().contains(format::Flags::GLOBAL_HEADER) {
            context.set_flags(CodecFlags::GLOBAL_HEADER);
        }
        let mut options = Dictionary::new();
        options.set("preset", &settings.preset);
        options.set("crf", &settings.crf.to_string());
        options.set("profile", "high");
        let encoder = context.open_with(options).map_err(failed("opening libx264"))?;
        let mut out_stream = octx.add_stream(codec).map_err(failed("video stream"))?;
        out_stream.set_parameters(&encoder);
        out_stream.set_time_base(in_time_base);
        let out_index = out_stream.index();
        Ok(Self { decoder, graph, encoder, in_time_base, out_index, out_time_base: in_time_base, frames: 0 })
    }

    /// Feeds one packet (or, with `None`, the end) through to the muxer.
    fn feed(
        &mut self,
        packet: Option<&Packet>,
        octx: &mut format::context::Output,
        reporter: &mut Reporter<'_>,
    ) -> Result<(), MediaFailure> {
        match packet {
            Some(packet) => self.decoder.send_packet(packet).map_err(failed("decoding video"))?,
            None => {
                let _ = self.decoder.send_eof();
            }
        }
        let mut decoded = VideoFrame::empty();
        while self.decoder.receive_frame(&mut decoded).is_ok() {
            let pts = decoded.timestamp();
            decoded.set_pts(pts);
            if let Some(pts) = pts {
                reporter.at(pts as f64 * f64::from(self.in_time_base));
            }
            push(&mut self.graph, &decoded).map_err(failed("filtering video"))?;
            self.drain_graph(octx)?;
        }
        if packet.is_none() {
            flush(&mut self.graph).map_err(failed("flushing the video filters"))?;
            self.drain_graph(octx)?;
            let _ = self.encoder.send_eof();
            self.drain_encoder(octx)?;
        }
        Ok(())
    }

    fn drain_graph(&mut self, octx: &mut format::context::Output) -> Result<(), MediaFailure> {
        let mut filtered = VideoFrame::empty();
        while pull(&mut self.graph, &mut filtered).is_ok() {
            self.encoder.send_frame(&filtered).map_err(failed("encoding video"))?;
            self.frames += 1;
            self.drain_encoder(octx)?;
        }
        Ok(())
    }

    fn drain_encoder(&mut self, octx: &mut format::context::Output) -> Result<(), MediaFailure> {
        let timing = (self.out_index, self.in_time_base, self.out_time_base);
        write_packets(&mut self.encoder, timing, octx, "writing video")
    }
}

/// Writes every packet an encoder has ready, as stream `index`, times from `from` to `to`.
fn write_packets(
    encoder: &mut ffmpeg::encoder::Encoder,
    (index, from, to): (usize, Rational, Rational),
    octx: &mut format::context::Output,
    doing: &'static str,
) -> Result<(), MediaFailure> {
    let mut encoded = Packet::empty();
    while encoder.receive_packet(&mut encoded).is_ok() {
        encoded.set_stream(index);
        encoded.rescale_ts(from, to);
        encoded.write_interleaved(octx).map_err(failed(doing))?;
    }
    Ok(())
}

// The graphs are built with an `in` and an `out`; a missing one is a bug, not a bad file.

fn push(graph: &mut filter::Graph, frame: &ffmpeg::Frame) -> Result<(), ffmpeg::Error> {
    graph.get("in").expect("the graph has an input").source().add(frame)
}

fn flush(graph: &mut filter::Graph) -> Result<(), ffmpeg::Error> {
    graph.get("in").expect("the graph has an input").source().flush()
}

fn pull(graph: &mut filter::Graph, frame: &mut ffmpeg::Frame) -> Result<(), ffmpeg::Error> {
    graph.get("out").expect("the graph has an output").sink().frame(frame)
}

/// The filters between decoder and encoder: scale in stored orientation (fewer pixels to
/// turn), turn upright, tone-map HDR to SDR, and end in 8-bit 4:2:0.
fn video_graph(
    decoder: &decoder::Video,
    time_base: Rational,
    rotation: u32,
    (width, height): (u32, u32),
) -> Result<filter::Graph, MediaFailure> {
    let (stored_width, stored_height) = if rotation % 180 == 90 { (height, width) } else { (width, height) };
    let aspect = decoder.aspect_ratio();
    let aspect = if aspect.numerator() > 0 && aspect.denominator() > 0 { aspect } else { Rational(1, 1) };
    let args = format!(
        "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}",
        decoder.width(),
        decoder.height(),
        decoder.format().descriptor().map_or("yuv420p", |descriptor| descriptor.name()),
        time_base.numerator(),
        time_base.denominator(),
        aspect.numerator(),
        aspect.denominator()
    );
    let spec = video_filters(rotation, (stored_width, stored_height), is_hdr(decoder.color_transfer_characteristic()));
    let mut graph = filter::Graph::new();
    let buffer = filter::find("buffer").ok_or_else(|| MediaFailure::decode("no buffer filter"))?;
    let buffersink = filter::find("buffersink").ok_or_else(|| MediaFailure::decode("no buffersink filter"))?;
    graph.add(&buffer, "in", &args).map_err(failed("filter input"))?;
    graph.add(&buffersink, "out", "").map_err(failed("filter output"))?;
    graph.get("out").expect("just added").set_pixel_format(Pixel::YUV420P);
    graph
        .output("in", 0)
        .and_then(|parser| parser.input("out", 0))
        .and_then(|parser| parser.parse(&spec))
        .map_err(failed("filter graph"))?;
    graph.validate().map_err(failed("filter graph"))?;
    Ok(graph)
}

fn is_hdr(transfer: TransferCharacteristic) -> bool {
    matches!(transfer, TransferCharacteristic::SMPTE2084 | TransferCharacteristic::ARIB_STD_B67)
}

/// The filter chain as FFmpeg's graph syntax.
pub fn video_filters(rotation: u32, (stored_width, stored_height): (u32, u32), hdr: bool) -> String {
    let mut chain = vec![format!("scale={stored_width}:{stored_height}:flags=bicubic")];
    match rotation {
        90 => chain.push("transpose=clock".to_owned()),
        180 => chain.push("hflip,vflip".to_owned()),
        270 => chain.push("transpose=cclock".to_owned()),
        _ => {}
    }
    if hdr {
        // PQ or HLG phone footage shown as BT.709 looks washed out: linearise, tone-map
        // (Hable keeps highlights), and re-encode as BT.709 limited range.
        chain.push(
            "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv"
                .to_owned(),
        );
    }
    chain.push("format=yuv420p".to_owned());
    chain.join(",")
}

/// Decoder, resampler and AAC encoder of the sound.
struct AudioLane {
    in_index: usize,
    decoder: decoder::Audio,
    graph: filter::Graph,
    encoder: encoder::Audio,
    out_index: usize,
    out_time_base: Rational,
}

impl AudioLane {
    /// `None` for a silent film, or one whose sound no decoder reads (the picture still counts).
    fn new(film: &FilmParts, octx: &mut format::context::Output) -> Result<Option<Self>, MediaFailure> {
        let Some(stream) = film.input.streams().best(MediaType::Audio) else { return Ok(None) };
        let Ok(decoder) =
            codec::context::Context::from_parameters(stream.parameters()).and_then(|context| context.decoder().audio())
        else {
            return Ok(None);
        };
        let rate = if AAC_RATES.contains(&decoder.rate()) { decoder.rate() } else { 48_000 };
        let codec = encoder::find(codec::Id::AAC)
            .ok_or_else(|| MediaFailure::new(codes::WORKER_UNAVAILABLE, "this FFmpeg has no AAC encoder"))?;
        let mut context =
            codec::context::Context::new_with_codec(codec).encoder().audio().map_err(failed("encoder"))?;
        context.set_rate(rate as i32);
        context.set_channel_layout(ChannelLayout::STEREO);
        context.set_channels(2);
        context.set_format(Sample::F32(SampleType::Planar));
        context.set_bit_rate(AUDIO_BIT_RATE);
        context.set_time_base(Rational(1, rate as i32));
        if octx.format().flags().contains(format::Flags::GLOBAL_HEADER) {
            context.set_flags(CodecFlags::GLOBAL_HEADER);
        }
        let encoder = context.open().map_err(failed("opening the AAC encoder"))?;
        let graph = audio_graph(&decoder, stream.time_base(), &encoder)?;
        let mut out_stream = octx.add_stream(codec).map_err(failed("audio stream"))?;
        out_stream.set_parameters(&encoder);
        out_stream.set_time_base(Rational(1, rate as i32));
        let out_index = out_stream.index();
        let out_time_base = Rational(1, rate as i32);
        Ok(Some(Self { in_index: stream.index(), decoder, graph, encoder, out_index, out_time_base }))
    }

    fn feed(&mut self, packet: Option<&Packet>, octx: &mut format::context::Output) -> Result<(), MediaFailure> {
        match packet {
            Some(packet) => self.decoder.send_packet(packet).map_err(failed("decoding audio"))?,
            None => {
                let _ = self.decoder.send_eof();
            }
        }
        let mut decoded = AudioFrame::empty();
        while self.decoder.receive_frame(&mut decoded).is_ok() {
            let pts = decoded.timestamp();
            decoded.set_pts(pts);
            push(&mut self.graph, &decoded).map_err(failed("resampling audio"))?;
            self.drain_graph(octx)?;
        }
        if packet.is_none() {
            flush(&mut self.graph).map_err(failed("flushing the audio filters"))?;
            self.drain_graph(octx)?;
            let _ = self.encoder.send_eof();
            self.drain_encoder(octx)?;
        }
        Ok(())
    }

    fn drain_graph(&mut self, octx: &mut format::context::Output) -> Result<(), MediaFailure> {
        let mut resampled = AudioFrame::empty();
        while pull(&mut self.graph, &mut resampled).is_ok() {
            self.encoder.send_frame(&resampled).map_err(failed("encoding audio"))?;
            self.drain_encoder(octx)?;
        }
        Ok(())
    }

    fn drain_encoder(&mut self, octx: &mut format::context::Output) -> Result<(), MediaFailure> {
        let timing = (self.out_index, Rational(1, self.encoder.rate() as i32), self.out_time_base);
        write_packets(&mut self.encoder, timing, octx, "writing audio")
    }
}

/// Resample to the encoder's rate, stereo, planar float, in the encoder's frame size.
fn audio_graph(
    decoder: &decoder::Audio,
    time_base: Rational,
    encoder: &encoder::Audio,
) -> Result<filter::Graph, MediaFailure> {
    let layout = match decoder.channel_layout().bits() {
        0 => ChannelLayout::default(i32::from(decoder.channels().max(1))).bits(),
        bits => bits,
    };
    let args = format!(
        "time_base={}/{}:sample_rate={}:sample_fmt={}:channel_layout=0x{layout:x}",
        time_base.numerator(),
        time_base.denominator(),
        decoder.rate(),
        decoder.format().name(),
    );
    let mut graph = filter::Graph::new();
    let abuffer = filter::find("abuffer").ok_or_else(|| MediaFailure::decode("no abuffer filter"))?;
    let abuffersink = filter::find("abuffersink").ok_or_else(|| MediaFailure::decode("no abuffersink filter"))?;
    graph.add(&abuffer, "in", &args).map_err(failed("audio filter input"))?;
    graph.add(&abuffersink, "out", "").map_err(failed("audio filter output"))?;
    {
        let mut out = graph.get("out").expect("just added");
        out.set_sample_format(encoder.format());
        out.set_channel_layout(ChannelLayout::STEREO);
        out.set_sample_rate(encoder.rate());
    }
    graph
        .output("in", 0)
        .and_then(|parser| parser.input("out", 0))
        .and_then(|parser| parser.parse("anull"))
        .map_err(failed("audio filter graph"))?;
    graph.validate().map_err(failed("audio filter graph"))?;
    graph.get("out").expect("just added").sink().set_frame_size(encoder.frame_size());
    Ok(graph)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portrait_clips_are_scaled_then_turned() {
        assert_eq!(video_filters(0, (1280, 720), false), "scale=1280:720:flags=bicubic,format=yuv420p");
        assert_eq!(
            video_filters(90, (1280, 720), false),
            "scale=1280:720:flags=bicubic,transpose=clock,format=yuv420p"
        );
        assert!(video_filters(270, (1280, 720), true).contains("transpose=cclock,zscale=t=linear"));
    }
}
