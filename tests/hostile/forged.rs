//! Hostile files forged byte by byte from the shared fixtures: headers claiming huge sizes,
//! DEFLATE bombs, patched MP4 boxes, ZIP archives.

use crate::fixtures::{animated_gif, crc32, jpeg, png, webp};

/// A small JPEG whose frame header (SOF) claims `width`×`height`.
pub fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg(16, 16);
    let mut at = 2;
    while at + 9 < bytes.len() {
        let marker = bytes[at + 1];
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if (0xC0..=0xC3).contains(&marker) {
            // FF Cx, length, precision, then height and width.
            bytes[at + 5..at + 7].copy_from_slice(&height.to_be_bytes());
            bytes[at + 7..at + 9].copy_from_slice(&width.to_be_bytes());
            return bytes;
        }
        at += 2 + length;
    }
    panic!("the jpeg encoder wrote no frame header");
}

/// The animated GIF with its logical screen claiming `width`×`height`.
pub fn gif_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = animated_gif();
    bytes[6..8].copy_from_slice(&width.to_le_bytes());
    bytes[8..10].copy_from_slice(&height.to_le_bytes());
    bytes
}

/// A lossless WebP whose VP8L header claims the largest size it can: 16384×16384.
pub fn webp_claiming_largest() -> Vec<u8> {
    let mut bytes = webp(16, 16);
    let chunk = bytes.windows(4).position(|window| window == b"VP8L").expect("image writes lossless webp");
    // Chunk type, size, signature 0x2F, then 14 bits of width-1 and 14 of height-1.
    let bits = chunk + 9;
    bytes[bits..bits + 3].fill(0xFF);
    bytes[bits + 3] |= 0x0F;
    bytes
}

/// An extended WebP whose VP8X canvas claims `edge`×`edge`, around a 16×16 image.
pub fn webp_canvas_claiming(edge: u32) -> Vec<u8> {
    let inner = webp(16, 16);
    let mut canvas = vec![0u8; 4];
    canvas.extend_from_slice(&(edge - 1).to_le_bytes()[..3]);
    canvas.extend_from_slice(&(edge - 1).to_le_bytes()[..3]);
    let body = [&b"WEBPVP8X\x0a\0\0\0"[..], &canvas[..], &inner[12..]].concat();
    [&b"RIFF"[..], &(body.len() as u32).to_le_bytes()[..], &body[..]].concat()
}

/// A PNG chunk: length, type, data, CRC of type and data.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let crc = crc32(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    chunk
}

/// A small valid PNG with one more chunk right after its header.
pub fn png_with_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let plain = png(16, 16);
    // The signature, then IHDR: length, type, 13 bytes of data and the CRC.
    let after_header = 8 + 25;
    [&plain[..after_header], &png_chunk(kind, data)[..], &plain[after_header..]].concat()
}

/// A black 8-bit RGB PNG whose pixel data is a DEFLATE bomb: tiny on disk, `width`×`height`×3
/// bytes once inflated.
pub fn png_of_zeros(width: u32, height: u32) -> Vec<u8> {
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    // 8 bits, RGB, deflate, no filter, no interlace.
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    // Each row is a filter byte (0, none) and then black pixels: all zeros.
    let raw = height as usize * (1 + 3 * width as usize);
    [
        &b"\x89PNG\r\n\x1a\n"[..],
        &png_chunk(b"IHDR", &header)[..],
        &png_chunk(b"IDAT", &zlib_of_zeros(raw))[..],
        &png_chunk(b"IEND", &[])[..],
    ]
    .concat()
}

/// An LSB-first bit writer, the order DEFLATE packs its stream in.
struct BitWriter {
    bytes: Vec<u8>,
    pending: u64,
    used: u32,
}

impl BitWriter {
    fn new() -> Self {
        Self { bytes: Vec::new(), pending: 0, used: 0 }
    }

    /// Appends the low `count` bits of `value`, least significant first.
    fn bits(&mut self, value: u32, count: u32) {
        self.pending |= u64::from(value) << self.used;
        self.used += count;
        while self.used >= 8 {
            self.bytes.push(self.pending as u8);
            self.pending >>= 8;
            self.used -= 8;
        }
    }

    /// Appends a Huffman code, which DEFLATE stores most significant bit first.
    fn code(&mut self, (code, length): (u32, u32)) {
        self.bits(code.reverse_bits() >> (32 - length), length);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.bytes.push(self.pending as u8);
        }
        self.bytes
    }
}

/// A DEFLATE stream of `count` zero bytes in one fixed-Huffman block: a literal zero, then
/// copies of 258 bytes from 1 back (13 bits for 258 bytes, about 160:1), then the rest as
/// literals. Written by hand because no compressor is among the crate's dependencies.
fn deflate_zeros(count: usize) -> Vec<u8> {
    const LITERAL_ZERO: (u32, u32) = (0x30, 8);
    const LENGTH_258: (u32, u32) = (0b1100_0101, 8);
    const DISTANCE_1: (u32, u32) = (0, 5);
    const END_OF_BLOCK: (u32, u32) = (0, 7);
    let mut out = BitWriter::new();
    out.bits(1, 1); // the final block
    out.bits(1, 2); // with the fixed Huffman codes
    let mut left = count;
    if left > 0 {
        out.code(LITERAL_ZERO);
        left -= 1;
    }
    while left >= 258 {
        out.code(LENGTH_258);
        out.code(DISTANCE_1);
        left -= 258;
    }
    for _ in 0..left {
        out.code(LITERAL_ZERO);
    }
    out.code(END_OF_BLOCK);
    out.finish()
}

