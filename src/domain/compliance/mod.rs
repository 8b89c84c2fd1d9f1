//! The compliance check before publishing: personal data (ID, bank card and mobile numbers,
//! licence plates, e-mail addresses, photo locations) and the bureau's word lists, found in a
//! work's texts with their place, category and level. Like commercial moderation services,
//! three outcomes: `block` (must be fixed or overridden with a reason), `review` (a reviewer
//! acknowledges it), and nothing found.
//!
//! The matched personal data itself never leaves this module unmasked: a finding carries a
//! masked excerpt (`3201**********1234`), and [`mask`] is also what "mask it" writes back.

mod findings;
mod marks;
mod numbers;
pub mod words;

use std::borrow::Cow;
use std::sync::Arc;

pub use findings::{FindingState, Reconciled, StoredFinding, reconcile};
pub use words::{Term, TermError, WordMatcher};

use crate::domain::fold::fold_chars;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Must be fixed, or overridden by a reviewer with a reason, before approval or publication.
    Block,
    /// The deciding reviewer must acknowledge it.
    Review,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Block => "block",
            Level::Review => "review",
        }
    }

    /// How the pages and `microcat check` name it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Block => "阻断",
            Level::Review => "需复核",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "block" => Some(Level::Block),
            "review" => Some(Level::Review),
            _ => None,
        }
    }
}

/// What was found: one of the built-in detectors, or a word list's category.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Category {
    IdCard,
    Mobile,
    BankCard,
    Plate,
    Email,
    /// GPS coordinates in a photo's EXIF.
    Gps,
    /// A word list's category (any text but the detectors' spellings).
    Word(Arc<str>),
}

impl Category {
    const DETECTORS: [(Category, &'static str); 6] = [
        (Category::IdCard, "id_card"),
        (Category::Mobile, "mobile"),
        (Category::BankCard, "bank_card"),
        (Category::Plate, "plate"),
        (Category::Email, "email"),
        (Category::Gps, "gps"),
    ];

    pub fn as_str(&self) -> &str {
        match self {
            Category::Word(name) => name,
            detector => Self::DETECTORS.iter().find(|(known, _)| known == detector).map_or("", |(_, name)| name),
        }
    }

    pub fn parse(text: &str) -> Self {
        Self::DETECTORS
            .iter()
            .find(|(_, name)| *name == text)
            .map_or_else(|| Category::Word(text.into()), |(known, _)| known.clone())
    }

    /// Whether a built-in detector found it (personal data), not a word list.
    pub fn is_detector(&self) -> bool {
        !matches!(self, Category::Word(_))
    }

    /// The level a detector's findings have.
    fn detector_level(&self) -> Level {
        match self {
            Category::IdCard | Category::BankCard | Category::Mobile => Level::Block,
            _ => Level::Review,
        }
    }

    /// Characters kept visible at the start and end of a masked value.
    fn visible_ends(&self) -> Option<(usize, usize)> {
        match self {
            Category::IdCard | Category::BankCard => Some((4, 4)),
            Category::Mobile => Some((3, 4)),
            Category::Plate => Some((2, 2)),
            Category::Email => Some((1, 0)),
            Category::Gps | Category::Word(_) => None,
        }
    }

    /// How the pages and `microcat check` name it.
    pub fn label_zh(&self) -> &str {
        match self {
            Category::IdCard => "身份证号",
            Category::Mobile => "手机号",
            Category::BankCard => "银行卡号",
            Category::Plate => "车牌号",
            Category::Email => "电子邮箱",
            Category::Gps => "照片位置信息",
            Category::Word(name) => name,
        }
    }

    /// Whether "mask it" can fix it (personal data written in a text).
    pub fn is_maskable(&self) -> bool {
        self.visible_ends().is_some()
    }
}

/// A detector's raw find: a character range of the folded text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Detected {
    start: usize,
    end: usize,
    category: Category,
}

