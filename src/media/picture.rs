//! Photos: decode (JPEG with libjpeg-turbo's DCT scaling, so a 12 MP photo is read at the
//! size it is needed), apply EXIF orientation, resize with a SIMD resizer, encode JPEG. Only
//! pixels reach the derivatives: GPS and other EXIF are never copied.

use crate::error::codes;
use std::io::Cursor;

use fast_image_resize::images::Image as ResizeImage;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use super::sniff::MediaFormat;
use super::{DecodeLimits, JPEG_QUALITY, MediaFailure, MediaMetadata};

/// Largest allocation a decoder may make, in bytes.
const MAX_DECODE_ALLOC: u64 = 1536 * 1024 * 1024;

/// EXIF facts we keep.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExifFacts {
    pub orientation: u8,
    pub taken_at: Option<String>,
    pub camera: Option<String>,
    /// GPS latitude and longitude are both present.
    pub gps: bool,
}

/// Reads orientation, capture time and camera from EXIF, if present.
pub fn read_exif(bytes: &[u8]) -> ExifFacts {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return ExifFacts { orientation: 1, ..ExifFacts::default() };
    };
    let text = |tag| {
        exif.get_field(tag, exif::In::PRIMARY)
            .map(|field| field.display_value().to_string().trim_matches('"').trim().to_owned())
    };
    let orientation = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|field| field.value.get_uint(0))
        .and_then(|value| u8::try_from(value).ok())
        .filter(|value| (1..=8).contains(value))
        .unwrap_or(1);
    let camera = match (text(exif::Tag::Make), text(exif::Tag::Model)) {
        (Some(make), Some(model)) if model.starts_with(&make) => Some(model),
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => make.or(model),
    }
    .filter(|name| !name.is_empty());
    let has = |tag| exif.get_field(tag, exif::In::PRIMARY).is_some();
    let gps = has(exif::Tag::GPSLatitude) && has(exif::Tag::GPSLongitude);
    let taken_at = text(exif::Tag::DateTimeOriginal).or_else(|| text(exif::Tag::DateTime));
    ExifFacts { orientation, taken_at, camera, gps }
}

/// A decoded, upright photo and what we learned about it.
#[derive(Debug)]
pub struct Picture {
    /// Upright pixels, possibly already shrunk on load.
    pub pixels: RgbImage,
    pub metadata: MediaMetadata,
}

/// Decodes a photo at no less than `needed_edge` pixels on its long side (when the source is
/// larger), upright, refusing images over the pixel limit before allocating them.
pub fn decode(
    bytes: &[u8],
    format: MediaFormat,
    needed_edge: u32,
    limits: DecodeLimits,
) -> Result<Picture, MediaFailure> {
    let exif = if matches!(format, MediaFormat::Jpeg | MediaFormat::Webp | MediaFormat::Png | MediaFormat::Heif) {
        read_exif(bytes)
    } else {
        ExifFacts::default()
    };
    let (pixels, width, height, decoder_orientation) = match format {
        MediaFormat::Jpeg => match decode_jpeg_scaled(bytes, needed_edge, limits) {
            Ok((pixels, width, height)) => (pixels, width, height, None),
            Err(failure) if failure.code == codes::IMAGE_TOO_LARGE => return Err(failure),
            Err(_) => decode_generic(bytes, ImageFormat::Jpeg, limits)?,
        },
        MediaFormat::Png => decode_generic(bytes, ImageFormat::Png, limits)?,
        MediaFormat::Gif => decode_generic(bytes, ImageFormat::Gif, limits)?,
        MediaFormat::Webp => decode_generic(bytes, ImageFormat::WebP, limits)?,
        MediaFormat::Heif => decode_heif(bytes, limits)?,
        other => {
            return Err(MediaFailure::new(
                codes::UNSUPPORTED_MEDIA_TYPE,
                format!("{} photos cannot be decoded here", other.as_str()),
            ));
        }
    };
    let orientation = decoder_orientation
        .unwrap_or_else(|| Orientation::from_exif(exif.orientation).unwrap_or(Orientation::NoTransforms));
    let mut upright = DynamicImage::ImageRgb8(pixels);
    upright.apply_orientation(orientation);
    let turned = matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    );
    let (width, height) = if turned { (height, width) } else { (width, height) };
    let metadata = MediaMetadata {
        width: Some(width),
        height: Some(height),
        rotation: Some(0),
        taken_at: exif.taken_at,
        gps: Some(exif.gps),
        camera: exif.camera,
        ..MediaMetadata::default()
    };
    Ok(Picture { pixels: upright.into_rgb8(), metadata })
}

