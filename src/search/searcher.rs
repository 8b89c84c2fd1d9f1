//! Runs a parsed query: words and bigrams combined so dictionary words rank first and
//! unknown names are still found, visibility and filters applied inside the query (so totals
//! and facet counts never include what the caller may not see), the page ranked by [`topk`]
//! and the matches counted by [`facets`] (side by side while a core is idle), and
//! highlighting that escapes everything but the `<mark>` it adds.

use std::ops::Bound;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use jieba_rs::Jieba;
use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, TantivyDocument, Term};

use super::analysis::{bigram_pieces, is_bigram_word, normalize, word_pieces};
pub use super::facets::FacetCounts;
use super::query::{Clause, ParsedQuery};
use super::{Fields, IndexError, SearchIndex, facets, topk};
use crate::domain::user::Visibility;
use crate::domain::work::Status;

/// Filters besides the text.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub kind: Option<String>,
    pub status: Option<String>,
    pub unit: Option<String>,
    pub tag: Option<String>,
    pub from_micros: Option<i64>,
    pub to_micros: Option<i64>,
}

/// A search to run.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: ParsedQuery,
    pub filters: Filters,
    /// Whose works the caller may see: translated into the index query here, once.
    pub visibility: Visibility,
    pub newest_first: bool,
    pub offset: usize,
    pub limit: usize,
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    /// Exact up to [`facets::EXACT_UP_TO`] matches, then estimated (and the facets with it).
    pub total: usize,
    pub total_is_estimate: bool,
    /// `(score, work id)`, best first.
    pub hits: Vec<(f32, String)>,
    pub facets: FacetCounts,
}

/// Weights of the three text areas.
const TITLE_BOOST: f32 = 3.0;
const EXTRA_BOOST: f32 = 1.5;
/// How much more a dictionary-word match counts than a bigram match.
const WORD_BOOST: f32 = 2.0;

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
}

fn keyword_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic))
}

fn areas(fields: &Fields) -> [(Field, Field, f32); 3] {
    [
        (fields.title_words, fields.title_bigrams, TITLE_BOOST),
        (fields.extra_words, fields.extra_bigrams, EXTRA_BOOST),
        (fields.body_words, fields.body_bigrams, 1.0),
    ]
}

/// One way a clause can match: its pieces, scored with one boost.
enum Way {
    /// Every term somewhere in its field.
    AllOf { terms: Vec<Term>, boost: f32 },
    /// The pieces in a row (quoted phrases): `(position, piece)`.
    InARow { field: Field, pieces: Vec<(usize, String)>, boost: f32 },
}

impl Way {
    fn query(&self) -> Box<dyn Query> {
        let (query, boost) = match self {
            Way::AllOf { terms, boost } if terms.len() == 1 => (term_query(terms[0].clone()), *boost),
            Way::AllOf { terms, boost } => {
                let all = terms.iter().map(|term| (Occur::Must, term_query(term.clone()))).collect();
                (Box::new(BooleanQuery::new(all)) as Box<dyn Query>, *boost)
            }
            Way::InARow { field, pieces, boost } => {
                let terms =
                    pieces.iter().map(|(offset, piece)| (*offset, Term::from_field_text(*field, piece))).collect();
                (Box::new(PhraseQuery::new_with_offset(terms)) as Box<dyn Query>, *boost)
            }
        };
        Box::new(BoostQuery::new(query, boost))
    }
}

/// The bigram pieces of `text` in `field`: as consecutive positions when `exact` (quoted
/// phrases), else all of them anywhere in the field. Position checks dominate query time on
/// long bodies; plain terms rank by the word match, which counts twice as much.
fn bigram_way(field: Field, text: &str, exact: bool, boost: f32) -> Option<Way> {
    let pieces = bigram_pieces(text);
    let first = pieces.first()?.position;
    if pieces.len() == 1 || !exact {
        let terms = pieces.iter().map(|piece| Term::from_field_text(field, &piece.text)).collect();
        return Some(Way::AllOf { terms, boost });
    }
    let pieces = pieces.into_iter().map(|piece| (piece.position - first, piece.text)).collect();
    Some(Way::InARow { field, pieces, boost })
}