/// One finding in one text: character offsets into that text, and the masked excerpt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'t> {
    pub start: usize,
    pub end: usize,
    pub category: Category,
    pub level: Level,
    /// Masked personal data, or the words as written (borrowed: a list's matches are many).
    pub excerpt: Cow<'t, str>,
}

/// A finding in a named field of a work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit<'t> {
    pub field: String,
    pub found: Found<'t>,
}

/// The detectors plus the current word lists.
#[derive(Default)]
pub struct Checker {
    words: Option<WordMatcher>,
}

impl Checker {
    pub fn new(words: Option<WordMatcher>) -> Self {
        Self { words }
    }

    /// Distinct terms on the lists.
    pub fn term_count(&self) -> usize {
        self.words.as_ref().map_or(0, WordMatcher::len)
    }

    /// Every finding in one text, in order of position.
    pub fn scan<'t>(&self, text: &'t str) -> Vec<Found<'t>> {
        if text.is_empty() {
            return Vec::new();
        }
        let folded = fold_chars(text);
        let detected = detect(&folded);
        let mut words = Vec::new();
        if let Some(matcher) = &self.words {
            matcher.find(&folded, &mut words);
        }
        if detected.is_empty() && words.is_empty() {
            return Vec::new();
        }
        let spans = CharSpans::new(
            text,
            detected.iter().map(|hit| (hit.start, hit.end)).chain(words.iter().map(|hit| (hit.start, hit.end))),
        );
        let mut found: Vec<Found<'t>> = detected
            .into_iter()
            .map(|hit| Found {
                excerpt: Cow::Owned(mask(&hit.category, spans.text(hit.start, hit.end), &folded[hit.start..hit.end])),
                level: hit.category.detector_level(),
                start: hit.start,
                end: hit.end,
                category: hit.category,
            })
            .collect();
        found.extend(words.into_iter().map(|hit| Found {
            excerpt: Cow::Borrowed(spans.text(hit.start, hit.end)),
            start: hit.start,
            end: hit.end,
            category: Category::Word(hit.category),
            level: hit.level,
        }));
        found.sort_by_key(|hit| (hit.start, hit.end));
        found
    }

    /// Every finding in a work's named texts.
    pub fn scan_fields<'t>(&self, fields: impl IntoIterator<Item = (String, &'t str)>) -> Vec<Hit<'t>> {
        fields
            .into_iter()
            .flat_map(|(field, text)| self.scan(text).into_iter().map(move |found| Hit { field: field.clone(), found }))
            .collect()
    }
}

/// Every detector, in one pass over the folded text.
fn detect(folded: &[char]) -> Vec<Detected> {
    let mut detected = Vec::new();
    let mut index = 0;
    while index < folded.len() {
        let c = folded[index];
        if c.is_ascii_digit() {
            index = numbers::find_at(folded, index, &mut detected);
            continue;
        }
        if c == '@' {
            marks::email_at(folded, index, &mut detected);
        } else if marks::is_province(c) {
            marks::plate_at(folded, index, &mut detected);
        }
        index += 1;
    }
    detected
}

/// The text of character ranges, found in one walk over the text (findings are few and
/// spread out; a copy of the whole text as characters is what the check cannot afford).
struct CharSpans<'a> {
    text: &'a str,
    /// Sorted character indices and their byte offsets.
    offsets: Vec<(usize, usize)>,
}

impl<'a> CharSpans<'a> {
    fn new(text: &'a str, ranges: impl Iterator<Item = (usize, usize)>) -> Self {
        let mut wanted: Vec<usize> = ranges.flat_map(|(start, end)| [start, end]).chain([0]).collect();
        wanted.sort_unstable();
        wanted.dedup();
        // Counting the bytes that start a character is cheaper than decoding every one.
        let bytes = text.as_bytes();
        let mut offsets = Vec::with_capacity(wanted.len());
        let (mut index, mut byte) = (0, 0);
        for target in wanted {
            while index < target && byte < bytes.len() {
                byte += 1;
                while byte < bytes.len() && bytes[byte] & 0xC0 == 0x80 {
                    byte += 1;
                }
                index += 1;
            }
            offsets.push((target, byte));
        }
        Self { text, offsets }
    }

