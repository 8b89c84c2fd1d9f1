//! Numbers that identify a person: 居民身份证号 (GB 11643-1999, and the old 15-digit form),
//! bank card numbers (16–19 digits passing Luhn) and mobile numbers (`1[3-9]` + 9 digits).
//!
//! Works on folded characters (full-width digits are already digits). A number may be written
//! in groups (`138-1234-5678`, `138 1234 5678`, `320102 19900307 1234`): a run is digit groups
//! joined by single separators. The whole run is tried first; when it is nothing, the longest
//! leading stretch of whole groups that is something, then on from the group after it — so two
//! phone numbers side by side are two findings, and a number is never found inside a longer
//! digit run.

use chrono::NaiveDate;

use super::{Category, Detected};

/// More groups than this in one run is a table of figures, not a number.
const MAX_GROUPS: usize = 16;

/// A run of digit groups: `(start, end)` character ranges, and a trailing `x` (an ID's check
/// character) at `end` of the last group.
struct Run {
    groups: Vec<(usize, usize)>,
    check_x: bool,
    end: usize,
}

/// The identifying numbers in the run of digits starting at `start`; answers where the run ends.
pub(super) fn find_at(chars: &[char], start: usize, out: &mut Vec<Detected>) -> usize {
    let run = read_run(chars, start);
    if run.groups.len() <= MAX_GROUPS {
        classify_run(chars, &run, out);
    }
    run.end
}

fn is_separator(c: char) -> bool {
    matches!(c, '-' | ' ' | '\u{A0}' | '\u{2010}'..='\u{2015}')
}

fn read_run(chars: &[char], start: usize) -> Run {
    let mut groups = Vec::new();
    let mut index = start;
    loop {
        let group_start = index;
        while index < chars.len() && chars[index].is_ascii_digit() {
            index += 1;
        }
        groups.push((group_start, index));
        let joined = index + 1 < chars.len() && is_separator(chars[index]) && chars[index + 1].is_ascii_digit();
        if !joined {
            break;
        }
        index += 1;
    }
    let check_x = chars.get(index) == Some(&'x') && !chars.get(index + 1).is_some_and(char::is_ascii_alphanumeric);
    let end = index + usize::from(check_x);
    Run { groups, check_x, end }
}

fn classify_run(chars: &[char], run: &Run, out: &mut Vec<Detected>) {
    let last = run.groups.len() - 1;
    let mut first = 0;
    while first <= last {
        let found = (first..=last).rev().find_map(|through| {
            let digits = digits_of(chars, &run.groups[first..=through]);
            let with_x = run.check_x && through == last;
            classify(&digits, with_x).map(|(category, used_x)| (through, category, used_x))
        });
        let Some((through, category, used_x)) = found else {
            first += 1;
            continue;
        };
        let end = run.groups[through].1 + usize::from(used_x);
        out.push(Detected { start: run.groups[first].0, end, category });
        first = through + 1;
    }
}

fn digits_of(chars: &[char], groups: &[(usize, usize)]) -> Vec<u8> {
    groups.iter().flat_map(|&(start, end)| chars[start..end].iter().map(|c| *c as u8 - b'0')).collect()
}

/// What a run of digits is, and whether it used the trailing `x`.
fn classify(digits: &[u8], with_x: bool) -> Option<(Category, bool)> {
    if with_x && digits.len() == 17 && is_id18(digits, 10) {
        return Some((Category::IdCard, true));
    }
    match digits.len() {
        18 if is_id18(&digits[..17], digits[17]) => Some((Category::IdCard, false)),
        15 if is_id15(digits) => Some((Category::IdCard, false)),
        16..=19 if passes_luhn(digits) => Some((Category::BankCard, false)),
        11 if digits[0] == 1 && (3..=9).contains(&digits[1]) => Some((Category::Mobile, false)),
        _ => None,
    }
}

/// GB 11643-1999: region, birth date, and the ISO 7064 MOD 11-2 check character (10 = `X`).
fn is_id18(first17: &[u8], check: u8) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECKS: [u8; 11] = [1, 0, 10, 9, 8, 7, 6, 5, 4, 3, 2];
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(digit, weight)| u32::from(*digit) * weight).sum();
    CHECKS[(sum % 11) as usize] == check
        && plausible_region(first17)
        && real_date(number(&first17[6..10]), number(&first17[10..12]), number(&first17[12..14]))
}

/// The 15-digit form (before 1999): region, `YYMMDD` in the 1900s, a sequence number.
fn is_id15(digits: &[u8]) -> bool {
    plausible_region(digits) && real_date(1900 + number(&digits[6..8]), number(&digits[8..10]), number(&digits[10..12]))
}

