//! The best `k` documents by score without scoring every match.
//!
//! A search's score is a sum: every alternative of a clause that matches (a word in the title,
//! the bigrams of a name in the body…) adds its terms' BM25 scores, boosted by where they
//! matched. tantivy prunes only pure unions and pure intersections of terms (block-max WAND),
//! and our query is an intersection of unions of intersections, so it scored all of the
//! hundreds of thousands of documents a common word matches. Here the same sum is computed with
//! block-max MaxScore (Turtle & Flood; Ding & Suel): alternatives whose best possible scores
//! add up to less than the current k-th best can only confirm a document, never bring one in,
//! so only the others are walked; and a stretch where even the block maxima of those cannot
//! reach the k-th best is skipped whole. The result is the exact top k of the same scores.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{Bm25StatisticsProvider, Bm25Weight, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED, Term};

use self::matches::Matches;

mod matches;

/// One alternative of a clause: all of its terms must occur; each is scored with `boost`.
#[derive(Debug, Clone)]
pub struct Alternative {
    /// Which required group the alternative belongs to (each group must match).
    pub group: usize,
    pub terms: Vec<Term>,
    pub boost: Score,
}

/// At most this many groups (one bit each in a mask).
pub const MAX_GROUPS: usize = 64;

/// A query in the shape this module can prune: a sum over alternatives, every group matched,
/// and a filter (visibility, filters, excluded words) that decides without scoring.
pub struct ScoredQuery<'a> {
    alternatives: Vec<Alternative>,
    /// Each alternative's terms' BM25 weights (boosted) and their field's average length over
    /// the whole index.
    weights: Vec<Vec<(Bm25Weight, Score)>>,
    groups: usize,
    filter: Option<&'a dyn Weight>,
}

impl<'a> ScoredQuery<'a> {
    /// `groups`: how many groups, 1 to [`MAX_GROUPS`]; `filter` built without scoring, `None`
    /// when every document passes.
    pub fn new(
        searcher: &Searcher,
        alternatives: Vec<Alternative>,
        groups: usize,
        filter: Option<&'a dyn Weight>,
    ) -> tantivy::Result<Self> {
        let fits = |group: usize| group < groups;
        if !(1..=MAX_GROUPS).contains(&groups) || !alternatives.iter().all(|alternative| fits(alternative.group)) {
            let message = format!("{groups} groups (1 to {MAX_GROUPS}), every alternative in one of them");
            return Err(tantivy::TantivyError::InvalidArgument(message));
        }
        let weights = alternatives
            .iter()
            .map(|alternative| {
                alternative.terms.iter().map(|term| term_weight(searcher, term, alternative.boost)).collect()
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Self { alternatives, weights, groups, filter })
    }

    /// The documents of one segment that match, in order, without scores (for counting).
    pub fn matches(&self, reader: &SegmentReader) -> tantivy::Result<Box<dyn DocSet>> {
        let mut groups: Vec<Vec<Cursor>> = (0..self.groups).map(|_| Vec::new()).collect();
        for cursor in self.open_cursors(reader, IndexRecordOption::Basic)? {
            groups[cursor.group].push(cursor);
        }
        // A group is settled by the first alternative found at the target: try the densest
        // first. And the sparsest group first, as it moves the target furthest.
        for group in &mut groups {
            group.sort_by_key(|cursor| std::cmp::Reverse(cursor.doc_freq()));
        }
        groups.sort_by_key(|group| group.iter().map(|cursor| u64::from(cursor.doc_freq())).sum::<u64>());
        let filter = self.filter.map(|weight| weight.scorer(reader, 1.0)).transpose()?;
        Ok(Box::new(Matches::new(groups, filter)))
    }

    /// The best `k` documents by score, best first.
    pub fn top(&self, searcher: &Searcher, k: usize) -> tantivy::Result<Vec<(Score, DocAddress)>> {
        let mut best = Best { k: k.max(1), heap: BinaryHeap::new() };
        let all_groups = u64::MAX >> (64 - self.groups);
        for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
            let mut cursors = self.open_cursors(reader, IndexRecordOption::WithFreqs)?;
            cursors.sort_by(|a, b| a.max.total_cmp(&b.max));
            let filter = self.filter.map(|weight| weight.scorer(reader, 1.0)).transpose()?;
            let mut segment = Segment { ordinal: ordinal as SegmentOrdinal, reader, all_groups, filter };
            segment.walk(cursors, &mut best);
        }
        let mut hits = best.heap.into_vec();
        hits.sort();
        Ok(hits.into_iter().map(|hit| (hit.score, hit.address)).collect())
    }