    fn byte(&self, index: usize) -> usize {
        self.offsets.binary_search_by_key(&index, |(at, _)| *at).map_or(self.text.len(), |found| self.offsets[found].1)
    }

    fn text(&self, start: usize, end: usize) -> &'a str {
        &self.text[self.byte(start)..self.byte(end)]
    }
}

/// A value with its middle letters and digits replaced by `*`: `3201**********1234`,
/// `138****5678`, `z***@example.com`. `folded` is the same range folded (it decides which
/// characters count); anything else (separators, `·`) is kept as written.
pub fn mask(category: &Category, original: &str, folded: &[char]) -> String {
    let Some((head, tail)) = category.visible_ends() else { return original.to_owned() };
    // An address keeps its domain: only the part before `@` is masked.
    let masked_len = match category {
        Category::Email => folded.iter().position(|c| *c == '@').unwrap_or(folded.len()),
        _ => folded.len(),
    };
    // What counts: letters and digits, and in an address every character before `@` (its
    // local part may be all symbols).
    let counts = |c: &char| matches!(category, Category::Email) || c.is_alphanumeric();
    let significant = folded[..masked_len].iter().filter(|c| counts(c)).count();
    // Something is always hidden: a value too short to keep its ends keeps at most its first.
    let start = head.min(significant.saturating_sub(1));
    let hidden = significant.saturating_sub(start + tail).max(usize::from(significant > 0));
    let head = start;
    let mut seen = 0;
    let mut out = String::with_capacity(original.len());
    for (c, folded) in original.chars().zip(folded) {
        let counts = seen < significant && counts(folded);
        let hide = counts && (head..head + hidden).contains(&seen);
        seen += usize::from(counts);
        out.push(if hide { '*' } else { c });
    }
    out
}

/// `text` with every piece of personal data masked: what the audit trail, notifications and
/// chat messages store, so a matched value never leaves the work's own text. Cheap when there
/// is nothing that could be personal data (no digit, `@` or province abbreviation).
pub fn redact(text: &str) -> Cow<'_, str> {
    let suspicious = text
        .chars()
        .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c) || c == '@' || c == '＠' || marks::is_province(c));
    if !suspicious {
        return Cow::Borrowed(text);
    }
    let folded = fold_chars(text);
    let mut detected = detect(&folded);
    if detected.is_empty() {
        return Cow::Borrowed(text);
    }
    detected.sort_by_key(|hit| hit.start);
    let spans = CharSpans::new(text, detected.iter().map(|hit| (hit.start, hit.end)));
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for hit in &detected {
        if hit.start < done {
            continue;
        }
        out.push_str(spans.text(done, hit.start));
        out.push_str(&mask(&hit.category, spans.text(hit.start, hit.end), &folded[hit.start..hit.end]));
        done = hit.end;
    }
    out.push_str(&text[spans.byte(done)..]);
    Cow::Owned(out)
}

/// Masks the range `start..end` (characters) of `text` as [`mask`] does: "mask it".
pub fn mask_in_text(text: &str, start: usize, end: usize, category: &Category) -> Option<String> {
    let folded = fold_chars(text);
    if start >= end || end > folded.len() {
        return None;
    }
    let spans = CharSpans::new(text, std::iter::once((start, end)));
    let (from, to) = (spans.byte(start), spans.byte(end));
    let masked = mask(category, &text[from..to], &folded[start..end]);
    Some(format!("{}{masked}{}", &text[..from], &text[to..]))
}