fn check_pixels(width: u32, height: u32, limits: DecodeLimits) -> Result<(), MediaFailure> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(MediaFailure::too_many_pixels(width.into(), height.into(), limits.max_pixels));
    }
    if width == 0 || height == 0 {
        return Err(MediaFailure::decode("the image has no pixels"));
    }
    Ok(())
}

/// The smallest k/8 scale whose long edge still covers `needed_edge`.
fn dct_scale(width: u32, height: u32, needed_edge: u32) -> u32 {
    let long_edge = width.max(height);
    (1..=8).find(|eighths| long_edge.div_ceil(8) * eighths >= needed_edge).unwrap_or(8)
}

/// libjpeg-turbo decode with DCT scaling; returns the full-size dimensions too.
fn decode_jpeg_scaled(
    bytes: &[u8],
    needed_edge: u32,
    limits: DecodeLimits,
) -> Result<(RgbImage, u32, u32), MediaFailure> {
    let mut decompressor = turbojpeg::Decompressor::new().map_err(MediaFailure::decode)?;
    let header = decompressor.read_header(bytes).map_err(MediaFailure::decode)?;
    let (full_width, full_height) = (header.width as u32, header.height as u32);
    check_pixels(full_width, full_height, limits)?;
    let eighths = dct_scale(full_width, full_height, needed_edge);
    let width = (full_width * eighths).div_ceil(8) as usize;
    let height = (full_height * eighths).div_ceil(8) as usize;
    let mut pixels = vec![0u8; width * height * 3];
    let output = turbojpeg::Image {
        pixels: pixels.as_mut_slice(),
        width,
        pitch: width * 3,
        height,
        format: turbojpeg::PixelFormat::RGB,
    };
    decompressor.decompress(bytes, output).map_err(MediaFailure::decode)?;
    let image = RgbImage::from_raw(width as u32, height as u32, pixels)
        .ok_or_else(|| MediaFailure::decode("buffer size mismatch"))?;
    Ok((image, full_width, full_height))
}

/// HEIC through libheif, which already turns the picture upright (HEIF's own rotation boxes
/// rule; an EXIF orientation inside a HEIC file is informational and must not be applied again).
fn decode_heif(bytes: &[u8], limits: DecodeLimits) -> Result<(RgbImage, u32, u32, Option<Orientation>), MediaFailure> {
    let image = super::heif::decode(bytes, 1 << 16, |width, height| check_pixels(width, height, limits))?;
    let (width, height) = image.dimensions();
    Ok((image, width, height, Some(Orientation::NoTransforms)))
}

/// Any other format through `image`, with its allocation limits set.
fn decode_generic(
    bytes: &[u8],
    format: ImageFormat,
    limits: DecodeLimits,
) -> Result<(RgbImage, u32, u32, Option<Orientation>), MediaFailure> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(map_image_error)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    let orientation = decoder.orientation().ok();
    let image = DynamicImage::from_decoder(decoder).map_err(map_image_error)?;
    Ok((image.into_rgb8(), width, height, orientation))
}

fn map_image_error(error: image::ImageError) -> MediaFailure {
    match error {
        image::ImageError::Limits(limit) => {
            MediaFailure::new(codes::IMAGE_TOO_LARGE, format!("decoding would exceed a memory limit: {limit}"))
        }
        other => MediaFailure::decode(other),
    }
}

/// Dimensions that fit `long_edge` on the longer side, keeping the aspect ratio; never larger
/// than the source.
pub fn fit(width: u32, height: u32, long_edge: u32) -> (u32, u32) {
    if width.max(height) <= long_edge {
        return (width.max(1), height.max(1));
    }
    if width >= height {
        (
            long_edge,
            ((u64::from(height) * u64::from(long_edge) + u64::from(width) / 2) / u64::from(width)).max(1) as u32,
        )
    } else {
        (
            ((u64::from(width) * u64::from(long_edge) + u64::from(height) / 2) / u64::from(height)).max(1) as u32,
            long_edge,
        )
    }
}

