//! Upload bodies come from any client: whatever the bytes and however the network cuts them,
//! the multipart reader never panics, and it reads the same parts whatever the cut.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use microcat::http::multipart::{Event, Parser};

const BOUNDARY: &str = "XyZ";

/// Every event's outcome, with data joined per part, for a body cut every `step` bytes.
fn parse(body: &[u8], step: usize) -> Result<Vec<(String, Option<String>, Vec<u8>)>, String> {
    let mut parser = Parser::new(BOUNDARY);
    let mut chunks = body.chunks(step.max(1)).map(Bytes::copy_from_slice);
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
    let Some((&step, body)) = data.split_first() else { return };
    let whole = parse(body, body.len());
    let cut = parse(body, usize::from(step % 32) + 1);
    // Refusals may name different limits (a header block seen whole or growing), never differ
    // in whether the body is refused or in what it holds.
    match (whole, cut) {
        (Ok(whole), Ok(cut)) => assert_eq!(whole, cut, "the same body cut differently reads differently"),
        (Err(_), Err(_)) => {}
        (whole, cut) => panic!("one cut refused, the other did not: {whole:?} / {cut:?}"),
    }
});
