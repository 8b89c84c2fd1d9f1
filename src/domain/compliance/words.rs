//! The bureau's word lists: parsed from plain text (one term a line, or
//! `term<TAB>category<TAB>level`), and matched all at once with a charwise double-array
//! Aho–Corasick automaton (`daachorse`) over folded text with the noise between characters
//! skipped, so `詐騙`, `诈*骗` and `诈 骗` all meet the term `诈骗`.

use std::collections::HashMap;
use std::sync::Arc;

use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};

use super::{Category, Level};
use crate::domain::fold::{fold_chars, is_noise};

/// Longest term, in characters after folding (the matcher remembers this many positions).
pub const MAX_TERM_CHARS: usize = 32;
/// Most terms in one list.
pub const MAX_TERMS: usize = 200_000;

/// One term of a list, folded, with what it is and how serious.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    pub category: String,
    pub level: Level,
}

/// Why a list's text was refused, naming the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermError {
    #[error("line {line}: the level must be block or review, not {found:?}")]
    BadLevel { line: usize, found: String },
    #[error("line {line}: a term must have 2 to {MAX_TERM_CHARS} letters, digits or ideographs")]
    BadLength { line: usize },
    #[error("line {line}: the category {found:?} is reserved for the built-in detectors")]
    ReservedCategory { line: usize, found: String },
    #[error("a list holds at most {MAX_TERMS} terms")]
    TooMany,
}

/// A term as the matcher compares it: folded, noise removed.
pub fn fold_term(raw: &str) -> String {
    fold_chars(raw).into_iter().filter(|c| !is_noise(*c)).collect()
}

/// Parses a list's text; each line's category and level default to the list's own.
pub fn parse_terms(text: &str, category: &str, level: Level) -> Result<Vec<Term>, TermError> {
    let mut terms = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let mut parts = line.split('\t');
        let folded = fold_term(parts.next().unwrap_or_default());
        let length = folded.chars().count();
        if !(2..=MAX_TERM_CHARS).contains(&length) {
            return Err(TermError::BadLength { line: line_number });
        }
        let category = match parts.next().map(str::trim).filter(|value| !value.is_empty()) {
            Some(own) if Category::parse(own).is_detector() => {
                return Err(TermError::ReservedCategory { line: line_number, found: own.to_owned() });
            }
            Some(own) => own.to_owned(),
            None => category.to_owned(),
        };
        let level = match parts.next().map(str::trim).filter(|value| !value.is_empty()) {
            Some(own) => {
                Level::parse(own).ok_or_else(|| TermError::BadLevel { line: line_number, found: own.to_owned() })?
            }
            None => level,
        };
        terms.push(Term { text: folded, category, level });
        if terms.len() > MAX_TERMS {
            return Err(TermError::TooMany);
        }
    }
    Ok(terms)
}

/// What a matched term stands for.
#[derive(Debug, Clone)]
struct TermInfo {
    category: Arc<str>,
    level: Level,
    chars: usize,
}

/// Every list's terms in one automaton.
pub struct WordMatcher {
    automaton: CharwiseDoubleArrayAhoCorasick<u32>,
    terms: Vec<TermInfo>,
}

/// A term found: original character range, category and level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordHit {
    pub start: usize,
    pub end: usize,
    pub category: Arc<str>,
    pub level: Level,
}

impl WordMatcher {
    /// Builds the automaton; a term on two lists counts once, at its stricter level.
    /// `None` when there are no terms at all.
    pub fn build(terms: impl IntoIterator<Item = Term>) -> Option<Self> {
        let mut unique: HashMap<String, TermInfo> = HashMap::new();
        for term in terms {
            let info = TermInfo { category: term.category.into(), level: term.level, chars: term.text.chars().count() };
            match unique.get_mut(&term.text) {
                Some(existing) if existing.level == Level::Block || info.level == Level::Review => {}
                Some(existing) => *existing = info,
                None => {
                    unique.insert(term.text, info);
                }
            }
        }
        if unique.is_empty() {
            return None;
        }
        let mut patterns = Vec::with_capacity(unique.len());
        let mut infos = Vec::with_capacity(unique.len());
        for (index, (text, info)) in unique.into_iter().enumerate() {
            patterns.push((text, index as u32));
            infos.push(info);
        }
        let automaton = CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build_with_values(patterns)
            .expect("terms are unique, non-empty and few enough for 32-bit values");
        Some(Self { automaton, terms: infos })
    }