    /// The segment's cursors, for the alternatives that can match in it at all.
    fn open_cursors(&self, reader: &SegmentReader, record: IndexRecordOption) -> tantivy::Result<Vec<Cursor>> {
        let mut cursors = Vec::with_capacity(self.alternatives.len());
        'alternatives: for (alternative, weights) in self.alternatives.iter().zip(&self.weights) {
            let mut terms = Vec::with_capacity(alternative.terms.len());
            for (term, (weight, index_average)) in alternative.terms.iter().zip(weights) {
                let index = reader.inverted_index(term.field())?;
                let Some(info) = index.get_term_info(term)? else { continue 'alternatives };
                let block = index.read_block_postings_from_terminfo(&info, record)?;
                let norms = reader.get_fieldnorms_reader(term.field())?;
                let segment_average = index.total_num_tokens() as Score / reader.max_doc().max(1) as Score;
                let slack = block_slack(segment_average, *index_average);
                terms.push((info.doc_freq, TermCursor::new(block, norms, weight.clone(), slack)));
            }
            terms.sort_by_key(|(doc_freq, _)| *doc_freq);
            let terms: Vec<TermCursor> = terms.into_iter().map(|(_, cursor)| cursor).collect();
            let max = terms.iter().map(TermCursor::max_score).sum();
            let mut cursor = Cursor { terms, group: alternative.group, max };
            cursor.align();
            cursors.push(cursor);
        }
        Ok(cursors)
    }
}

/// A term's boosted BM25 weight and its field's average length over the whole index.
fn term_weight(searcher: &Searcher, term: &Term, boost: Score) -> tantivy::Result<(Bm25Weight, Score)> {
    let weight = Bm25Weight::for_terms(searcher, std::slice::from_ref(term))?.boost_by(boost);
    let average = searcher.total_num_tokens(term.field())? as Score / searcher.total_num_docs()?.max(1) as Score;
    Ok((weight, average))
}

/// How far a block maximum tantivy stored can be below the true one: it chose the block's best
/// (length, frequency) pair by the segment's average field length, and scores are computed with
/// the whole index's. A length term scaled by `r` changes any score by at most `max(r, 1/r)`.
fn block_slack(segment_average: Score, index_average: Score) -> Score {
    if segment_average <= 0.0 || index_average <= 0.0 {
        return 1.0;
    }
    (segment_average / index_average).max(index_average / segment_average) * 1.000_1
}

/// One found document.
#[derive(Debug, Clone, Copy)]
struct Hit {
    score: Score,
    address: DocAddress,
}

/// "Greater" is worse, so the heap's top is the hit the next better one pushes out. Ties go to
/// the earlier document, as tantivy's own collector does.
impl Ord for Hit {
    fn cmp(&self, other: &Self) -> Ordering {
        other.score.total_cmp(&self.score).then_with(|| self.address.cmp(&other.address))
    }
}

impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Hit {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Hit {}

/// The best `k` hits so far.
struct Best {
    k: usize,
    heap: BinaryHeap<Hit>,
}

impl Best {
    /// The score a document must beat to get in.
    fn threshold(&self) -> Score {
        if self.heap.len() < self.k {
            Score::NEG_INFINITY
        } else {
            self.heap.peek().map_or(Score::NEG_INFINITY, |hit| hit.score)
        }
    }

    fn offer(&mut self, hit: Hit) {
        if self.heap.len() < self.k {
            self.heap.push(hit);
        } else if hit.score > self.threshold() {
            self.heap.pop();
            self.heap.push(hit);
        }
    }
}

/// Documents per postings block (tantivy's compression block; the last block of a list is
/// padded with `TERMINATED` up to it).
const BLOCK: usize = 128;

/// One term's postings in one segment, with the block maxima tantivy stores for block-max
/// WAND. (tantivy keeps its own term scorer private; its block postings are public.)
struct TermCursor {
    block: BlockSegmentPostings,
    at: usize,
    norms: FieldNormReader,
    weight: Bm25Weight,
    /// What the stored block maxima are multiplied by to stay upper bounds (see [`block_slack`]).
    slack: Score,
}

impl TermCursor {
    fn new(mut block: BlockSegmentPostings, norms: FieldNormReader, weight: Bm25Weight, slack: Score) -> Self {
        let at = block.seek(0);
        Self { block, at, norms, weight, slack }
    }

    fn doc(&self) -> DocId {
        self.block.doc(self.at)
    }

    fn advance(&mut self) -> DocId {
        if self.at == BLOCK - 1 {
            self.at = 0;
            self.block.advance();
        } else {
            self.at += 1;
        }
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc() >= target {
            return self.doc();
        }
        // Dense lists are mostly walked one step at a time: try the next entry first.
        if self.at + 1 < BLOCK {
            self.at += 1;
            if self.doc() >= target {
                return self.doc();
            }
        }
        self.at = self.block.seek(target);
        self.doc()
    }

    fn score(&self) -> Score {
        self.weight.score(self.norms.fieldnorm_id(self.doc()), self.block.freq(self.at))
    }

    fn max_score(&self) -> Score {
        self.weight.max_score()
    }

    /// The most the term adds to a document of the current block, and the block's last one.
    fn block_max(&mut self) -> (Score, DocId) {
        let last = self.block.docs().last().copied().unwrap_or(TERMINATED);
        let stored = self.block.block_max_score(&self.norms, &self.weight) * self.slack;
        (stored.min(self.weight.max_score()), last)
    }
}

/// An alternative's postings in one segment: its terms walked in step (rarest first).
struct Cursor {
    terms: Vec<TermCursor>,
    group: usize,
    /// The most it can add to any document's score.
    max: Score,
}

impl Cursor {
    fn doc(&self) -> DocId {
        self.terms[0].doc()
    }

    /// How many documents its rarest term is in: at most how many the alternative matches.
    fn doc_freq(&self) -> u32 {
        self.terms[0].block.doc_freq()
    }

    /// Moves every term to the first document at or after the lead's where all of them occur.
    fn align(&mut self) -> DocId {
        let mut target = self.terms[0].doc();
        'search: while target != TERMINATED {
            for term in &mut self.terms[1..] {
                let found = if term.doc() < target { term.seek(target) } else { term.doc() };
                if found > target {
                    target = self.terms[0].seek(found);
                    continue 'search;
                }
            }
            break;
        }
        target
    }

    fn advance(&mut self) -> DocId {
        self.terms[0].advance();
        self.align()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc() >= target {
            return self.doc();
        }
        self.terms[0].seek(target);
        self.align()
    }

    fn score(&self) -> Score {
        self.terms.iter().map(TermCursor::score).sum()
    }

    /// The most this alternative can add to documents up to the returned one (the end of the
    /// shortest current block among its terms).
    fn block_max(&mut self) -> (Score, DocId) {
        if self.doc() == TERMINATED {
            return (0.0, TERMINATED);
        }
        let mut end = TERMINATED;
        let mut max = 0.0;
        for term in &mut self.terms {
            let (term_max, last) = term.block_max();
            max += term_max;
            end = end.min(last);
        }
        (max, end)
    }
}

/// Bounds are sums of floats added in another order than the scores they bound: a hair of
/// slack keeps a document whose score equals its bound from being skipped.
fn below(bound: Score, threshold: Score) -> bool {
    bound * 1.000_01 + 1e-6 < threshold
}