/// `count` zero bytes as a zlib stream (the format of PNG's IDAT, zTXt and iCCP).
pub fn zlib_of_zeros(count: usize) -> Vec<u8> {
    // Adler-32 of zeros: its sum stays 1 and its sum of sums grows by 1 per byte.
    let adler = (((count % 65_521) as u32) << 16) | 1;
    [&[0x78, 0x01][..], &deflate_zeros(count)[..], &adler.to_be_bytes()[..]].concat()
}

/// The big-endian 32-bit number at `at`.
fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Offsets and sizes of the ISO media boxes at `path` (e.g. moov/trak/tkhd).
fn find_boxes(bytes: &[u8], path: &[&[u8; 4]]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    walk_boxes(bytes, 0, bytes.len(), path, &mut found);
    found
}

/// Collects the boxes at `path` among those between `start` and `end`.
fn walk_boxes(bytes: &[u8], start: usize, end: usize, path: &[&[u8; 4]], found: &mut Vec<(usize, usize)>) {
    let mut at = start;
    while at + 8 <= end {
        let declared = be32(bytes, at) as usize;
        let size = if declared == 0 { end - at } else { declared };
        if size < 8 || at + size > end {
            return;
        }
        let kind = &bytes[at + 4..at + 8];
        if kind == path[0].as_slice() {
            if path.len() == 1 {
                found.push((at, size));
            } else {
                // stsd holds a version, flags and an entry count before its entries.
                let header = if kind == b"stsd" { 16 } else { 8 };
                walk_boxes(bytes, at + header, at + size, &path[1..], found);
            }
        }
        at += size;
    }
}

/// Sample entries of the video tracks our fixtures have.
const VIDEO_ENTRIES: [&[u8; 4]; 3] = [b"avc1", b"raw ", b"mp4v"];

/// The film with its track header and video sample entry claiming 65535×65535 frames.
pub fn mp4_claiming_frame(film: &[u8]) -> Vec<u8> {
    let mut bytes = film.to_vec();
    for (at, size) in find_boxes(film, &[b"moov", b"trak", b"tkhd"]) {
        // Width and height close the track header, as 16.16 fixed point; audio has zeros.
        let end = at + size;
        if be32(film, end - 8) != 0 {
            bytes[end - 8..end].copy_from_slice(&[0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 0, 0]);
        }
    }
    for (at, _) in find_boxes(film, &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"]) {
        let entry = at + 16;
        if VIDEO_ENTRIES.iter().any(|kind| film[entry + 4..entry + 8] == kind[..]) {
            // A visual sample entry: 24 bytes of reserved and predefined fields, then
            // 16-bit width and height.
            bytes[entry + 32..entry + 36].fill(0xFF);
        }
    }
    assert_ne!(bytes, film, "the film has a video track to patch");
    bytes
}

/// The film with its movie, track and media headers claiming `seconds`.
pub fn mp4_claiming_duration(film: &[u8], seconds: u32) -> Vec<u8> {
    let mut bytes = film.to_vec();
    let mut movie_timescale = 1000;
    // Version 0 headers: version and flags, creation and modification times, then the
    // timescale and the duration.
    for path in [&[b"moov", b"mvhd"][..], &[b"moov", b"trak", b"mdia", b"mdhd"][..]] {
        for (at, _) in find_boxes(film, path) {
            if film[at + 8] != 0 {
                continue;
            }
            let timescale = be32(film, at + 20);
            if path.len() == 2 {
                movie_timescale = timescale;
            }
            bytes[at + 24..at + 28].copy_from_slice(&timescale.saturating_mul(seconds).to_be_bytes());
        }
    }
    for (at, _) in find_boxes(film, &[b"moov", b"trak", b"tkhd"]) {
        if film[at + 8] == 0 {
            // Track durations are in the movie's timescale, after the track id and a reserved word.
            bytes[at + 28..at + 32].copy_from_slice(&movie_timescale.saturating_mul(seconds).to_be_bytes());
        }
    }
    assert_ne!(bytes, film, "the film has headers to patch");
    bytes
}

/// A stored (uncompressed) ZIP archive of one file, the shape of a jar.
pub fn zip_with(name: &str, content: &[u8]) -> Vec<u8> {
    let crc = crc32(content).to_le_bytes();
    let size = (content.len() as u32).to_le_bytes();
    let name_length = (name.len() as u16).to_le_bytes();
    // Signature, version 2.0, no flags, stored, no time or date.
    let mut local = b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0".to_vec();
    for field in [&crc[..], &size[..], &size[..], &name_length[..], &[0, 0][..], name.as_bytes(), content] {
        local.extend_from_slice(field);
    }
    // Signature, made by and needing 2.0, no flags, stored, no time or date.
    let mut central = b"PK\x01\x02\x14\0\x14\0\0\0\0\0\0\0\0\0".to_vec();
    // Then no extra field, comment, disk, attributes; the local header is at offset 0.
    for field in [&crc[..], &size[..], &size[..], &name_length[..], &[0; 12][..], &[0; 4][..], name.as_bytes()] {
        central.extend_from_slice(field);
    }
    let mut end = b"PK\x05\x06\0\0\0\0\x01\0\x01\0".to_vec();
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&(local.len() as u32).to_le_bytes());
    end.extend_from_slice(&[0, 0]);
    [local, central, end].concat()
}
