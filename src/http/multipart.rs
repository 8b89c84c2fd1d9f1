//! multipart/form-data read as a stream, for uploads.
//!
//! actix-multipart copies every byte into a buffer of its own and, inside a file's bytes,
//! builds a new searcher at every CR byte (one byte in 256 of compressed media): on two
//! cores that was a third of a large upload's CPU. This reader looks for the whole
//! delimiter with one prebuilt SIMD finder and hands out slices of the request's own
//! buffers. It copies a chunk only when unread bytes remain from the one before: a part's
//! headers and its first bytes, or the rare chunk whose end may begin a delimiter.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::http::header::{self, ContentDisposition, HeaderValue};
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use memchr::memmem::Finder;

use crate::error::ApiError;

/// Most bytes of one part's header block.
const MAX_HEADER_BYTES: usize = 8 * 1024;
/// Most headers in one part.
const MAX_HEADERS: usize = 16;
/// Most parts in one form: an upload has a file and a role, and the rest are skipped.
pub const MAX_PARTS: usize = 32;
/// The longest boundary RFC 2046 allows.
const MAX_BOUNDARY_LEN: usize = 70;

/// A part's name and the file name its sender gave, from its Content-Disposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartHead {
    pub name: String,
    pub filename: Option<String>,
}

/// What the parser found next.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A new part begins.
    Head(PartHead),
    /// Bytes of the current part.
    Data(Bytes),
    /// The current part has no more bytes.
    PartEnd,
    /// The form is complete (anything after it is ignored).
    End,
    /// The parser needs the next chunk of the body (or to hear that there is none).
    NeedMore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter.
    Preamble,
    /// Right after a delimiter: the form's end (`--`) or a part's headers follow.
    AfterDelimiter,
    Headers,
    Body,
    End,
}

/// The parsing state machine, fed chunk by chunk; no I/O.
#[derive(Debug)]
pub struct Parser {
    /// `CRLF--boundary`: what ends every part.
    delimiter: Vec<u8>,
    finder: Finder<'static>,
    /// Received and not yet handed out.
    pending: Bytes,
    input_ended: bool,
    state: State,
    parts: usize,
}

impl Parser {
    pub fn new(boundary: &str) -> Self {
        let delimiter = [b"\r\n--", boundary.as_bytes()].concat();
        let finder = Finder::new(&delimiter).into_owned();
        // The first delimiter may open the body without its CRLF: supply one.
        Self {
            delimiter,
            finder,
            pending: Bytes::from_static(b"\r\n"),
            input_ended: false,
            state: State::Preamble,
            parts: 0,
        }
    }

    /// Adds the body's next chunk (copied only if unread bytes remain from the last one).
    pub fn feed(&mut self, chunk: Bytes) {
        if self.pending.is_empty() {
            self.pending = chunk;
        } else {
            let mut joined = BytesMut::with_capacity(self.pending.len() + chunk.len());
            joined.extend_from_slice(&self.pending);
            joined.extend_from_slice(&chunk);
            self.pending = joined.freeze();
        }
    }

    /// Notes that the body has no more chunks.
    pub fn end_input(&mut self) {
        self.input_ended = true;
    }

    /// Whether the current part still has bytes to hand out.
    pub fn in_body(&self) -> bool {
        self.state == State::Body
    }

    pub fn next_event(&mut self) -> Result<Event, ApiError> {
        let event = match self.state {
            State::End => return Ok(Event::End),
            State::Preamble => self.skip_preamble()?,
            State::AfterDelimiter => self.after_delimiter()?,
            State::Headers => self.read_headers()?,
            State::Body => self.read_body(),
        };
        if event == Event::NeedMore && self.input_ended {
            return Err(ApiError::MalformedForm("the multipart body ended in the middle of the form".into()));
        }
        Ok(event)
    }

    fn skip_preamble(&mut self) -> Result<Event, ApiError> {
        match self.find_delimiter() {
            Ok(at) => {
                self.pending = self.pending.slice(at + self.delimiter.len()..);
                self.state = State::AfterDelimiter;
                self.after_delimiter()
            }
            Err(kept_from) => {
                self.pending = self.pending.slice(kept_from..);
                Ok(Event::NeedMore)
            }
        }
    }