/// Where the index keeps a word: two-ideograph words only as bigrams (see
/// [`is_bigram_word`]), every other word in the word field. So a two-ideograph word of a
/// longer clause also matches where its characters meet across a word boundary (民警 in
/// 居民警惕), as a one-word query always did: the price of indexing it once.
fn word_term(words_field: Field, bigrams_field: Field, word: &str) -> Term {
    let field = if is_bigram_word(word) { bigrams_field } else { words_field };
    Term::from_field_text(field, word)
}

/// The ways one clause matches: for plain terms, "every word of it (boosted) or all its
/// bigrams" in each area; for quoted phrases, the characters in a row only.
fn clause_ways(fields: &Fields, jieba: &Jieba, clause: &Clause) -> Vec<Way> {
    let words = match clause {
        Clause::Term(text) => word_pieces(jieba, text, false),
        Clause::Phrase(_) => Vec::new(),
    };
    // A two-character word is its own only bigram: one term query finds it, at word weight
    // (what `word_term` would give, without a second, identical bigram way).
    let bigrams = bigram_pieces(clause.text());
    let same_single_term = words.len() == 1 && bigrams.len() == 1 && words[0].text == bigrams[0].text;
    let mut ways = Vec::new();
    for (words_field, bigrams_field, boost) in areas(fields) {
        if same_single_term {
            let terms = vec![Term::from_field_text(bigrams_field, &bigrams[0].text)];
            ways.push(Way::AllOf { terms, boost: boost * WORD_BOOST });
            continue;
        }
        ways.extend(bigram_way(bigrams_field, clause.text(), matches!(clause, Clause::Phrase(_)), boost));
        if !words.is_empty() {
            let terms = words.iter().map(|word| word_term(words_field, bigrams_field, &word.text)).collect();
            ways.push(Way::AllOf { terms, boost: boost * WORD_BOOST });
        }
    }
    ways
}

/// A query's words, segmented once: each required group's ways (a group without searchable
/// words is left out) and each excluded clause's.
struct Words {
    groups: Vec<Vec<Way>>,
    excluded: Vec<Vec<Way>>,
}

impl Words {
    fn of(fields: &Fields, jieba: &Jieba, parsed: &ParsedQuery) -> Self {
        let ways_of = |clauses: &[Clause]| -> Vec<Way> {
            clauses.iter().flat_map(|clause| clause_ways(fields, jieba, clause)).collect()
        };
        let groups = parsed.required.iter().map(|group| ways_of(group)).filter(|ways| !ways.is_empty()).collect();
        let excluded = parsed
            .excluded
            .iter()
            .map(|clause| ways_of(std::slice::from_ref(clause)))
            .filter(|ways| !ways.is_empty())
            .collect();
        Self { groups, excluded }
    }

    /// The words as one tantivy query: every group, none of the excluded.
    fn query(&self) -> Box<dyn Query> {
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        parts.extend(self.groups.iter().map(|ways| (Occur::Must, any_way(ways))));
        parts.extend(self.excluded_parts());
        if self.groups.is_empty() {
            parts.push((Occur::Must, Box::new(AllQuery)));
        }
        Box::new(BooleanQuery::new(parts))
    }

    fn excluded_parts(&self) -> impl Iterator<Item = (Occur, Box<dyn Query>)> + '_ {
        self.excluded.iter().map(|ways| (Occur::MustNot, any_way(ways)))
    }

    /// The words as a sum over alternatives, when every way is plain terms (quoted phrases need
    /// positions, which only tantivy's own scorer checks).
    fn alternatives(&self) -> Option<(Vec<topk::Alternative>, usize)> {
        let mut alternatives = Vec::new();
        for (group, ways) in self.groups.iter().enumerate() {
            for way in ways {
                let Way::AllOf { terms, boost } = way else { return None };
                alternatives.push(topk::Alternative { group, terms: terms.clone(), boost: *boost });
            }
        }
        let groups = self.groups.len();
        (1..=topk::MAX_GROUPS).contains(&groups).then_some((alternatives, groups))
    }
}

/// Matches when any of the ways does; scores the sum of those that do.
fn any_way(ways: &[Way]) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(ways.iter().map(|way| (Occur::Should, way.query())).collect()))
}

fn any_of(field: Field, values: &[String]) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(values.iter().map(|value| (Occur::Should, keyword_query(field, value))).collect()))
}