/// Moves the cursors to the first document, at or after the earliest one among them, where
/// every group has an alternative; returns it.
fn first_match(cursors: &mut [Cursor], all_groups: u64) -> DocId {
    let mut target = cursors.iter().map(Cursor::doc).min().unwrap_or(TERMINATED);
    while target != TERMINATED {
        let mut next = target;
        let mut groups = all_groups;
        while groups != 0 {
            let group = groups.trailing_zeros() as usize;
            groups &= groups - 1;
            let first = cursors
                .iter_mut()
                .filter(|cursor| cursor.group == group)
                .map(|cursor| cursor.seek(target))
                .min()
                .unwrap_or(TERMINATED);
            next = next.max(first);
        }
        if next == target {
            break;
        }
        target = next;
    }
    target
}

/// The most the lead cursors' current blocks add to `base`, and the last document that bound
/// holds for (the end of the shortest of those blocks).
fn block_bound(lead: &mut [Cursor], base: Score) -> (Score, DocId) {
    lead.iter_mut().fold((base, TERMINATED), |(sum, end), cursor| {
        let (max, last) = cursor.block_max();
        (sum + max, end.min(last))
    })
}

/// One segment's walk.
struct Segment<'r> {
    ordinal: SegmentOrdinal,
    reader: &'r SegmentReader,
    /// One bit per group: the bits a matching document sets.
    all_groups: u64,
    filter: Option<Box<dyn Scorer>>,
}

