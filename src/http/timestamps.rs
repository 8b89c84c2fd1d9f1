//! RFC 3339 timestamps for JSON, written in one piece. chrono's own `Serialize` goes through
//! `fmt` as a dozen tiny writes, each escaped by serde_json on its own: a list page of works
//! spent an eighth of its time there. The text is exactly chrono's (UTC, `Z`, the fraction as
//! 0, 3, 6 or 9 digits); years outside 0–9999 and leap seconds are left to chrono itself.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::Serializer;

/// `#[serde(serialize_with = "timestamps::rfc3339")]`
pub fn rfc3339<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buffer = [0u8; 32];
    match write(time, &mut buffer) {
        Some(length) => serializer.serialize_str(std::str::from_utf8(&buffer[..length]).unwrap_or_default()),
        None => serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }
}

/// `#[serde(serialize_with = "timestamps::rfc3339_option")]`
pub fn rfc3339_option<S: Serializer>(time: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => rfc3339(time, serializer),
        None => serializer.serialize_none(),
    }
}

/// A small writer into a stack buffer.
struct Cursor<'a> {
    out: &'a mut [u8; 32],
    at: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, value: u32, count: u32) {
        for place in (0..count).rev() {
            self.byte(b'0' + (value / 10u32.pow(place) % 10) as u8);
        }
    }

    fn byte(&mut self, byte: u8) {
        self.out[self.at] = byte;
        self.at += 1;
    }
}

/// Writes `YYYY-MM-DDTHH:MM:SS[.fff[fff[fff]]]Z`; `None` for what chrono must format.
fn write(time: &DateTime<Utc>, out: &mut [u8; 32]) -> Option<usize> {
    let year = u32::try_from(time.year()).ok().filter(|year| *year <= 9999)?;
    let nanos = time.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut cursor = Cursor { out, at: 0 };
    for (value, count, separator) in [
        (year, 4, b'-'),
        (time.month(), 2, b'-'),
        (time.day(), 2, b'T'),
        (time.hour(), 2, b':'),
        (time.minute(), 2, b':'),
    ] {
        cursor.digits(value, count);
        cursor.byte(separator);
    }
    cursor.digits(time.second(), 2);
    let (fraction, count) = match nanos {
        0 => (0, 0),
        _ if nanos.is_multiple_of(1_000_000) => (nanos / 1_000_000, 3),
        _ if nanos.is_multiple_of(1_000) => (nanos / 1_000, 6),
        _ => (nanos, 9),
    };
    if count > 0 {
        cursor.byte(b'.');
        cursor.digits(fraction, count);
    }
    cursor.byte(b'Z');
    Some(cursor.at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ours(time: &DateTime<Utc>) -> String {
        let mut out = Vec::new();
        rfc3339(time, &mut serde_json::Serializer::new(&mut out)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_text_is_chronos_own() {
        let base = Utc.with_ymd_and_hms(2026, 11, 28, 4, 50, 8).unwrap();
        for nanos in [0, 7, 992_869_232, 120_000_000, 5_000_000, 123_456_000, 1_000, 999_999_999] {
            let time = base + chrono::TimeDelta::nanoseconds(nanos);
            assert_eq!(ours(&time), serde_json::to_string(&time).unwrap(), "{nanos} ns");
        }
        for time in [
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(12345, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-44, 3, 15, 12, 0, 0).unwrap(),
        ] {
            assert_eq!(ours(&time), serde_json::to_string(&time).unwrap(), "{time:?}");
        }
    }

    #[test]
    fn absent_timestamps_are_null() {
        let mut out = Vec::new();
        rfc3339_option(&None, &mut serde_json::Serializer::new(&mut out)).unwrap();
        assert_eq!(out, b"null");
    }
}
