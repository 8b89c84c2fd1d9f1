//! Runs a parsed query: words and bigrams combined so dictionary words rank first and
//! unknown names are still found, visibility and filters applied inside the query (so totals
//! and facet counts never include what the caller may not see), facets counted in the same
//! pass, and highlighting that escapes everything but the `<mark>` it adds.

use std::collections::BTreeMap;
use std::ops::Bound;

use jieba_rs::Jieba;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::{AggContextParams, AggregationCollector, AggregationLimitsGuard};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, TantivyDocument, Term};

use super::analysis::{bigram_pieces, normalize, word_pieces};
use super::query::{Clause, ParsedQuery};
use super::{Fields, IndexError, SearchIndex};
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

/// Counts per facet value.
pub type FacetCounts = BTreeMap<String, BTreeMap<String, u64>>;

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    pub total: usize,
    /// `(score, work id)`, best first.
    pub hits: Vec<(f32, String)>,
    pub facets: FacetCounts,
}

/// Weights of the three text areas.
const TITLE_BOOST: f32 = 3.0;
const EXTRA_BOOST: f32 = 1.5;
/// How much more a dictionary-word match counts than a bigram match.
const WORD_BOOST: f32 = 2.0;

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
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

/// The bigram pieces of `text` in `field`: as consecutive positions when `exact` (quoted
/// phrases), else all of them anywhere in the field. Position checks dominate query time on
/// long bodies, and plain terms already get their precision from the word match.
fn bigram_query(field: Field, text: &str, exact: bool) -> Option<Box<dyn Query>> {
    let pieces = bigram_pieces(text);
    let first = pieces.first()?.position;
    if pieces.len() == 1 {
        return Some(term_query(field, &pieces[0].text));
    }
    if !exact {
        let all = pieces.iter().map(|piece| (Occur::Must, term_query(field, &piece.text))).collect();
        return Some(Box::new(BooleanQuery::new(all)));
    }
    let terms =
        pieces.iter().map(|piece| (piece.position - first, Term::from_field_text(field, &piece.text))).collect();
    Some(Box::new(PhraseQuery::new_with_offset(terms)))
}

/// One clause: for plain terms, "every word of it (boosted) or all its bigrams"; for quoted
/// phrases, the characters in a row only.
fn clause_query(fields: &Fields, jieba: &Jieba, clause: &Clause) -> Option<Box<dyn Query>> {
    let words = match clause {
        Clause::Term(text) => word_pieces(jieba, text, false),
        Clause::Phrase(_) => Vec::new(),
    };
    // A two-character word is its own only bigram: one term query finds it, at word weight.
    let bigrams = bigram_pieces(clause.text());
    let same_single_term = words.len() == 1 && bigrams.len() == 1 && words[0].text == bigrams[0].text;
    let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (words_field, bigrams_field, boost) in areas(fields) {
        if same_single_term {
            alternatives.push((
                Occur::Should,
                Box::new(BoostQuery::new(term_query(bigrams_field, &bigrams[0].text), boost * WORD_BOOST)),
            ));
            continue;
        }
        if let Some(query) = bigram_query(bigrams_field, clause.text(), matches!(clause, Clause::Phrase(_))) {
            alternatives.push((Occur::Should, Box::new(BoostQuery::new(query, boost))));
        }
        if !words.is_empty() {
            let all_words = words.iter().map(|word| (Occur::Must, term_query(words_field, &word.text))).collect();
            let query = Box::new(BooleanQuery::new(all_words));
            alternatives.push((Occur::Should, Box::new(BoostQuery::new(query, boost * WORD_BOOST))));
        }
    }
    (!alternatives.is_empty()).then(|| Box::new(BooleanQuery::new(alternatives)) as Box<dyn Query>)
}