fn visibility_query(fields: &Fields, visibility: &Visibility) -> Option<Box<dyn Query>> {
    let public: Vec<String> = Status::PUBLIC.iter().map(|status| status.as_str().to_owned()).collect();
    match visibility {
        Visibility::All => None,
        Visibility::Public => Some(any_of(fields.status, &public)),
        Visibility::OwnAndPublic(user) => Some(Box::new(BooleanQuery::new(vec![
            (Occur::Should, keyword_query(fields.created_by, user)),
            (Occur::Should, keyword_query(fields.assignee, user)),
            (Occur::Should, any_of(fields.status, &public)),
        ]))),
        // No clause at all: a boolean query without clauses matches no document.
        Visibility::Nothing => Some(any_of(fields.status, &[])),
    }
}

fn filter_queries(fields: &Fields, filters: &Filters) -> Vec<Box<dyn Query>> {
    let mut queries = Vec::new();
    for (field, value) in [
        (fields.kind, &filters.kind),
        (fields.status, &filters.status),
        (fields.unit, &filters.unit),
        (fields.tag, &filters.tag),
    ] {
        if let Some(value) = value {
            queries.push(keyword_query(field, value));
        }
    }
    if filters.from_micros.is_some() || filters.to_micros.is_some() {
        let bound = |value: Option<i64>| {
            value.map_or(Bound::Unbounded, |micros| Bound::Included(Term::from_field_i64(fields.date, micros)))
        };
        queries.push(Box::new(RangeQuery::new(bound(filters.from_micros), bound(filters.to_micros))) as Box<dyn Query>);
    }
    queries
}

/// Visibility and filters: they decide which works are found, never how they rank (a caller's
/// own works are not ahead of others').
fn deciding_queries(fields: &Fields, request: &SearchRequest) -> Vec<Box<dyn Query>> {
    let mut deciding: Vec<Box<dyn Query>> = visibility_query(fields, &request.visibility).into_iter().collect();
    deciding.extend(filter_queries(fields, &request.filters));
    deciding
}

/// The whole query: words, visibility and filters.
fn whole_query(words: &Words, deciding: &[Box<dyn Query>]) -> Box<dyn Query> {
    let mut parts = vec![(Occur::Must, words.query())];
    let unranked =
        deciding.iter().map(|query| Box::new(ConstScoreQuery::new(query.box_clone(), 0.0)) as Box<dyn Query>);
    parts.extend(unranked.map(|query| (Occur::Must, query)));
    Box::new(BooleanQuery::new(parts))
}

/// What the results must pass besides the words: visibility, filters and excluded words.
/// `None` when nothing is left out.
fn filter_query(words: &Words, deciding: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    let mut parts: Vec<(Occur, Box<dyn Query>)> = deciding.into_iter().map(|query| (Occur::Must, query)).collect();
    parts.extend(words.excluded_parts());
    if parts.is_empty() {
        return None;
    }
    if !parts.iter().any(|(occur, _)| *occur == Occur::Must) {
        parts.push((Occur::Must, Box::new(AllQuery)));
    }
    Some(Box::new(BooleanQuery::new(parts)))
}

/// Searches running now, in any thread.
static SEARCHES_RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Counts one search in `running` until dropped (a panic included: a count left behind would
/// keep every later search on one thread).
struct Running<'a>(&'a AtomicUsize);

impl<'a> Running<'a> {
    /// Starts counting; how many run now, this one included.
    fn start(running: &'a AtomicUsize) -> (Self, usize) {
        (Self(running), running.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs `first` on another thread while `second` runs on this one when a core would
/// otherwise idle, else one after the other: with every core busy with searches, a second
/// thread per search only adds its start, its wake-ups and colder caches (under 32
/// connections on two cores the p99 went from about 200 to 180 ms, the rate stayed).
fn side_by_side<A: Send, B>(first: impl FnOnce() -> A + Send, second: impl FnOnce() -> B) -> (A, B) {
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from));
    side_by_side_on(&SEARCHES_RUNNING, cores, first, second)
}

fn side_by_side_on<A: Send, B>(
    running: &AtomicUsize,
    cores: usize,
    first: impl FnOnce() -> A + Send,
    second: impl FnOnce() -> B,
) -> (A, B) {
    let (_running, now) = Running::start(running);
    if now >= cores {
        return (first(), second());
    }
    std::thread::scope(|scope| {
        let counting = scope.spawn(first);
        let ranked = second();
        (counting.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), ranked)
    })
}