#[cfg(test)]
pub(crate) fn fold_for_test(text: &str) -> Vec<char> {
    fold_chars(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker(list: &str) -> Checker {
        Checker::new(WordMatcher::build(words::parse_terms(list, "涉密标识", Level::Block).unwrap()))
    }

    #[test]
    fn masks_keep_the_ends_and_separators() {
        let cases: &[(Category, &str, &str)] = &[
            (Category::IdCard, "320102199003071239", "3201**********1239"),
            (Category::IdCard, "11010519491231002X", "1101**********002X"),
            (Category::Mobile, "138-1234-5678", "138-****-5678"),
            (Category::Mobile, "１３８１２３４５６７８", "１３８****５６７８"),
            (Category::BankCard, "6222021234567890128", "6222***********0128"),
            (Category::Plate, "苏A·12345", "苏A·***45"),
            (Category::Email, "zhang.san@example.com", "z********@example.com"),
            // Found by the fuzzer: a one-letter address kept nothing hidden.
            (Category::Email, "J@2.Jl", "*@2.Jl"),
            (Category::Email, "ab@qq.com", "a*@qq.com"),
            (Category::Email, "+@z35118t.qazz", "*@z35118t.qazz"),
        ];
        for (category, value, expected) in cases {
            assert_eq!(mask(category, value, &fold_chars(value)), *expected, "{value}");
        }
    }

    #[test]
    fn scan_finds_everything_in_order_and_never_shows_the_value() {
        let text = "张某（身份证号320102199003071239，电话13812345678）驾驶苏A12345，材料系内部资料。";
        let found = checker("内部资料").scan(text);
        let summary: Vec<(&str, Level, &str)> =
            found.iter().map(|hit| (hit.category.as_str(), hit.level, hit.excerpt.as_ref())).collect();
        assert_eq!(
            summary,
            vec![
                ("id_card", Level::Block, "3201**********1239"),
                ("mobile", Level::Block, "138****5678"),
                ("plate", Level::Review, "苏A***45"),
                ("涉密标识", Level::Block, "内部资料"),
            ]
        );
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(chars[found[0].start..found[0].end].iter().collect::<String>(), "320102199003071239");
    }

    #[test]
    fn masking_in_the_text_fixes_the_finding() {
        let checker = Checker::default();
        let text = "联系电话：138 1234 5678。";
        let hit = &checker.scan(text)[0];
        let masked = mask_in_text(text, hit.start, hit.end, &hit.category).unwrap();
        assert_eq!(masked, "联系电话：138 **** 5678。");
        assert!(checker.scan(&masked).is_empty());
        assert_eq!(mask_in_text(text, 3, 99, &hit.category), None);
    }

    #[test]
    fn redaction_masks_every_personal_value_and_leaves_the_rest() {
        let text = "张某（320102199003071239）来电13812345678，驾驶苏A12345，邮箱 zhang@example.com。2024年";
        assert_eq!(
            redact(text),
            "张某（3201**********1239）来电138****5678，驾驶苏A***45，邮箱 z****@example.com。2024年"
        );
        assert!(matches!(redact("平安南京，守护你我"), Cow::Borrowed(_)));
        assert!(matches!(redact("2024年3月"), Cow::Borrowed(_)));
    }

    /// The fuzz target's properties over many short texts of the characters that matter.
    #[test]
    fn masked_findings_are_never_found_again() {
        let alphabet: Vec<char> = "0123456789１３８xXab.@-_ 苏京A·z+%q".chars().collect();
        let checker = Checker::default();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..20_000 {
            let length = 1 + (state >> 60) as usize;
            let text: String = (0..length * 2)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let count = text.chars().count();
            for found in checker.scan(&text) {
                assert!(found.start < found.end && found.end <= count, "{found:?} in {text:?}");
                let masked = mask_in_text(&text, found.start, found.end, &found.category).unwrap();
                let again = checker.scan(&masked);
                assert!(
                    !again.iter().any(|hit| hit.start == found.start && hit.category == found.category),
                    "{found:?} of {text:?} found again in {masked:?}"
                );
            }
            assert_eq!(redact(&text).chars().count(), count);
        }
    }

    #[test]
    fn categories_round_trip() {
        for name in ["id_card", "mobile", "bank_card", "plate", "email", "gps", "涉密标识"] {
            assert_eq!(Category::parse(name).as_str(), name);
        }
        assert!(!Category::parse("涉密标识").is_detector());
    }
}