    fn read_body(&mut self) -> Event {
        match self.find_delimiter() {
            Ok(0) => {
                self.pending = self.pending.slice(self.delimiter.len()..);
                self.state = State::AfterDelimiter;
                Event::PartEnd
            }
            Ok(at) | Err(at) if at > 0 => Event::Data(self.pending.split_to(at)),
            _ => Event::NeedMore,
        }
    }

    /// Where the next delimiter starts, or else from where the bytes could still be the start
    /// of one (everything before is certainly content).
    fn find_delimiter(&self) -> Result<usize, usize> {
        if let Some(at) = self.finder.find(&self.pending) {
            return Ok(at);
        }
        let window = self.pending.len().saturating_sub(self.delimiter.len() - 1);
        let tail = &self.pending[window..];
        let partial = memchr::memchr_iter(b'\r', tail).find(|&start| self.delimiter.starts_with(&tail[start..]));
        Err(window + partial.unwrap_or(tail.len()))
    }

    /// After a delimiter: `--` ends the form, CRLF starts a part's headers; RFC 2046 allows
    /// spaces and tabs before either.
    fn after_delimiter(&mut self) -> Result<Event, ApiError> {
        let padding = self.pending.iter().take_while(|&&byte| byte == b' ' || byte == b'\t').count();
        self.pending = self.pending.slice(padding..);
        if self.pending.len() < 2 {
            return Ok(Event::NeedMore);
        }
        match &self.pending[..2] {
            b"--" => {
                self.state = State::End;
                self.pending = Bytes::new();
                Ok(Event::End)
            }
            b"\r\n" => {
                self.pending = self.pending.slice(2..);
                self.state = State::Headers;
                self.read_headers()
            }
            // The boundary must not occur inside a part (RFC 2046), so this body is broken.
            _ => Err(ApiError::MalformedForm("a multipart boundary is followed by neither CRLF nor --".into())),
        }
    }

    fn read_headers(&mut self) -> Result<Event, ApiError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let (length, head) = match httparse::parse_headers(&self.pending, &mut headers) {
            Ok(httparse::Status::Complete((length, parsed))) if length <= MAX_HEADER_BYTES => {
                (length, part_head(parsed)?)
            }
            Ok(httparse::Status::Partial) if self.pending.len() <= MAX_HEADER_BYTES => return Ok(Event::NeedMore),
            Ok(_) | Err(httparse::Error::TooManyHeaders) => {
                return Err(ApiError::MalformedForm(format!(
                    "a form part's headers exceed {MAX_HEADER_BYTES} bytes or {MAX_HEADERS} lines"
                )));
            }
            Err(error) => return Err(ApiError::MalformedForm(format!("a form part's headers are malformed: {error}"))),
        };
        self.parts += 1;
        if self.parts > MAX_PARTS {
            return Err(ApiError::MalformedForm(format!("a form may have at most {MAX_PARTS} parts")));
        }
        self.pending = self.pending.slice(length..);
        self.state = State::Body;
        Ok(Event::Head(head))
    }
}