/// Runs a search on the live generation.
pub fn search(index: &SearchIndex, request: &SearchRequest) -> Result<SearchResults, IndexError> {
    let generation = index.live();
    let searcher = generation.reader.searcher();
    let fields = &index.fields;
    let words = Words::of(fields, index.jieba(), &request.query);
    let deciding = deciding_queries(fields, request);
    let query = whole_query(&words, &deciding);
    let filter = filter_query(&words, deciding)
        .map(|filter| filter.weight(EnableScoring::disabled_from_searcher(&searcher)))
        .transpose()?;
    let scored = words
        .alternatives()
        .map(|(alternatives, groups)| topk::ScoredQuery::new(&searcher, alternatives, groups, filter.as_deref()))
        .transpose()?;
    // Counting and ranking read the same postings independently: with a core to spare a
    // search takes about the longer of the two instead of their sum (see `side_by_side`).
    let count = || match &scored {
        // Ours walks the common shape's postings more cheaply than tantivy's unions.
        Some(scored) => facets::count(&searcher, &generation.facet_columns, &|reader| scored.matches(reader)),
        None => {
            let matching = query.weight(EnableScoring::disabled_from_searcher(&searcher))?;
            facets::count(&searcher, &generation.facet_columns, &facets::matches_of(matching.as_ref()))
        }
    };
    let rank = || -> Result<Vec<(f32, DocAddress)>, IndexError> {
        let top = TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset);
        Ok(match &scored {
            _ if request.newest_first => {
                let found = searcher.search(query.as_ref(), &top.order_by_fast_field::<i64>("date", Order::Desc))?;
                found.into_iter().map(|(_, address)| (0.0, address)).collect()
            }
            Some(scored) => {
                scored.top(&searcher, request.offset + request.limit)?.into_iter().skip(request.offset).collect()
            }
            None => searcher.search(query.as_ref(), &top.order_by_score())?,
        })
    };
    let (tally, addresses) = side_by_side(count, rank);
    let (tally, addresses) = (tally?, addresses?);
    let mut hits = Vec::with_capacity(addresses.len());
    for (score, address) in addresses.into_iter().take(request.limit) {
        let document: TantivyDocument = searcher.doc(address)?;
        if let Some(id) = document.get_first(fields.id).and_then(|value| value.as_str()) {
            hits.push((score, id.to_owned()));
        }
    }
    Ok(SearchResults { total: tally.total as usize, total_is_estimate: tally.estimated, hits, facets: tally.facets })
}

/// Escapes text for HTML.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// The normalised strings to mark for a query: each clause's whole text and, for plain
/// terms, each of its words (single characters only when the clause is one).
pub fn highlight_terms(jieba: &Jieba, query: &ParsedQuery) -> Vec<String> {
    let mut terms = Vec::new();
    for clause in query.positive_clauses() {
        let whole: String = normalize(clause.text()).text.split_whitespace().collect();
        if let Clause::Term(text) = clause {
            let words = word_pieces(jieba, text, false);
            terms.extend(
                words
                    .into_iter()
                    .map(|word| word.text)
                    .filter(|word| word.chars().count() > 1 || whole.chars().count() == 1),
            );
        }
        terms.push(whole);
    }
    terms.retain(|term| !term.is_empty());
    terms.sort();
    terms.dedup();
    terms
}