fn text_query(fields: &Fields, jieba: &Jieba, parsed: &ParsedQuery) -> Box<dyn Query> {
    let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for group in &parsed.required {
        let alternatives: Vec<(Occur, Box<dyn Query>)> = group
            .iter()
            .filter_map(|clause| clause_query(fields, jieba, clause))
            .map(|query| (Occur::Should, query))
            .collect();
        if alternatives.is_empty() {
            continue;
        }
        parts.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
    }
    for clause in &parsed.excluded {
        if let Some(query) = clause_query(fields, jieba, clause) {
            parts.push((Occur::MustNot, query));
        }
    }
    if !parts.iter().any(|(occur, _)| *occur == Occur::Must) {
        parts.push((Occur::Must, Box::new(AllQuery)));
    }
    Box::new(BooleanQuery::new(parts))
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

/// The whole query: text, visibility and filters.
pub fn build_query(fields: &Fields, jieba: &Jieba, request: &SearchRequest) -> Box<dyn Query> {
    let mut parts = vec![(Occur::Must, text_query(fields, jieba, &request.query))];
    if let Some(visible) = visibility_query(fields, &request.visibility) {
        parts.push((Occur::Must, visible));
    }
    parts.extend(filter_queries(fields, &request.filters).into_iter().map(|query| (Occur::Must, query)));
    Box::new(BooleanQuery::new(parts))
}

fn facet_request() -> Aggregations {
    static REQUEST: std::sync::OnceLock<Aggregations> = std::sync::OnceLock::new();
    REQUEST.get_or_init(parse_facet_request).clone()
}

fn parse_facet_request() -> Aggregations {
    serde_json::from_value(serde_json::json!({
        "kind": {"terms": {"field": "kind", "size": 20}},
        "status": {"terms": {"field": "status", "size": 20}},
        "unit": {"terms": {"field": "unit", "size": 50}},
        "year": {"terms": {"field": "year", "size": 100}},
    }))
    .expect("static aggregation request is valid")
}

fn facet_counts(results: &tantivy::aggregation::agg_result::AggregationResults) -> FacetCounts {
    let json = serde_json::to_value(results).unwrap_or_default();
    let mut facets = FacetCounts::new();
    for name in ["kind", "status", "unit", "year"] {
        let counts = facets.entry(name.to_owned()).or_default();
        for bucket in json[name]["buckets"].as_array().into_iter().flatten() {
            let key = match &bucket["key"] {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Number(number) => {
                    number.as_f64().map_or_else(|| number.to_string(), |value| format!("{}", value as i64))
                }
                _ => continue,
            };
            if key.is_empty() {
                continue;
            }
            counts.insert(key, bucket["doc_count"].as_u64().unwrap_or(0));
        }
    }
    facets
}

/// Runs a search on the live generation.
pub fn search(index: &SearchIndex, request: &SearchRequest) -> Result<SearchResults, IndexError> {
    let generation = index.live();
    let searcher = generation.reader.searcher();
    let fields = &index.fields;
    let query = build_query(fields, index.jieba(), request);
    let limits = AggregationLimitsGuard::default();
    let aggregations = AggregationCollector::from_aggs(
        facet_request(),
        AggContextParams::new(limits, generation.index.tokenizers().clone()),
    );
    let top = TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset);
    let (total, addresses, facets): (usize, Vec<(f32, DocAddress)>, _) = if request.newest_first {
        let (total, found, facets) =
            searcher.search(&query, &(Count, top.order_by_fast_field::<i64>("date", Order::Desc), aggregations))?;
        (total, found.into_iter().map(|(_, address)| (0.0, address)).collect(), facets)
    } else {
        let (total, found, facets) = searcher.search(&query, &(Count, top.order_by_score(), aggregations))?;
        (total, found, facets)
    };
    let mut hits = Vec::with_capacity(addresses.len());
    for (score, address) in addresses.into_iter().take(request.limit) {
        let document: TantivyDocument = searcher.doc(address)?;
        if let Some(id) = document.get_first(fields.id).and_then(|value| value.as_str()) {
            hits.push((score, id.to_owned()));
        }
    }
    Ok(SearchResults { total, hits, facets: facet_counts(&facets) })
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