fn part_head(headers: &[httparse::Header<'_>]) -> Result<PartHead, ApiError> {
    let disposition = headers
        .iter()
        .find(|found| found.name.eq_ignore_ascii_case(header::CONTENT_DISPOSITION.as_str()))
        .and_then(|found| HeaderValue::from_bytes(found.value).ok())
        .and_then(|value| ContentDisposition::from_raw(&value).ok())
        .filter(ContentDisposition::is_form_data);
    let Some(disposition) = disposition else {
        return Err(ApiError::MalformedForm("a form part has no Content-Disposition: form-data header".into()));
    };
    let Some(name) = disposition.get_name() else {
        return Err(ApiError::MalformedForm("a form part has no name".into()));
    };
    Ok(PartHead { name: name.to_owned(), filename: disposition.get_filename().map(str::to_owned) })
}

/// The boundary of a multipart/form-data Content-Type.
pub fn boundary(content_type: Option<&HeaderValue>) -> Result<String, ApiError> {
    let not_a_form =
        || ApiError::UnsupportedContentType("uploads must be multipart/form-data with a file field named file".into());
    use actix_web::mime;
    let mime: mime::Mime = content_type.and_then(|value| value.to_str().ok()?.parse().ok()).ok_or_else(not_a_form)?;
    if mime.type_() != mime::MULTIPART || mime.subtype() != mime::FORM_DATA {
        return Err(not_a_form());
    }
    let boundary = mime.get_param(mime::BOUNDARY).ok_or_else(not_a_form)?.as_str();
    if boundary.is_empty() || boundary.len() > MAX_BOUNDARY_LEN {
        return Err(ApiError::UnsupportedContentType(format!(
            "a multipart boundary has 1 to {MAX_BOUNDARY_LEN} characters"
        )));
    }
    Ok(boundary.to_owned())
}

/// A multipart/form-data body read part by part.
pub struct Multipart<S> {
    body: S,
    parser: Parser,
    received: u64,
    max_bytes: u64,
}

impl<S, E> Multipart<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    /// A form of at most `max_bytes` (more is refused with `413 upload-too-large`).
    pub fn new(boundary: &str, body: S, max_bytes: u64) -> Self {
        Self { body, parser: Parser::new(boundary), received: 0, max_bytes }
    }

    /// The next part's head, skipping whatever of the current part was not read.
    pub async fn next_part(&mut self) -> Result<Option<PartHead>, ApiError> {
        loop {
            match std::future::poll_fn(|cx| self.poll_event(cx)).await? {
                Event::Head(head) => return Ok(Some(head)),
                Event::End => return Ok(None),
                Event::Data(_) | Event::PartEnd | Event::NeedMore => {}
            }
        }
    }

    /// The current part's bytes.
    pub fn part_body(&mut self) -> PartBody<'_, S> {
        PartBody { form: self }
    }

    /// Reads and discards the rest of the request, up to `limit` bytes, so a client that is
    /// refused sees the answer instead of a reset connection.
    pub async fn drain(&mut self, limit: usize) {
        if self.parser.input_ended {
            return;
        }
        let mut discarded = 0;
        while let Some(Ok(chunk)) = self.body.next().await {
            discarded += chunk.len();
            if discarded > limit {
                return;
            }
        }
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, ApiError>> {
        loop {
            let event = self.parser.next_event()?;
            if event != Event::NeedMore {
                return Poll::Ready(Ok(event));
            }
            match ready!(self.body.poll_next_unpin(cx)) {
                Some(Ok(chunk)) => {
                    self.received += chunk.len() as u64;
                    if self.received > self.max_bytes {
                        return Poll::Ready(Err(ApiError::UploadTooLarge(format!(
                            "an upload form is limited to {} bytes",
                            self.max_bytes
                        ))));
                    }
                    self.parser.feed(chunk);
                }
                Some(Err(error)) => {
                    self.parser.end_input();
                    return Poll::Ready(Err(ApiError::MalformedForm(format!("the upload was interrupted: {error}"))));
                }
                None => self.parser.end_input(),
            }
        }
    }
}

/// The bytes of one part, as a stream that ends where the part does.
pub struct PartBody<'a, S> {
    form: &'a mut Multipart<S>,
}