/// Shrinks to fit `long_edge` (Catmull-Rom, SIMD).
pub fn resize_to_fit(source: &RgbImage, long_edge: u32) -> Result<RgbImage, MediaFailure> {
    let (width, height) = fit(source.width(), source.height(), long_edge);
    if (width, height) == source.dimensions() {
        return Ok(source.clone());
    }
    let view = ResizeImage::from_vec_u8(source.width(), source.height(), source.as_raw().clone(), PixelType::U8x3)
        .map_err(|error| MediaFailure::decode(format!("resize source: {error}")))?;
    let mut target = ResizeImage::new(width, height, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
    Resizer::new()
        .resize(&view, &mut target, &options)
        .map_err(|error| MediaFailure::decode(format!("resize: {error}")))?;
    RgbImage::from_raw(width, height, target.into_vec()).ok_or_else(|| MediaFailure::decode("resize buffer mismatch"))
}

/// Encodes RGB pixels as a baseline JPEG (no metadata).
pub fn encode_jpeg(image: &RgbImage) -> Result<Vec<u8>, MediaFailure> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let view = turbojpeg::Image {
        pixels: image.as_raw().as_slice(),
        width,
        pitch: width * 3,
        height,
        format: turbojpeg::PixelFormat::RGB,
    };
    turbojpeg::compress(view, JPEG_QUALITY, turbojpeg::Subsamp::Sub2x2)
        .map(|buffer| buffer.to_vec())
        .map_err(|error| MediaFailure::new(codes::ENCODE_FAILED, format!("jpeg encoding failed: {error}")))
}

/// The one-shot `microcat thumbnail` path: file in, JPEG thumbnail out.
pub fn thumbnail_file(
    input: &std::path::Path,
    output: &std::path::Path,
    size: u32,
    limits: DecodeLimits,
) -> Result<(), MediaFailure> {
    let bytes = std::fs::read(input).map_err(MediaFailure::io)?;
    let format = super::sniff::sniff(&bytes).filter(|format| format.class() == super::sniff::MediaClass::Image);
    let format =
        format.ok_or_else(|| MediaFailure::new(codes::UNSUPPORTED_MEDIA_TYPE, "the input is not a supported image"))?;
    let picture = decode(&bytes, format, size, limits)?;
    let thumbnail = resize_to_fit(&picture.pixels, size)?;
    std::fs::write(output, encode_jpeg(&thumbnail)?).map_err(MediaFailure::io)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DecodeLimits = DecodeLimits { max_pixels: 100_000_000, max_duration_ms: 3 * 3600 * 1000 };

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
        });
        encode_jpeg(&image).unwrap()
    }

    #[test]
    fn fit_keeps_aspect_and_never_enlarges() {
        assert_eq!(fit(4000, 3000, 320), (320, 240));
        assert_eq!(fit(1080, 1920, 320), (180, 320));
        assert_eq!(fit(100, 50, 320), (100, 50));
        assert_eq!(fit(10_000, 1, 320), (320, 1));
    }

    #[test]
    fn dct_scale_covers_the_needed_edge() {
        assert_eq!(dct_scale(4000, 3000, 320), 1);
        assert_eq!(dct_scale(4000, 3000, 1280), 3);
        assert_eq!(dct_scale(800, 600, 1280), 8);
    }

    #[test]
    fn jpeg_is_shrunk_on_load_and_keeps_full_dimensions_in_metadata() {
        let picture = decode(&jpeg(1600, 1200), MediaFormat::Jpeg, 320, LIMITS).unwrap();
        assert_eq!(picture.pixels.dimensions(), (400, 300));
        assert_eq!((picture.metadata.width, picture.metadata.height), (Some(1600), Some(1200)));
        let thumbnail = resize_to_fit(&picture.pixels, 320).unwrap();
        assert_eq!(thumbnail.dimensions(), (320, 240));
    }

    #[test]
    fn pixel_limit_is_checked_before_decoding() {
        let tight = DecodeLimits { max_pixels: 1_000_000, ..LIMITS };
        let failure = decode(&jpeg(1600, 1200), MediaFormat::Jpeg, 320, tight).unwrap_err();
        assert_eq!(failure.code, "image-too-large");
        assert!(failure.message.contains("1600x1200"));
    }

    #[test]
    fn garbage_after_a_jpeg_signature_fails_cleanly() {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
        bytes.extend(std::iter::repeat_n(0x5A, 500));
        assert_eq!(decode(&bytes, MediaFormat::Jpeg, 320, LIMITS).unwrap_err().code, "decode-failed");
    }

    #[test]
    fn png_round_trip() {
        let image = RgbImage::from_pixel(64, 32, image::Rgb([10, 200, 30]));
        let mut bytes = Vec::new();
        image.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
        let picture = decode(&bytes, MediaFormat::Png, 320, LIMITS).unwrap();
        assert_eq!(picture.pixels.get_pixel(5, 5).0, [10, 200, 30]);
    }
}
