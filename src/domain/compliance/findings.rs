//! Stored findings across saves: a new check is matched against what was found before, so a
//! finding keeps its id (and its override) while it is still there, is `fixed` by the edit
//! that removes it, and a new one is opened for anything new.
//!
//! A finding is the same when its field, category and masked excerpt are — the value itself
//! is never stored — and, for several alike, by their order in the field.

use std::collections::HashMap;

use super::Hit;

/// Where a finding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingState {
    Open,
    /// An edit removed it.
    Fixed,
    /// A reviewer let it through, with a reason.
    Overridden,
}

impl FindingState {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingState::Open => "open",
            FindingState::Fixed => "fixed",
            FindingState::Overridden => "overridden",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(FindingState::Open),
            "fixed" => Some(FindingState::Fixed),
            "overridden" => Some(FindingState::Overridden),
            _ => None,
        }
    }
}

/// What the reconciliation needs of a stored finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    pub id: String,
    pub field: String,
    pub category: String,
    pub excerpt: String,
    pub state: FindingState,
}

/// The outcome of matching a new check against the stored findings.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reconciled<'t> {
    /// Found now and not before: to be opened.
    pub opened: Vec<Hit<'t>>,
    /// Found before and still there (its new place).
    pub kept: Vec<(String, Hit<'t>)>,
    /// Found before, gone now: fixed.
    pub fixed: Vec<String>,
}

type Key = (String, String, String);

/// Matches `current` (a fresh check, in order of position) against `stored` (in the order
/// they were opened). Fixed findings are history: something found again is a new finding.
pub fn reconcile<'t>(stored: &[StoredFinding], current: Vec<Hit<'t>>) -> Reconciled<'t> {
    let mut waiting: HashMap<Key, std::collections::VecDeque<&StoredFinding>> = HashMap::new();
    for finding in stored.iter().filter(|finding| finding.state != FindingState::Fixed) {
        let key = (finding.field.clone(), finding.category.clone(), finding.excerpt.clone());
        waiting.entry(key).or_default().push_back(finding);
    }
    let mut outcome = Reconciled::default();
    for hit in current {
        let key = (hit.field.clone(), hit.found.category.as_str().to_owned(), hit.found.excerpt.to_string());
        match waiting.get_mut(&key).and_then(|queue| queue.pop_front()) {
            Some(finding) => outcome.kept.push((finding.id.clone(), hit)),
            None => outcome.opened.push(hit),
        }
    }
    let mut fixed: Vec<&StoredFinding> = waiting.into_values().flatten().collect();
    fixed.sort_by(|a, b| a.id.cmp(&b.id));
    outcome.fixed = fixed.into_iter().map(|finding| finding.id.clone()).collect();
    outcome
}

#[cfg(test)]
mod tests {
    use super::super::{Category, Found, Level};
    use super::*;

    fn hit(field: &str, excerpt: &'static str, start: usize) -> Hit<'static> {
        let found =
            Found { start, end: start + 11, category: Category::Mobile, level: Level::Block, excerpt: excerpt.into() };
        Hit { field: field.into(), found }
    }

    fn stored(id: &str, field: &str, excerpt: &str, state: FindingState) -> StoredFinding {
        StoredFinding { id: id.into(), field: field.into(), category: "mobile".into(), excerpt: excerpt.into(), state }
    }

    #[test]
    fn kept_fixed_and_opened() {
        let before = vec![
            stored("a", "body", "138****5678", FindingState::Overridden),
            stored("b", "body", "139****0000", FindingState::Open),
            stored("c", "title", "138****5678", FindingState::Fixed),
        ];
        let now = vec![hit("body", "138****5678", 40), hit("title", "138****5678", 2), hit("body", "137****1111", 9)];
        let outcome = reconcile(&before, now);
        assert_eq!(outcome.kept.len(), 1);
        assert_eq!((outcome.kept[0].0.as_str(), outcome.kept[0].1.found.start), ("a", 40));
        assert_eq!(outcome.fixed, vec!["b".to_owned()]);
        let opened: Vec<(&str, &str)> =
            outcome.opened.iter().map(|hit| (hit.field.as_str(), hit.found.excerpt.as_ref())).collect();
        assert_eq!(opened, vec![("title", "138****5678"), ("body", "137****1111")]);
    }

    #[test]
    fn alike_findings_pair_in_order() {
        let before = vec![stored("a", "body", "138****5678", FindingState::Open)];
        let now = vec![hit("body", "138****5678", 5), hit("body", "138****5678", 50)];
        let outcome = reconcile(&before, now);
        assert_eq!(outcome.kept[0].0, "a");
        assert_eq!(outcome.kept[0].1.found.start, 5);
        assert_eq!(outcome.opened.len(), 1);
        assert!(outcome.fixed.is_empty());
    }

    #[test]
    fn states_round_trip() {
        for state in [FindingState::Open, FindingState::Fixed, FindingState::Overridden] {
            assert_eq!(FindingState::parse(state.as_str()), Some(state));
        }
    }
}
