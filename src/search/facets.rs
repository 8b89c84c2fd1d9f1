//! The total and the facet counts of a search in one pass over fast fields: each matching
//! document's kind, status and unit are read as term ordinals and its year as a number, and
//! counted into plain arrays; the ordinals become text once per segment, at the end. This
//! replaces tantivy's general `AggregationCollector` (which resolves its columns per request,
//! keeps per-bucket state in maps and answers in JSON) on the hottest path of a search.
//!
//! Counting stops being exact past [`EXACT_UP_TO`] matches: the words people type most match
//! most of the archive, and walking half a million documents to say "约 50 万条" instead of
//! "503 217 条" is where a search's time went. Past the limit, the rest of the index is sampled
//! in evenly spaced stripes and the counts are scaled by the share of documents looked at.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};

use tantivy::columnar::{Cardinality, Column, StrColumn};
use tantivy::index::SegmentId;
use tantivy::query::Weight;
use tantivy::{DocId, DocSet, Searcher, SearcherGeneration, SegmentReader, TERMINATED, Warmer};

/// Counts per facet value.
pub type FacetCounts = BTreeMap<String, BTreeMap<String, u64>>;

/// The keyword facets, and how many values of each a page shows (the most frequent).
const KEYWORDS: [(&str, usize); 3] = [("kind", 20), ("status", 20), ("unit", 50)];
/// The year facet, and how many years a page shows.
const YEAR: (&str, usize) = ("year", 100);

/// Up to this many matches, the total and every facet count are exact.
pub const EXACT_UP_TO: u64 = 10_000;
/// Past the exact part, how many evenly spaced stripes of the rest are sampled, and how many
/// matches each stripe counts before it stops: 4 096 in all, a relative error of about 1.6 %,
/// well inside the two figures shown ("约 12 万").
const STRIPES: u64 = 16;
const PER_STRIPE: u64 = 256;

/// How many documents matched, and the facet counts over them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub total: u64,
    pub facets: FacetCounts,
    /// Whether `total` and the facet counts were scaled up from a sample.
    pub estimated: bool,
}

/// One segment's facet columns. Opening them reads their headers and, for the year, a table
/// of blocks: done for every segment and every sampled stripe of every search, it was a
/// twentieth of a search, so they are opened once per segment (see [`FacetColumns`]).
pub struct SegmentColumns {
    keywords: Vec<(&'static str, Option<StrColumn>)>,
    year: Column<i64>,
}

impl SegmentColumns {
    fn open(reader: &SegmentReader) -> tantivy::Result<Self> {
        let fast = reader.fast_fields();
        let mut keywords = Vec::with_capacity(KEYWORDS.len());
        for (name, _) in KEYWORDS {
            keywords.push((name, fast.str(name)?));
        }
        Ok(Self { keywords, year: fast.i64(YEAR.0)? })
    }

    /// A counter per term ordinal of each keyword column, all `zero`.
    fn counters<T: Clone>(&self, zero: T) -> Vec<Vec<T>> {
        let terms = |column: &Option<StrColumn>| column.as_ref().map_or(0, |column| column.num_terms());
        self.keywords.iter().map(|(_, column)| vec![zero.clone(); terms(column)]).collect()
    }
}

/// The facet columns of the live segments: a tantivy warmer, so they are opened when a
/// searcher opens (before any search sees it) and let go when no searcher has the segment.
#[derive(Default)]
pub struct FacetColumns {
    by_segment: RwLock<HashMap<SegmentId, Arc<SegmentColumns>>>,
}

impl FacetColumns {
    /// A segment's columns; opened on the spot for a segment no warmer saw (a reader built
    /// without this warmer).
    fn of(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentColumns>> {
        let known =
            self.by_segment.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&reader.segment_id()).cloned();
        match known {
            Some(columns) => Ok(columns),
            None => Ok(Arc::new(SegmentColumns::open(reader)?)),
        }
    }
}

impl Warmer for FacetColumns {
    fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        let mut opened = Vec::new();
        {
            let known = self.by_segment.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            for reader in searcher.segment_readers().iter().filter(|reader| !known.contains_key(&reader.segment_id())) {
                opened.push((reader.segment_id(), Arc::new(SegmentColumns::open(reader)?)));
            }
        }
        self.by_segment.write().unwrap_or_else(|poisoned| poisoned.into_inner()).extend(opened);
        Ok(())
    }