impl<S, E> Stream for PartBody<'_, S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    type Item = Result<Bytes, ApiError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if !self.form.parser.in_body() {
            return Poll::Ready(None);
        }
        match ready!(self.form.poll_event(cx)) {
            Ok(Event::Data(bytes)) => Poll::Ready(Some(Ok(bytes))),
            Ok(_) => Poll::Ready(None),
            Err(error) => Poll::Ready(Some(Err(error))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDARY: &str = "----microcat0123";

    fn form(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut body = b"preamble to ignore\r\n".to_vec();
        for (name, filename, bytes) in parts {
            let filename = filename.map(|filename| format!("; filename=\"{filename}\"")).unwrap_or_default();
            body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\nepilogue").as_bytes());
        body
    }

    /// Every part, as head and joined bytes, with the body cut into pieces of `step` bytes.
    fn parse(body: &[u8], step: usize) -> Result<Vec<(PartHead, Vec<u8>)>, ApiError> {
        let mut parser = Parser::new(BOUNDARY);
        let mut chunks = body.chunks(step).map(Bytes::copy_from_slice);
        let mut parts: Vec<(PartHead, Vec<u8>)> = Vec::new();
        loop {
            match parser.next_event()? {
                Event::Head(head) => parts.push((head, Vec::new())),
                Event::Data(bytes) => parts.last_mut().expect("data inside a part").1.extend_from_slice(&bytes),
                Event::PartEnd => {}
                Event::End => return Ok(parts),
                Event::NeedMore => match chunks.next() {
                    Some(chunk) => parser.feed(chunk),
                    None => parser.end_input(),
                },
            }
        }
    }

    #[test]
    fn parts_are_the_same_however_the_body_is_cut() {
        // Bytes that look like the start of a delimiter, inside the file.
        let tricky =
            [b"\r\n--".as_slice(), b"\r\n------micro", b"\r", b"\r\n", &[0, 13, 10, 45, 45, 255]].concat().repeat(40);
        let body = form(&[
            ("role", None, b"cover"),
            ("file", Some("\u{5fae}\u{7535}\u{5f71}.mp4"), &tricky),
            ("empty", None, b""),
        ]);
        for step in [1, 2, 3, 7, 19, 64, 100, 4096, body.len()] {
            let parts = parse(&body, step).unwrap();
            assert_eq!(parts.len(), 3, "step {step}");
            assert_eq!(parts[0], (PartHead { name: "role".into(), filename: None }, b"cover".to_vec()));
            assert_eq!(parts[1].0.filename.as_deref(), Some("微电影.mp4"));
            assert_eq!(parts[1].1, tricky, "step {step}");
            assert_eq!(parts[2], (PartHead { name: "empty".into(), filename: None }, Vec::new()));
        }
    }

    #[test]
    fn large_chunks_are_handed_out_without_copying() {
        let file = vec![7u8; 200_000];
        let body = form(&[("file", Some("a.bin"), &file)]);
        let (head, rest) = body.split_at(body.len() - 150_000 - 30);
        let second = Bytes::copy_from_slice(rest);
        let mut parser = Parser::new(BOUNDARY);
        parser.feed(Bytes::copy_from_slice(head));
        assert!(matches!(parser.next_event().unwrap(), Event::Head(_)));
        assert!(matches!(parser.next_event().unwrap(), Event::Data(_)));
        assert_eq!(parser.next_event().unwrap(), Event::NeedMore);
        parser.feed(second.clone());
        let Event::Data(slice) = parser.next_event().unwrap() else { panic!("data expected") };
        assert_eq!(slice.as_ptr(), second.as_ptr(), "a slice of the received chunk");
    }

    #[test]
    fn a_body_without_a_preamble_or_with_padding_after_the_boundary_parses() {
        let body = format!("--{BOUNDARY} \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--{BOUNDARY}--");
        let parts = parse(body.as_bytes(), 5).unwrap();
        assert_eq!(parts, vec![(PartHead { name: "a".into(), filename: None }, b"x".to_vec())]);
    }

    #[test]
    fn broken_forms_are_refused_with_a_reason() {
        let cut = form(&[("file", Some("a.bin"), b"12345")]);
        let no_disposition = format!("--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--");
        let many = (0..=MAX_PARTS)
            .map(|_| format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"))
            .collect::<String>();
        let huge_header = format!("--{BOUNDARY}\r\nX-Pad: {}\r\n\r\n", "a".repeat(MAX_HEADER_BYTES));
        let cases: [(&str, &[u8], &str); 5] = [
            ("truncated", &cut[..cut.len() - 30], "ended in the middle"),
            ("no boundary at all", b"just some bytes", "ended in the middle"),
            ("no disposition", no_disposition.as_bytes(), "Content-Disposition"),
            ("too many parts", many.as_bytes(), "at most"),
            ("huge header", huge_header.as_bytes(), "exceed"),
        ];
        for (what, body, reason) in cases {
            for step in [3, 1000] {
                let Err(ApiError::MalformedForm(message)) = parse(body, step) else { panic!("{what} must be refused") };
                assert!(message.contains(reason), "{what}: {message}");
            }
        }
    }

    #[test]
    fn only_multipart_form_data_with_a_sane_boundary_is_accepted() {
        let value = |raw: &str| HeaderValue::from_str(raw).unwrap();
        assert_eq!(boundary(Some(&value("multipart/form-data; boundary=\"abc def\""))).unwrap(), "abc def");
        for refused in
            ["application/json", "multipart/mixed; boundary=x", "multipart/form-data", "multipart/form-data; boundary="]
        {
            assert!(matches!(boundary(Some(&value(refused))), Err(ApiError::UnsupportedContentType(_))), "{refused}");
        }
        let long = format!("multipart/form-data; boundary={}", "b".repeat(71));
        assert!(boundary(Some(&value(&long))).is_err());
        assert!(boundary(None).is_err());
    }
}