impl Segment<'_> {
    fn walk(&mut self, mut cursors: Vec<Cursor>, best: &mut Best) {
        let present = cursors.iter().fold(0u64, |groups, cursor| groups | 1 << cursor.group);
        if present != self.all_groups {
            // Some group cannot match anywhere in this segment.
            return;
        }
        // bounds[i]: the most the i cheapest alternatives together can add.
        let mut bounds = vec![0.0; cursors.len() + 1];
        for (index, cursor) in cursors.iter().enumerate() {
            bounds[index + 1] = bounds[index] + cursor.max;
        }
        // The last block bound, the document it holds through and the split it was computed
        // for. Up to that document it stays an upper bound: every lead cursor that can still
        // match there is in the block it was bounded by (cursors only move forward, and a
        // block's last document is at or past the window's end). Summing every lead cursor's
        // block maxima for each document was a tenth of a search.
        let mut window: Option<(usize, Score, DocId)> = None;
        // The threshold the split below was made for: it changes only when a hit gets in.
        let mut split_for = None;
        let mut confirming = 0;
        loop {
            let threshold = best.threshold();
            if split_for != Some(threshold) {
                // The cheapest alternatives that together cannot reach it only confirm.
                confirming = bounds.iter().rposition(|bound| below(*bound, threshold)).unwrap_or(0).min(cursors.len());
                split_for = Some(threshold);
            }
            if confirming == cursors.len() {
                return;
            }
            if threshold == Score::NEG_INFINITY {
                // Until k hits are found every alternative leads: step from match to match of
                // all groups, not through every posting of the commonest word.
                let doc = first_match(&mut cursors, self.all_groups);
                if doc == TERMINATED {
                    return;
                }
            }
            let (confirm, lead) = cursors.split_at_mut(confirming);
            let doc = lead.iter().map(Cursor::doc).min().unwrap_or(TERMINATED);
            if doc == TERMINATED {
                return;
            }
            let (block_bound, block_end) = match window {
                Some((split, bound, end)) if split == confirming && doc <= end => (bound, end),
                _ => {
                    let (bound, end) = block_bound(lead, bounds[confirming]);
                    window = Some((confirming, bound, end));
                    (bound, end)
                }
            };
            if below(block_bound, threshold) {
                let next = block_end.saturating_add(1).max(doc + 1);
                lead.iter_mut().filter(|cursor| cursor.doc() < next).for_each(|cursor| {
                    cursor.seek(next);
                });
                continue;
            }
            if let Some(score) = self.score(doc, confirm, lead, bounds[confirming], threshold) {
                best.offer(Hit { score, address: DocAddress::new(self.ordinal, doc) });
            }
            lead.iter_mut().filter(|cursor| cursor.doc() == doc).for_each(|cursor| {
                cursor.advance();
            });
        }
    }

    /// The document's score if it matches every group, passes the filter and may beat the
    /// threshold; `None` as soon as it cannot.
    fn score(
        &mut self,
        doc: DocId,
        confirm: &mut [Cursor],
        lead: &mut [Cursor],
        rest: Score,
        threshold: Score,
    ) -> Option<Score> {
        let mut score = 0.0;
        let mut matched = 0u64;
        for cursor in lead.iter_mut().filter(|cursor| cursor.doc() == doc) {
            score += cursor.score();
            matched |= 1 << cursor.group;
        }
        let mut rest = rest;
        for cursor in confirm.iter_mut().rev() {
            if below(score + rest, threshold) {
                return None;
            }
            rest -= cursor.max;
            if cursor.seek(doc) == doc {
                score += cursor.score();
                matched |= 1 << cursor.group;
            }
        }
        if matched != self.all_groups || score <= threshold {
            return None;
        }
        if self.reader.alive_bitset().is_some_and(|alive| alive.is_deleted(doc)) {
            return None;
        }
        if let Some(filter) = &mut self.filter {
            let at = if filter.doc() < doc { filter.seek(doc) } else { filter.doc() };
            if at != doc {
                return None;
            }
        }
        Some(score)
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring, Occur, Query, TermQuery};
    use tantivy::schema::{Field, STRING, Schema, TEXT};
    use tantivy::{Index, TantivyDocument};

    use super::*;

    /// A deterministic generator (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self, below: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % below
        }
    }

    const WORDS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

    /// Two text fields of random words with skewed frequencies (so block maxima differ), a
    /// keyword to filter on, several segments and some deletions.
    fn random_index(rng: &mut Rng) -> (Index, [Field; 2], Field) {
        let mut schema = Schema::builder();
        let fields = [schema.add_text_field("title", TEXT), schema.add_text_field("body", TEXT)];
        let keep = schema.add_text_field("keep", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 20_000_000).expect("writer");
        for segment in 0..3 {
            for _ in 0..400 + rng.next(400) {
                let mut document = TantivyDocument::default();
                // Bodies of very different lengths per segment: block maxima stored by each
                // segment's average must still bound scores computed with the whole index's.
                for (field, length) in fields.iter().zip([3, [40, 6, 120][segment]]) {
                    let words: Vec<&str> =
                        (0..1 + rng.next(length)).map(|_| WORDS[(rng.next(8) * rng.next(8) / 7) as usize]).collect();
                    document.add_text(*field, words.join(" "));
                }
                document.add_text(keep, if rng.next(5) == 0 { "no" } else { "yes" });
                writer.add_document(document).expect("add");
            }
            if segment == 1 {
                writer.delete_term(Term::from_field_text(fields[0], "h"));
            }
            writer.commit().expect("commit");
        }
        (index, fields, keep)
    }

    fn random_alternatives(rng: &mut Rng, fields: [Field; 2]) -> (Vec<Alternative>, usize) {
        let groups = 1 + rng.next(3) as usize;
        let mut alternatives = Vec::new();
        for group in 0..groups {
            for _ in 0..1 + rng.next(4) {
                let field = fields[rng.next(2) as usize];
                let terms =
                    (0..1 + rng.next(2)).map(|_| Term::from_field_text(field, WORDS[rng.next(8) as usize])).collect();
                alternatives.push(Alternative { group, terms, boost: [1.0, 1.5, 2.0, 6.0][rng.next(4) as usize] });
            }
        }
        (alternatives, groups)
    }

    /// The same query the way tantivy scores it: every group required, alternatives summed.
    pub(super) fn tantivy_query(
        alternatives: &[Alternative],
        groups: usize,
        filter: Option<Box<dyn Query>>,
    ) -> Box<dyn Query> {
        let mut parts: Vec<(Occur, Box<dyn Query>)> = (0..groups)
            .map(|group| {
                let ways = alternatives.iter().filter(|alternative| alternative.group == group).map(|alternative| {
                    let terms = alternative
                        .terms
                        .iter()
                        .map(|term| {
                            (
                                Occur::Must,
                                Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)) as Box<dyn Query>,
                            )
                        })
                        .collect();
                    (
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(BooleanQuery::new(terms)), alternative.boost))
                            as Box<dyn Query>,
                    )
                });
                (Occur::Must, Box::new(BooleanQuery::new(ways.collect())) as Box<dyn Query>)
            })
            .collect();
        // Filters decide, they do not rank (as in the searcher's whole query).
        parts.extend(filter.map(|filter| (Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0)) as Box<dyn Query>)));
        Box::new(BooleanQuery::new(parts))
    }

    #[test]
    fn the_pruned_top_k_is_the_top_k_of_scoring_everything() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..40 {
            let (index, fields, keep) = random_index(&mut rng);
            let searcher = index.reader().expect("reader").searcher();
            for _ in 0..10 {
                let (alternatives, groups) = random_alternatives(&mut rng, fields);
                let filtered = rng.next(2) == 0;
                let keep_query = || {
                    Box::new(TermQuery::new(Term::from_field_text(keep, "yes"), IndexRecordOption::Basic))
                        as Box<dyn Query>
                };
                let filter_weight = filtered
                    .then(|| keep_query().weight(EnableScoring::disabled_from_searcher(&searcher)).expect("weight"));
                let k = 1 + rng.next(30) as usize;
                let query =
                    ScoredQuery::new(&searcher, alternatives.clone(), groups, filter_weight.as_deref()).expect("query");
                let pruned = query.top(&searcher, k).expect("top");
                let everything = tantivy_query(&alternatives, groups, filtered.then(keep_query));
                let weight = everything.weight(EnableScoring::disabled_from_searcher(&searcher)).expect("weight");
                for reader in searcher.segment_readers() {
                    let (mut ours, mut theirs) =
                        (query.matches(reader).expect("ours"), weight.scorer(reader, 1.0).expect("theirs"));
                    loop {
                        assert_eq!(ours.doc(), theirs.doc(), "round {round}: {alternatives:?}");
                        if ours.doc() == TERMINATED {
                            assert_eq!(ours.advance(), TERMINATED, "the end stays the end");
                            break;
                        }
                        ours.advance();
                        theirs.advance();
                    }
                    // Seeking past matches, as the sampled counting does, leaves cursors behind.
                    let (mut ours, mut theirs) =
                        (query.matches(reader).expect("ours"), weight.scorer(reader, 1.0).expect("theirs"));
                    let mut jumps = Rng(round as u64 + 1);
                    while ours.doc() != TERMINATED {
                        let target = ours.doc() + 1 + jumps.next(40) as DocId;
                        assert_eq!(ours.seek(target), theirs.seek(target), "round {round}: seek {target}");
                    }
                }
                let expected = searcher.search(&everything, &TopDocs::with_limit(k).order_by_score()).expect("search");
                assert_eq!(pruned.len(), expected.len(), "round {round}: {alternatives:?}");
                for ((score, address), (expected_score, expected_address)) in pruned.iter().zip(&expected) {
                    assert!(
                        (score - expected_score).abs() <= 1e-4 * expected_score.abs().max(1.0),
                        "round {round}: {pruned:?} vs {expected:?} for {alternatives:?} (k {k}, filtered {filtered})"
                    );
                    // Equal scores may come in another order only when they really tie.
                    if address != expected_address {
                        let tied = expected.iter().any(|(other, at)| at == address && (other - score).abs() <= 1e-4);
                        assert!(tied, "round {round}: {address:?} instead of {expected_address:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_query_must_name_its_groups() {
        let mut rng = Rng(7);
        let (index, fields, _) = random_index(&mut rng);
        let searcher = index.reader().expect("reader").searcher();
        let term = Term::from_field_text(fields[0], "a");
        let alternative = |group| Alternative { group, terms: vec![term.clone()], boost: 1.0 };
        assert!(ScoredQuery::new(&searcher, vec![alternative(0)], 0, None).is_err());
        assert!(ScoredQuery::new(&searcher, vec![alternative(1)], 1, None).is_err());
        assert!(ScoredQuery::new(&searcher, vec![alternative(0)], MAX_GROUPS + 1, None).is_err());
        assert!(ScoredQuery::new(&searcher, vec![alternative(0)], 1, None).is_ok());
    }
}