    fn garbage_collect(&self, live_generations: &[&SearcherGeneration]) {
        let live: HashSet<SegmentId> =
            live_generations.iter().flat_map(|generation| generation.segments().keys().copied()).collect();
        self.by_segment
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|segment, _| live.contains(segment));
    }
}

/// One segment's counts: a count per term ordinal of each keyword facet, and per year.
pub struct SegmentFacets {
    columns: Arc<SegmentColumns>,
    counts: Vec<Vec<u64>>,
    years: YearCounts,
    total: u64,
}

/// How many matches are read from the columns at once: one call per column per batch lets
/// the column's decoder run in a loop instead of once per document behind a `dyn` call.
const BATCH: usize = 64;

impl SegmentFacets {
    fn new(columns: Arc<SegmentColumns>) -> Self {
        let counts = columns.counters(0);
        let years = YearCounts::for_column(&columns.year);
        Self { columns, counts, years, total: 0 }
    }

    /// Counts a batch of matching documents (at most [`BATCH`]).
    fn collect(&mut self, docs: &[DocId]) {
        self.total += docs.len() as u64;
        let mut ords = [None; BATCH];
        let ords = &mut ords[..docs.len()];
        for ((_, column), counts) in self.columns.keywords.iter().zip(&mut self.counts) {
            let Some(column) = column else { continue };
            if column.ords().get_cardinality() == Cardinality::Multivalued {
                for doc in docs {
                    column.term_ords(*doc).for_each(|ord| counts[ord as usize] += 1);
                }
                continue;
            }
            ords.fill(None);
            column.ords().first_vals(docs, ords);
            for ord in ords.iter().flatten() {
                counts[*ord as usize] += 1;
            }
        }
        let mut years = [None; BATCH];
        let years = &mut years[..docs.len()];
        self.columns.year.first_vals(docs, years);
        for year in years.iter().flatten() {
            self.years.add(*year);
        }
    }
}

/// Widest span of years counted in a plain array (works span a few years; anything wider
/// goes to a map).
const YEAR_ARRAY_SPAN: i64 = 512;

/// Counts per year. Every match adds one, so the common case is an array indexed from the
/// segment's first year rather than a hash map (hashing was a visible share of a search).
struct YearCounts {
    first: i64,
    counts: Vec<u64>,
    others: HashMap<i64, u64>,
}

impl YearCounts {
    fn for_column(column: &Column<i64>) -> Self {
        let (first, last) = (column.min_value(), column.max_value());
        let span = last.saturating_sub(first).saturating_add(1);
        let counts = if (1..=YEAR_ARRAY_SPAN).contains(&span) { vec![0; span as usize] } else { Vec::new() };
        Self { first, counts, others: HashMap::new() }
    }

    fn add(&mut self, year: i64) {
        let offset = year.checked_sub(self.first).and_then(|offset| usize::try_from(offset).ok());
        let slot = offset.and_then(|at| self.counts.get_mut(at));
        match slot {
            Some(count) => *count += 1,
            None => *self.others.entry(year).or_default() += 1,
        }
    }

    fn into_counts(self) -> impl Iterator<Item = (i64, u64)> {
        let first = self.first;
        let listed = self.counts.into_iter().enumerate().map(move |(at, count)| (first + at as i64, count));
        listed.chain(self.others).filter(|(_, count)| *count > 0)
    }
}

fn keep_shown(facets: &mut FacetCounts) {
    for (facet, shown) in KEYWORDS.into_iter().chain([YEAR]) {
        keep_most_frequent(facets.entry(facet.to_owned()).or_default(), shown);
    }
}

/// One segment's counts over its parts (the exact one and the sampled stripes), each scaled
/// by what it stands for; ordinals become text once per segment, at the end.
struct Scaled {
    columns: Arc<SegmentColumns>,
    counts: Vec<Vec<f64>>,
    years: HashMap<i64, f64>,
    total: f64,
}

impl Scaled {
    fn new(columns: Arc<SegmentColumns>) -> Self {
        Self { counts: columns.counters(0.0), columns, years: HashMap::new(), total: 0.0 }
    }

