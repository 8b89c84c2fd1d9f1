//! Upload bodies come from any client: whatever the bytes and however the network cuts them,
//! the multipart reader never panics, and it reads the same parts whatever the cut.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use microcat::http::multipart::{Event, Parser};

const BOUNDARY: &str = "XyZ";

/// The body cut into pieces of varying lengths (1 to 64 bytes) drawn from `seed`.
fn cut(body: &[u8], mut seed: u32) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let (piece, after) = rest.split_at(((seed >> 24) as usize % 64 + 1).min(rest.len()));
        pieces.push(Bytes::copy_from_slice(piece));
        rest = after;
    }
    pieces
}

/// Every part, with its data joined, for a body arriving in `chunks`.
fn parse(chunks: Vec<Bytes>) -> Result<Vec<(String, Option<String>, Vec<u8>)>, String> {
    let mut parser = Parser::new(BOUNDARY);
    let mut chunks = chunks.into_iter();
    let mut parts = Vec::new();
    loop {
        match parser.next_event().map_err(|error| error.to_string())? {
            Event::Head(head) => parts.push((head.name, head.filename, Vec::new())),
            Event::Data(bytes) => {
                let (_, _, data) = parts.last_mut().expect("data only inside a part");
                data.extend_from_slice(&bytes);
            }
            Event::PartEnd => {}
            Event::End => return Ok(parts),
            Event::NeedMore => match chunks.next() {
                Some(chunk) => parser.feed(chunk),
                None => parser.end_input(),
            },
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((seed, body)) = data.split_first_chunk::<2>() else { return };
    let whole = parse(vec![Bytes::copy_from_slice(body)]);
    let cut = parse(cut(body, u32::from(u16::from_le_bytes(*seed))));
    // Refusals may name different limits (a header block seen whole or growing), never differ
    // in whether the body is refused or in what it holds.
    match (whole, cut) {
        (Ok(whole), Ok(cut)) => assert_eq!(whole, cut, "the same body cut differently reads differently"),
        (Err(_), Err(_)) => {}
        (whole, cut) => panic!("one cut refused, the other did not: {whole:?} / {cut:?}"),
    }
});
