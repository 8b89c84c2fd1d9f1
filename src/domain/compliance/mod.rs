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
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub category: Category,
    pub level: Level,
    pub excerpt: String,
}

/// A finding in a named field of a work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub field: String,
    pub found: Found,
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
    pub fn scan(&self, text: &str) -> Vec<Found> {
        if text.is_empty() {
            return Vec::new();
        }
        let folded = fold_chars(text);
        let original: Vec<char> = text.chars().collect();
        let mut detected = Vec::new();
        numbers::find(&folded, &mut detected);
        marks::find_plates(&folded, &mut detected);
        marks::find_emails(&folded, &mut detected);
        let mut found: Vec<Found> = detected
            .into_iter()
            .map(|hit| Found {
                excerpt: mask(&hit.category, &original[hit.start..hit.end], &folded[hit.start..hit.end]),
                level: hit.category.detector_level(),
                start: hit.start,
                end: hit.end,
                category: hit.category,
            })
            .collect();
        if let Some(words) = &self.words {
            let mut hits = Vec::new();
            words.find(&folded, &mut hits);
            found.extend(hits.into_iter().map(|hit| Found {
                excerpt: original[hit.start..hit.end].iter().collect(),
                start: hit.start,
                end: hit.end,
                category: Category::Word(hit.category),
                level: hit.level,
            }));
        }
        found.sort_by_key(|hit| (hit.start, hit.end));
        found
    }

    /// Every finding in a work's named texts.
    pub fn scan_fields<'a>(&self, fields: impl IntoIterator<Item = (String, &'a str)>) -> Vec<Hit> {
        fields
            .into_iter()
            .flat_map(|(field, text)| {
                self.scan(text).into_iter().map(move |found| Hit { field: field.clone(), found })
            })
            .collect()
    }
}

/// A value with its middle letters and digits replaced by `*`: `3201**********1234`,
/// `138****5678`, `z***@example.com`. `folded` is the same range folded (it decides which
/// characters count); anything else (separators, `·`) is kept as written.
pub fn mask(category: &Category, original: &[char], folded: &[char]) -> String {
    let Some((head, tail)) = category.visible_ends() else { return original.iter().collect() };
    // An address keeps its domain: only the part before `@` is masked.
    let masked_len = match category {
        Category::Email => folded.iter().position(|c| *c == '@').unwrap_or(folded.len()),
        _ => folded.len(),
    };
    let significant: Vec<usize> =
        (0..masked_len).filter(|index| folded[*index].is_alphanumeric()).collect();
    let hidden = significant.len().saturating_sub(head + tail).max(usize::from(significant.len() > head));
    let hidden: std::collections::HashSet<usize> =
        significant.iter().skip(head).take(hidden).copied().collect();
    let mut out = String::new();
    for (index, c) in original.iter().enumerate() {
        out.push(if hidden.contains(&index) { '*' } else { *c });
    }
    out
}

/// Masks the range `start..end` (characters) of `text` as [`mask`] does: "mask it".
pub fn mask_in_text(text: &str, start: usize, end: usize, category: &Category) -> Option<String> {
    let original: Vec<char> = text.chars().collect();
    if start >= end || end > original.len() {
        return None;
    }
    let folded = fold_chars(text);
    let masked = mask(category, &original[start..end], &folded[start..end]);
    let mut out: String = original[..start].iter().collect();
    out.push_str(&masked);
    out.extend(&original[end..]);
    Some(out)
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
            (Category::Email, "zhang.san@example.com", "z****.***@example.com"),
        ];
        for (category, value, expected) in cases {
            let original: Vec<char> = value.chars().collect();
            assert_eq!(mask(category, &original, &fold_chars(value)), *expected, "{value}");
        }
    }

    #[test]
    fn scan_finds_everything_in_order_and_never_shows_the_value() {
        let text = "张某（身份证号320102199003071239，电话13812345678）驾驶苏A12345，材料系内部资料。";
        let found = checker("内部资料").scan(text);
        let summary: Vec<(&str, Level, &str)> =
            found.iter().map(|hit| (hit.category.as_str(), hit.level, hit.excerpt.as_str())).collect();
        assert_eq!(summary, vec![
            ("id_card", Level::Block, "3201**********1239"),
            ("mobile", Level::Block, "138****5678"),
            ("plate", Level::Review, "苏A***45"),
            ("涉密标识", Level::Block, "内部资料"),
        ]);
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
    fn categories_round_trip() {
        for name in ["id_card", "mobile", "bank_card", "plate", "email", "gps", "涉密标识"] {
            assert_eq!(Category::parse(name).as_str(), name);
        }
        assert!(!Category::parse("涉密标识").is_detector());
    }
}