    fn add(&mut self, part: SegmentFacets, factor: f64) {
        self.total += part.total as f64 * factor;
        for (mine, theirs) in self.counts.iter_mut().zip(part.counts) {
            for (ord, count) in theirs.into_iter().enumerate().filter(|(_, count)| *count > 0) {
                mine[ord] += count as f64 * factor;
            }
        }
        for (year, count) in part.years.into_counts() {
            *self.years.entry(year).or_default() += count as f64 * factor;
        }
    }

    /// Adds the counts under their facet and value.
    fn add_to(self, totals: &mut BTreeMap<(String, String), f64>) {
        let mut text = String::new();
        for ((name, column), counts) in self.columns.keywords.iter().zip(self.counts) {
            let Some(column) = column else { continue };
            for (ord, count) in counts.into_iter().enumerate().filter(|(_, count)| *count > 0.0) {
                text.clear();
                // An empty value (a work without a unit) is not a facet.
                if column.ord_to_str(ord as u64, &mut text).unwrap_or(false) && !text.is_empty() {
                    *totals.entry(((*name).to_owned(), text.clone())).or_default() += count;
                }
            }
        }
        for (year, count) in self.years {
            *totals.entry((YEAR.0.to_owned(), year.to_string())).or_default() += count;
        }
    }
}

/// Where counting stands: each segment's counts, and whether any part was cut short.
#[derive(Default)]
struct Counting {
    segments: Vec<Scaled>,
    /// A stripe counted to its end is exact; only one cut short makes the figures estimates.
    estimated: bool,
}

impl Counting {
    fn finish(self) -> Tally {
        let mut totals: BTreeMap<(String, String), f64> = BTreeMap::new();
        let mut total = 0.0;
        for segment in self.segments {
            total += segment.total;
            segment.add_to(&mut totals);
        }
        let mut facets = FacetCounts::new();
        for name in KEYWORDS.iter().map(|(name, _)| *name).chain([YEAR.0]) {
            facets.entry(name.to_owned()).or_default();
        }
        for ((facet, value), count) in totals {
            facets.entry(facet).or_default().insert(value, count.round() as u64);
        }
        keep_shown(&mut facets);
        Tally { total: total.round() as u64, facets, estimated: self.estimated }
    }
}

/// Opens the matching documents of one segment, in order.
pub type OpenMatches<'a> = dyn Fn(&SegmentReader) -> tantivy::Result<Box<dyn DocSet>> + 'a;

/// The matches of a query tantivy runs (built without scoring).
pub fn matches_of(weight: &dyn Weight) -> impl Fn(&SegmentReader) -> tantivy::Result<Box<dyn DocSet>> + '_ {
    move |reader| Ok(Box::new(weight.scorer(reader, 1.0)?) as Box<dyn DocSet>)
}

/// Counts the documents `open` finds and their facets: exactly up to [`EXACT_UP_TO`], then
/// from evenly spaced samples of the rest.
pub fn count(searcher: &Searcher, columns: &FacetColumns, open: &OpenMatches) -> tantivy::Result<Tally> {
    count_with(searcher, columns, open, (EXACT_UP_TO, PER_STRIPE))
}

fn count_with(
    searcher: &Searcher,
    columns: &FacetColumns,
    open: &OpenMatches,
    (exact_up_to, per_stripe): (u64, u64),
) -> tantivy::Result<Tally> {
    let readers = searcher.segment_readers();
    let mut counting = Counting::default();
    let mut budget = exact_up_to;
    let mut resume_at: Vec<Option<DocId>> = vec![None; readers.len()];
    // The exact part: every segment in order until the budget is spent.
    for (ordinal, reader) in readers.iter().enumerate() {
        let columns = columns.of(reader)?;
        let mut scaled = Scaled::new(columns.clone());
        if budget == 0 {
            resume_at[ordinal] = Some(0);
        } else {
            let mut segment = SegmentFacets::new(columns);
            let mut matches = open(reader)?;
            let stopped = collect_until(&mut *matches, reader, &mut segment, TERMINATED, budget);
            budget -= segment.total;
            resume_at[ordinal] = stopped;
            scaled.add(segment, 1.0);
        }
        counting.segments.push(scaled);
    }
    let rest: u64 = readers
        .iter()
        .zip(&resume_at)
        .filter_map(|(reader, resume)| resume.map(|from| u64::from(reader.max_doc() - from)))
        .sum();
    if rest > 0 {
        for ((reader, resume), scaled) in readers.iter().zip(&resume_at).zip(&mut counting.segments) {
            if let Some(from) = *resume {
                counting.estimated |= sample(scaled, open, reader, (from, rest), per_stripe)?;
            }
        }
    }
    Ok(counting.finish())
}

