//! Licence plates and e-mail addresses, on folded characters (letters are lowercase there).
//!
//! A plate is a province abbreviation, the issuing office's letter, an optional `·`, then five
//! characters (at least three of them digits, or four and a 挂/学/警/港/澳 suffix) or six for a
//! new-energy car (`D`/`F`-class letter first, or digits and a `D`/`F` last). Plates never use
//! `I` or `O`. Nothing alphanumeric may follow.

use super::{Category, Detected};

/// The provinces' abbreviations on plates.
const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// First character of the block of ideographs the abbreviations are in.
const CJK_BASE: u32 = 0x4E00;

/// The abbreviations as a bitset over U+4E00–U+9FFF: one load and a bit test per character
/// of the text (this test runs on every character of every save).
static PROVINCE_BITS: [u64; 328] = {
    let mut bits = [0u64; 328];
    let bytes = PROVINCES.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        // Every abbreviation is three bytes of UTF-8: 1110xxxx 10xxxxxx 10xxxxxx.
        let code = ((bytes[index] as u32 & 0x0F) << 12)
            | ((bytes[index + 1] as u32 & 0x3F) << 6)
            | (bytes[index + 2] as u32 & 0x3F);
        let offset = (code - CJK_BASE) as usize;
        bits[offset / 64] |= 1 << (offset % 64);
        index += 3;
    }
    bits
};

pub(super) fn is_province(c: char) -> bool {
    let offset = (c as u32).wrapping_sub(CJK_BASE) as usize;
    offset < 328 * 64 && PROVINCE_BITS[offset / 64] & (1 << (offset % 64)) != 0
}

fn is_plate_char(c: char) -> bool {
    (c.is_ascii_lowercase() && c != 'i' && c != 'o') || c.is_ascii_digit()
}

/// The licence plate starting at `start` (a province's abbreviation), if it is one.
pub(super) fn plate_at(chars: &[char], start: usize, out: &mut Vec<Detected>) {
    if let Some(end) = plate_end(chars, start) {
        out.push(Detected { start, end, category: Category::Plate });
    }
}

fn plate_end(chars: &[char], start: usize) -> Option<usize> {
    let office = *chars.get(start + 1)?;
    if !office.is_ascii_lowercase() {
        return None;
    }
    let mut index = start + 2;
    if chars.get(index).is_some_and(|c| matches!(c, '·' | '•' | ' ' | '-' | '.')) {
        index += 1;
    }
    let body_start = index;
    while index < chars.len() && is_plate_char(chars[index]) && index - body_start < 7 {
        index += 1;
    }
    let body = &chars[body_start..index];
    let digits = body.iter().filter(|c| c.is_ascii_digit()).count();
    let suffixed = body.len() == 4 && digits >= 3 && chars.get(index).is_some_and(|c| "挂学警港澳".contains(*c));
    let end = index + usize::from(suffixed);
    if chars.get(end).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    // (A body cut short by an I or O was refused just above: a letter follows it.)
    let valid = suffixed || (body.len() == 5 && digits >= 3) || (body.len() == 6 && is_new_energy(body));
    valid.then_some(end)
}

fn is_new_energy(body: &[char]) -> bool {
    let small = "abcdefghjk".contains(body[0]) && is_plate_char(body[1]) && body[2..].iter().all(char::is_ascii_digit);
    let large = body[..5].iter().all(char::is_ascii_digit) && matches!(body[5], 'd' | 'f');
    small || large
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.'
}

/// The e-mail address around the `@` at `at`, if it is one.
pub(super) fn email_at(chars: &[char], at: usize, out: &mut Vec<Detected>) {
    if let Some((start, end)) = email_around(chars, at) {
        out.push(Detected { start, end, category: Category::Email });
    }
}

fn email_around(chars: &[char], at: usize) -> Option<(usize, usize)> {
    let mut start = at;
    while start > 0 && is_local_char(chars[start - 1]) && at - start < 64 {
        start -= 1;
    }
    while start < at && chars[start] == '.' {
        start += 1;
    }
    let mut end = at + 1;
    while end < chars.len() && is_domain_char(chars[end]) && end - at < 255 {
        end += 1;
    }
    while end > at + 1 && matches!(chars[end - 1], '.' | '-') {
        end -= 1;
    }
    let domain: String = chars[at + 1..end].iter().collect();
    let top_level = domain.rsplit('.').next().unwrap_or_default();
    let valid = start < at
        && domain.contains('.')
        && !domain.split('.').any(str::is_empty)
        && top_level.len() >= 2
        && top_level.chars().all(|c| c.is_ascii_alphabetic());
    valid.then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::super::fold_for_test as fold;
    use super::*;

    fn found(text: &str, category: Category) -> Vec<String> {
        let out = super::super::detect(&fold(text));
        let original: Vec<char> = text.chars().collect();
        out.into_iter()
            .filter(|hit| hit.category == category)
            .map(|hit| original[hit.start..hit.end].iter().collect())
            .collect()
    }

    #[test]
    fn province_bits_hold_exactly_the_abbreviations() {
        let marked: String = ('\u{4E00}'..='\u{9FFF}').filter(|c| is_province(*c)).collect();
        let mut expected: Vec<char> = PROVINCES.chars().collect();
        expected.sort_unstable();
        assert_eq!(marked, expected.into_iter().collect::<String>());
        assert!(!is_province('A') && !is_province('😀'));
    }

    #[test]
    fn plates_standard_new_energy_and_special() {
        let cases: &[(&str, &[&str])] = &[
            ("车牌苏A12345的车", &["苏A12345"]),
            ("车牌苏A·12345", &["苏A·12345"]),
            ("车牌 京AB1234 停在", &["京AB1234"]),
            ("新能源粤BD12345，", &["粤BD12345"]),
            ("新能源沪A12345F", &["沪A12345F"]),
            ("挂车鲁A1234挂", &["鲁A1234挂"]),
            ("全角苏Ａ１２３４５", &["苏Ａ１２３４５"]),
            ("小写苏a12345", &["苏a12345"]),
            ("北京ABCDE", &[]),
            ("苏A1234", &[]),
            ("苏A1234567", &[]),
            ("苏AO1234", &[]),
            ("苏州A座12345", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(found(text, Category::Plate), expected.to_vec(), "{text}");
        }
    }

    #[test]
    fn emails() {
        let cases: &[(&str, &[&str])] = &[
            ("来信 zhang.san@example.com。", &["zhang.san@example.com"]),
            ("邮箱：ｌｉｓｉ＠ｑｑ．ｃｏｍ", &["ｌｉｓｉ＠ｑｑ．ｃｏｍ"]),
            ("微博 @平安南京 转发", &[]),
            ("a@b", &[]),
            ("x@host.c0m", &[]),
            ("z***@example.com", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(found(text, Category::Email), expected.to_vec(), "{text}");
        }
    }
}