/// Byte ranges of the original text where any term occurs (matching on normalised text).
pub fn match_ranges(text: &str, terms: &[String]) -> Vec<(usize, usize)> {
    let normalized = normalize(text);
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for term in terms {
        for (start, _) in normalized.text.match_indices(term.as_str()) {
            ranges.push(normalized.original_range(start, start + term.len()));
        }
    }
    ranges.sort();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Escaped text with the ranges wrapped in `<mark>`.
pub fn mark(text: &str, ranges: &[(usize, usize)]) -> String {
    let mut html = String::with_capacity(text.len() + ranges.len() * 13);
    let mut cursor = 0;
    for &(start, end) in ranges {
        if start < cursor || end > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        html.push_str(&escape_html(&text[cursor..start]));
        html.push_str("<mark>");
        html.push_str(&escape_html(&text[start..end]));
        html.push_str("</mark>");
        cursor = end;
    }
    html.push_str(&escape_html(&text[cursor..]));
    html
}

/// Characters of context in a snippet.
const SNIPPET_CHARS: usize = 120;

/// A short escaped excerpt around the first match (or the start), with matches marked.
pub fn snippet(text: &str, terms: &[String]) -> String {
    let ranges = match_ranges(text, terms);
    let first = ranges.first().map_or(0, |(start, _)| *start);
    let starts: Vec<usize> = text.char_indices().map(|(offset, _)| offset).collect();
    let first_char = starts.partition_point(|offset| *offset < first);
    let from_char = first_char.saturating_sub(30);
    let from = starts.get(from_char).copied().unwrap_or(text.len());
    let to = starts.get(from_char + SNIPPET_CHARS).copied().unwrap_or(text.len());
    let window = &text[from..to];
    let inside: Vec<(usize, usize)> = ranges
        .iter()
        .filter(|(start, end)| *start >= from && *end <= to)
        .map(|(start, end)| (start - from, end - from))
        .collect();
    let mut html = String::new();
    if from > 0 {
        html.push('…');
    }
    html.push_str(&mark(window, &inside));
    if to < text.len() {
        html.push('…');
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms_of(way: &Way) -> Vec<(Field, String)> {
        let Way::AllOf { terms, .. } = way else { return Vec::new() };
        terms.iter().map(|term| (term.field(), term.value().as_str().unwrap_or_default().to_owned())).collect()
    }

    /// Two-ideograph words are looked for where the index keeps them: in the bigram field.
    #[test]
    fn a_clauses_words_are_looked_for_where_the_index_keeps_them() {
        let (_, fields) = super::super::schema();
        let jieba = super::super::analysis::segmenter(None);
        let ways = clause_ways(&fields, &jieba, &Clause::Term("派出所民警".into()));
        let word_way = ways.iter().map(terms_of).find(|terms| terms.iter().any(|(_, text)| text == "派出所"));
        let word_way = word_way.expect("a way with the clause's words");
        assert!(word_way.contains(&(fields.title_words, "派出所".to_owned())), "{word_way:?}");
        assert!(word_way.contains(&(fields.title_bigrams, "民警".to_owned())), "{word_way:?}");
        let single = clause_ways(&fields, &jieba, &Clause::Term("民警".into()));
        assert_eq!(single.len(), 3, "one term per area");
        assert_eq!(terms_of(&single[2]), vec![(fields.body_bigrams, "民警".to_owned())]);
    }

    #[test]
    fn count_and_rank_share_the_cores_and_a_panic_leaves_no_search_counted() {
        let running = AtomicUsize::new(0);
        let here = std::thread::current().id();
        let on = |cores| side_by_side_on(&running, cores, || std::thread::current().id(), || 7);
        assert_ne!(on(2), (here, 7), "a core is idle: counting runs on another thread");
        assert_eq!(on(1), (here, 7), "every core busy: one after the other, here");
        let busy = AtomicUsize::new(1);
        assert_eq!(side_by_side_on(&busy, 2, || std::thread::current().id(), || 7), (here, 7));
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            side_by_side_on(&running, 2, || panic!("counting failed"), || 7)
        }));
        assert!(panicked.is_err(), "the panic reaches the caller");
        assert_eq!(running.load(Ordering::Relaxed), 0, "and the search is no longer counted");
    }

    #[test]
    fn marks_escape_everything_else() {
        let text = "<script>alert(1)</script> 两学一做";
        let ranges = match_ranges(text, &["两学一做".into()]);
        assert_eq!(mark(text, &ranges), "&lt;script&gt;alert(1)&lt;/script&gt; <mark>两学一做</mark>");
    }

    #[test]
    fn traditional_text_is_marked_in_the_original_script() {
        let ranges = match_ranges("深入學習教育", &["学习".into()]);
        assert_eq!(mark("深入學習教育", &ranges), "深入<mark>學習</mark>教育");
    }

    #[test]
    fn snippets_cut_around_the_first_match() {
        let text = format!("{}反诈宣传{}", "前".repeat(200), "后".repeat(200));
        let html = snippet(&text, &["反诈".into()]);
        assert!(html.starts_with('…') && html.ends_with('…'));
        assert!(html.contains("<mark>反诈</mark>宣传"));
        assert!(html.chars().count() < 150);
    }

    #[test]
    fn overlapping_matches_merge() {
        assert_eq!(match_ranges("网络文工团", &["网络".into(), "网络文工团".into()]), vec![(0, 15)]);
    }
}