/// Samples documents `from..max_doc` of one segment in stripes, its share of [`STRIPES`], into
/// its counts; whether any stripe was cut short (the counts are estimates).
fn sample(
    scaled: &mut Scaled,
    open: &OpenMatches,
    reader: &SegmentReader,
    (from, rest): (DocId, u64),
    per_stripe: u64,
) -> tantivy::Result<bool> {
    let length = u64::from(reader.max_doc() - from);
    let stripes = (STRIPES * length).div_ceil(rest).max(1);
    let mut scorer = open(reader)?;
    let mut estimated = false;
    for stripe in 0..stripes {
        let start = from + (length * stripe / stripes) as DocId;
        let end = from + (length * (stripe + 1) / stripes) as DocId;
        let mut segment = SegmentFacets::new(scaled.columns.clone());
        if scorer.doc() < start {
            scorer.seek(start);
        }
        let stopped = collect_until(&mut *scorer, reader, &mut segment, end, per_stripe);
        let looked_at = stopped.map_or(end, |at| at) - start;
        let factor = if looked_at == 0 { 1.0 } else { f64::from(end - start) / f64::from(looked_at) };
        estimated |= factor != 1.0;
        scaled.add(segment, factor);
        if stopped.is_some() && scorer.doc() < end {
            scorer.seek(end);
        }
    }
    Ok(estimated)
}

/// Collects matches below `end` until `budget` of them are counted. Returns the document
/// after the last one counted when the budget ran out first.
fn collect_until(
    scorer: &mut dyn DocSet,
    reader: &SegmentReader,
    segment: &mut SegmentFacets,
    end: DocId,
    budget: u64,
) -> Option<DocId> {
    let alive = reader.alive_bitset();
    let mut batch = [0; BATCH];
    let mut batched = 0;
    let mut doc = scorer.doc();
    let mut stopped = None;
    while doc < end {
        if alive.is_none_or(|alive| alive.is_alive(doc)) {
            batch[batched] = doc;
            batched += 1;
            if segment.total + batched as u64 >= budget {
                stopped = Some(doc + 1);
                break;
            }
            if batched == BATCH {
                segment.collect(&batch);
                batched = 0;
            }
        }
        doc = scorer.advance();
    }
    segment.collect(&batch[..batched]);
    stopped
}

/// Keeps the `shown` most frequent values (ties: the smaller value first).
fn keep_most_frequent(counts: &mut BTreeMap<String, u64>, shown: usize) {
    if counts.len() <= shown {
        return;
    }
    let mut ranked: Vec<(String, u64)> = std::mem::take(counts).into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts.extend(ranked.into_iter().take(shown));
}

#[cfg(test)]
mod tests {
    use tantivy::query::{EnableScoring, Query, TermQuery};
    use tantivy::schema::{FAST, INDEXED, IndexRecordOption, STRING, Schema};
    use tantivy::{Index, TantivyDocument, Term};

    use super::*;