/// The first two digits name a province-level division (GB/T 2260), 71/81/82/83 included.
fn plausible_region(digits: &[u8]) -> bool {
    const PROVINCES: [u32; 35] = [
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62,
        63, 64, 65, 71, 81, 82, 83,
    ];
    PROVINCES.contains(&number(&digits[..2]))
}

fn real_date(year: u32, month: u32, day: u32) -> bool {
    (1900..=2100).contains(&year) && NaiveDate::from_ymd_opt(year as i32, month, day).is_some()
}

fn number(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |value, digit| value * 10 + u32::from(*digit))
}

fn passes_luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(index, digit)| {
            let digit = u32::from(*digit);
            if index % 2 == 1 { if digit * 2 > 9 { digit * 2 - 9 } else { digit * 2 } } else { digit }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::super::fold_for_test as fold;
    use super::*;

    fn found(text: &str) -> Vec<(String, Category)> {
        let out = super::super::detect(&fold(text));
        let original: Vec<char> = text.chars().collect();
        out.into_iter().map(|hit| (original[hit.start..hit.end].iter().collect(), hit.category)).collect()
    }

    #[test]
    fn id_numbers_need_the_right_check_character_date_and_region() {
        let cases: &[(&str, Option<&str>)] = &[
            ("身份证号11010519491231002X。", Some("11010519491231002X")),
            ("身份证号11010519491231002x", Some("11010519491231002x")),
            ("号码 320102199003071239 已登记", Some("320102199003071239")),
            // The same with a wrong check character is not an ID (nor a bank card: Luhn fails).
            ("号码 320102199003071234 已登记", None),
            // A date that never was: 1990-02-30.
            ("号码 320102199002301231 已登记", None),
            // Region 99 does not exist.
            ("号码 990102199003071233", None),
            ("旧证 320102900307123", Some("320102900307123")),
            ("旧证 320102901307123", None),
            ("全角３２０１０２１９９００３０７１２３９", Some("３２０１０２１９９００３０７１２３９")),
            ("分组 320102 19900307 1239 号", Some("320102 19900307 1239")),
        ];
        for (text, expected) in cases {
            let hits = found(text);
            let ids: Vec<&str> = hits
                .iter()
                .filter(|(_, category)| *category == Category::IdCard)
                .map(|(value, _)| value.as_str())
                .collect();
            assert_eq!(ids, expected.iter().copied().collect::<Vec<_>>(), "{text}");
        }
    }

    #[test]
    fn mobiles_are_found_alone_grouped_and_full_width_never_inside_longer_runs() {
        let cases: &[(&str, &[&str])] = &[
            ("电话13812345678", &["13812345678"]),
            ("电话 138-1234-5678，", &["138-1234-5678"]),
            ("电话 138 1234 5678", &["138 1234 5678"]),
            ("电话１３８１２３４５６７８", &["１３８１２３４５６７８"]),
            ("+86 13912345678", &["13912345678"]),
            ("两个 13812345678 13912345678", &["13812345678", "13912345678"]),
            ("订单号 213812345678", &[]),
            ("订单号 1381234567890", &[]),
            ("号段 12812345678", &[]),
            ("报警电话 110 或 12345", &[]),
        ];
        for (text, expected) in cases {
            let hits = found(text);
            let mobiles: Vec<&str> = hits
                .iter()
                .filter(|(_, category)| *category == Category::Mobile)
                .map(|(value, _)| value.as_str())
                .collect();
            assert_eq!(mobiles, expected.to_vec(), "{text}");
        }
    }

    #[test]
    fn bank_cards_pass_luhn() {
        let cases: &[(&str, Option<&str>)] = &[
            ("卡号 6222021234567890128", Some("6222021234567890128")),
            ("卡号 6222 0212 3456 7890 128", Some("6222 0212 3456 7890 128")),
            ("卡号 4111111111111111", Some("4111111111111111")),
            ("卡号 4111111111111112", None),
            ("流水 62220212345678901234", None),
        ];
        for (text, expected) in cases {
            let hits = found(text);
            let cards: Vec<&str> = hits
                .iter()
                .filter(|(_, category)| *category == Category::BankCard)
                .map(|(value, _)| value.as_str())
                .collect();
            assert_eq!(cards, expected.iter().copied().collect::<Vec<_>>(), "{text}");
        }
    }

    #[test]
    fn luhn_and_check_characters() {
        assert!(passes_luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
        assert!(!passes_luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 4]));
        let digits: Vec<u8> = "11010519491231002".bytes().map(|b| b - b'0').collect();
        assert!(is_id18(&digits, 10));
        assert!(!is_id18(&digits, 1));
    }
}