    /// Number of distinct terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether there are no terms (never: [`WordMatcher::build`] answers `None` then).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Every term in the folded text `chars` (noise skipped), as original character ranges.
    pub fn find(&self, chars: &[char], out: &mut Vec<WordHit>) {
        // Where each of the last MAX_TERM_CHARS fed characters was: a match's first character
        // is at most that far back.
        let mut recent = [0usize; MAX_TERM_CHARS];
        let mut fed = 0usize;
        let mut stepper = self.automaton.find_stepper();
        for (index, c) in chars.iter().enumerate() {
            if is_noise(*c) {
                continue;
            }
            recent[fed % MAX_TERM_CHARS] = index;
            fed += 1;
            stepper.consume(*c);
            if let Some(found) = stepper.matches() {
                let info = &self.terms[found.value() as usize];
                let start = recent[(fed - info.chars) % MAX_TERM_CHARS];
                out.push(WordHit { start, end: index + 1, category: info.category.clone(), level: info.level });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(list: &str) -> WordMatcher {
        WordMatcher::build(parse_terms(list, "测试", Level::Review).unwrap()).unwrap()
    }

    fn found(matcher: &WordMatcher, text: &str) -> Vec<(String, Level)> {
        let mut out = Vec::new();
        matcher.find(&fold_chars(text), &mut out);
        let original: Vec<char> = text.chars().collect();
        out.into_iter().map(|hit| (original[hit.start..hit.end].iter().collect(), hit.level)).collect()
    }

    #[test]
    fn lines_carry_their_own_category_and_level() {
        let terms =
            parse_terms("# 注释\n诈骗\t涉诈\tblock\n\n內部資料\n Ａｂ-C \t\treview\n", "默认", Level::Review).unwrap();
        let summary: Vec<(&str, &str, Level)> =
            terms.iter().map(|term| (term.text.as_str(), term.category.as_str(), term.level)).collect();
        assert_eq!(
            summary,
            vec![("诈骗", "涉诈", Level::Block), ("内部资料", "默认", Level::Review), ("abc", "默认", Level::Review)]
        );
    }

    #[test]
    fn bad_lines_are_named() {
        assert_eq!(
            parse_terms("好词\n坏词\tx\tnever", "c", Level::Block),
            Err(TermError::BadLevel { line: 2, found: "never".into() })
        );
        assert_eq!(parse_terms("a\n", "c", Level::Block), Err(TermError::BadLength { line: 1 }));
        assert!(matches!(
            parse_terms("手机\tmobile", "c", Level::Block),
            Err(TermError::ReservedCategory { line: 1, .. })
        ));
    }

    #[test]
    fn matches_after_folding_and_across_noise() {
        let matcher = matcher("诈骗\t涉诈\tblock\n内部资料");
        for text in ["谨防诈骗", "谨防詐騙", "谨防诈*骗", "谨防诈 骗", "谨防诈　·　骗"] {
            let hits = found(&matcher, text);
            assert_eq!(hits.len(), 1, "{text}");
            assert!(hits[0].0.starts_with('诈') || hits[0].0.starts_with('詐'), "{text}: {hits:?}");
            assert_eq!(hits[0].1, Level::Block);
        }
        assert_eq!(
            found(&matcher, "本文系內部資料，内部 资料"),
            vec![("內部資料".to_owned(), Level::Review), ("内部 资料".to_owned(), Level::Review)]
        );
        assert!(found(&matcher, "诈 欺 骗").is_empty());
    }

    #[test]
    fn a_term_on_two_lists_counts_at_its_stricter_level() {
        let mut terms = parse_terms("诈骗", "a", Level::Review).unwrap();
        terms.extend(parse_terms("诈骗", "b", Level::Block).unwrap());
        let matcher = WordMatcher::build(terms).unwrap();
        assert_eq!(matcher.len(), 1);
        assert_eq!(found(&matcher, "诈骗")[0].1, Level::Block);
    }
}