    /// Three segments of documents with a kind, a unit and a year; the word "yes" in a share
    /// of them that changes along the index (as a season's topic would).
    fn archive() -> (Index, tantivy::schema::Field) {
        let mut schema = Schema::builder();
        let word = schema.add_text_field("word", STRING);
        let kind = schema.add_text_field("kind", STRING | FAST);
        let status = schema.add_text_field("status", STRING | FAST);
        let unit = schema.add_text_field("unit", STRING | FAST);
        let year = schema.add_i64_field("year", INDEXED | FAST);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 30_000_000).expect("writer");
        for number in 0..30_000u32 {
            let mut document = TantivyDocument::default();
            let share = if number < 10_000 { 2 } else { 3 };
            document.add_text(word, if number % share == 0 { "yes" } else { "no" });
            document.add_text(kind, ["micro_film", "weibo_post"][(number % 2) as usize]);
            document.add_text(status, "published");
            document.add_text(unit, if number % 5 == 0 { "" } else { "城关派出所" });
            document.add_i64(year, 2020 + i64::from(number % 4));
            writer.add_document(document).expect("add");
            if number % 10_000 == 9_999 {
                writer.commit().expect("commit");
            }
        }
        (index, word)
    }

    #[test]
    fn counts_are_exact_up_to_the_limit_and_estimated_past_it() {
        let (index, word) = archive();
        let searcher = index.reader().expect("reader").searcher();
        let query = TermQuery::new(Term::from_field_text(word, "yes"), IndexRecordOption::Basic);
        let weight = query.weight(EnableScoring::disabled_from_searcher(&searcher)).expect("weight");
        let truth = (0..30_000u64).filter(|number| number % if *number < 10_000 { 2 } else { 3 } == 0).count() as u64;
        let exact = count_with(&searcher, &FacetColumns::default(), &matches_of(weight.as_ref()), (100_000, 256))
            .expect("count");
        assert_eq!((exact.total, exact.estimated), (truth, false));
        assert_eq!(exact.facets["kind"].values().sum::<u64>(), truth);
        assert!(!exact.facets["unit"].contains_key(""), "an empty unit is not a facet");

        let estimate =
            count_with(&searcher, &FacetColumns::default(), &matches_of(weight.as_ref()), (1_000, 64)).expect("count");
        assert!(estimate.estimated);
        let error = (estimate.total as f64 - truth as f64).abs() / truth as f64;
        assert!(error < 0.05, "estimated {} for {truth}", estimate.total);
        let kinds: u64 = estimate.facets["kind"].values().sum();
        assert!((kinds as f64 - estimate.total as f64).abs() <= 2.0, "facets scale with the total");
        let years = &estimate.facets["year"];
        assert_eq!(years.len(), 4);
    }

    #[test]
    fn columns_open_as_a_searcher_opens_and_go_with_their_segments() {
        let (index, word) = archive();
        let columns = Arc::new(FacetColumns::default());
        let warmer = Arc::downgrade(&columns) as std::sync::Weak<dyn Warmer>;
        let reader = index.reader_builder().warmers(vec![warmer]).try_into().expect("reader");
        let cached = || columns.by_segment.read().expect("lock").len();
        assert_eq!(cached(), 3, "one entry per segment, before any search");
        let searcher = reader.searcher();
        let query = TermQuery::new(Term::from_field_text(word, "yes"), IndexRecordOption::Basic);
        let weight = query.weight(EnableScoring::disabled_from_searcher(&searcher)).expect("weight");
        let warm = count_with(&searcher, &columns, &matches_of(weight.as_ref()), (1_000, 64)).expect("count");
        let cold = count_with(&searcher, &FacetColumns::default(), &matches_of(weight.as_ref()), (1_000, 64));
        assert_eq!(warm, cold.expect("count"));
        drop(searcher);
        let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(1, 30_000_000).expect("writer");
        let segments = index.searchable_segment_ids().expect("segments");
        writer.merge(&segments).wait().expect("merge");
        writer.wait_merging_threads().expect("merged");
        reader.reload().expect("reload");
        let _searcher = reader.searcher();
        // tantivy collects what no searcher holds every second, on its own thread.
        let started = std::time::Instant::now();
        while cached() != 1 && started.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(cached(), 1, "the merged-away segments' columns are let go");
    }

    #[test]
    fn years_outside_the_array_are_still_counted() {
        let mut years = YearCounts { first: 2020, counts: vec![0; 3], others: HashMap::new() };
        for year in [2020, 2022, 2022, 2019, 3000, i64::MIN] {
            years.add(year);
        }
        let mut counted: Vec<(i64, u64)> = years.into_counts().collect();
        counted.sort();
        assert_eq!(counted, vec![(i64::MIN, 1), (2019, 1), (2020, 1), (2022, 2), (3000, 1)]);
    }

    #[test]
    fn only_the_most_frequent_values_are_kept() {
        let mut counts: BTreeMap<String, u64> = [("a", 1), ("b", 5), ("c", 5), ("d", 2)]
            .into_iter()
            .map(|(value, count)| (value.to_owned(), count))
            .collect();
        keep_most_frequent(&mut counts, 3);
        assert_eq!(counts.keys().map(String::as_str).collect::<Vec<_>>(), ["b", "c", "d"]);
    }
}
