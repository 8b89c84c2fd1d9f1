//! The matches of a [`super::ScoredQuery`], in order, for counting: a window of documents at a
//! time. Counting walks ten thousand matches of the commonest words and a sample of the rest,
//! and stepping each alternative's cursors from match to match cost about 100 ns a match (a
//! fifth of a search's CPU). Here each group's postings inside a window are set as bits (a
//! pass over decoded blocks, a few nanoseconds a posting) and the groups' bits are intersected,
//! as Lucene's `BooleanScorer` does for disjunctions. Once few candidates are left in a window,
//! the remaining groups are asked document by document instead, so a rare name does not make
//! every common word's postings be read.
//!
//! The window's bits are a plain `[u64; 16]` on the stack rather than tantivy's `BitSet`: that
//! one lives on the heap and is sized for a whole segment, and a window is filled and dropped
//! thousands of times per search.

use tantivy::query::Scorer;
use tantivy::{DocId, DocSet, TERMINATED};

use super::{Cursor, TermCursor};

/// Documents per window: small enough that a sampled stripe (a few hundred matches) does not
/// read far past what it counts, large enough that a window's seeks are paid rarely.
const WINDOW: DocId = 1024;
const WORDS: usize = WINDOW as usize / 64;

/// Below this many candidates left in a window, a group is asked about each of them (a few
/// seeks each) rather than having all of its postings in the window read.
const FEW: u32 = WINDOW / 16;

/// One bit per document of a window.
type Bits = [u64; WORDS];

fn set(bits: &mut Bits, offset: u32) {
    bits[offset as usize / 64] |= 1 << (offset % 64);
}

fn clear(bits: &mut Bits, offset: u32) {
    bits[offset as usize / 64] &= !(1 << (offset % 64));
}

fn and(bits: &mut Bits, other: &Bits) {
    bits.iter_mut().zip(other).for_each(|(word, other)| *word &= other);
}

fn is_empty(bits: &Bits) -> bool {
    bits.iter().all(|word| *word == 0)
}

fn count(bits: &Bits) -> u32 {
    bits.iter().map(|word| word.count_ones()).sum()
}

/// The offsets set in `bits`, in order.
fn offsets(bits: &Bits) -> impl Iterator<Item = u32> + '_ {
    bits.iter().enumerate().flat_map(|(at, word)| {
        let mut word = *word;
        std::iter::from_fn(move || {
            (word != 0).then(|| {
                let bit = word.trailing_zeros();
                word &= word - 1;
                at as u32 * 64 + bit
            })
        })
    })
}

/// The first offset at or after `from` set in `bits`.
fn first_from(bits: &Bits, from: u32) -> Option<u32> {
    let mut at = from as usize / 64;
    let mut word = bits.get(at)? & (!0 << (from % 64));
    loop {
        if word != 0 {
            return Some(at as u32 * 64 + word.trailing_zeros());
        }
        at += 1;
        word = *bits.get(at)?;
    }
}

impl TermCursor {
    /// Sets the bit of each of its documents in `start..end`; left at the first at or past `end`.
    fn mark(&mut self, start: DocId, end: DocId, bits: &mut Bits) {
        let mut doc = self.seek(start);
        while doc < end {
            set(bits, doc - start);
            doc = self.advance();
        }
    }
}

impl Cursor {
    /// Sets the bit of each document in `start..end` where all of its terms occur; left at the
    /// first such document at or past `end`.
    fn mark(&mut self, start: DocId, end: DocId, bits: &mut Bits) {
        let Some((lead, others)) = self.terms.split_first_mut() else { return };
        let mut all = [0; WORDS];
        lead.mark(start, end, &mut all);
        for term in others {
            if is_empty(&all) {
                break;
            }
            let mut these = [0; WORDS];
            term.mark(start, end, &mut these);
            and(&mut all, &these);
        }
        bits.iter_mut().zip(&all).for_each(|(word, all)| *word |= all);
        // The terms are wherever their marking stopped; back in step for the next seek.
        self.align();
    }
}

/// The documents where every group has a matching alternative and the filter agrees.
pub(super) struct Matches {
    /// The sparsest group first (it leaves the fewest candidates); in each, the densest
    /// alternative first (the one most likely to settle a document).
    groups: Vec<Vec<Cursor>>,
    filter: Option<Box<dyn Scorer>>,
    /// The current window (`start..end`), and which of its documents match.
    start: DocId,
    end: DocId,
    bits: Bits,
    doc: DocId,
}

impl Matches {
    pub(super) fn new(groups: Vec<Vec<Cursor>>, filter: Option<Box<dyn Scorer>>) -> Self {
        let mut matches = Self { groups, filter, start: 0, end: 0, bits: [0; WORDS], doc: 0 };
        // The first match alone, document by document: a sampling counter seeks away from it
        // at once, and a whole window there would be read for nothing.
        let first = matches.settle(0);
        (matches.start, matches.end, matches.doc) = (first, first.saturating_add(1), first);
        set(&mut matches.bits, 0);
        matches
    }

    /// Opens the window that starts at the first match at or after `from`; returns that match.
    fn fill(&mut self, from: DocId) -> DocId {
        let start = self.settle(from);
        if start != TERMINATED {
            (self.start, self.end) = (start, start.saturating_add(WINDOW));
            self.bits = self.window(start, self.end);
        }
        start
    }

    /// Which documents of `start..end` match (`start` does: [`Matches::settle`] found it).
    fn window(&mut self, start: DocId, end: DocId) -> Bits {
        let mut bits = [!0; WORDS];
        for group in &mut self.groups {
            if count(&bits) < FEW {
                let candidates = bits;
                for offset in offsets(&candidates) {
                    if first_at_or_after(group, start + offset) != start + offset {
                        clear(&mut bits, offset);
                    }
                }
            } else {
                let mut any = [0; WORDS];
                group.iter_mut().for_each(|cursor| cursor.mark(start, end, &mut any));
                and(&mut bits, &any);
            }
        }
        if let Some(filter) = &mut self.filter {
            let candidates = bits;
            for offset in offsets(&candidates) {
                let doc = start + offset;
                let at = if filter.doc() < doc { filter.seek(doc) } else { filter.doc() };
                if at != doc {
                    clear(&mut bits, offset);
                }
            }
        }
        bits
    }

    /// The first match at or after `target`, one document at a time.
    fn settle(&mut self, mut target: DocId) -> DocId {
        'search: while target != TERMINATED {
            for group in &mut self.groups {
                let first = first_at_or_after(group, target);
                if first > target {
                    target = first;
                    continue 'search;
                }
            }
            if let Some(filter) = &mut self.filter {
                let at = if filter.doc() < target { filter.seek(target) } else { filter.doc() };
                if at > target {
                    target = at;
                    continue 'search;
                }
            }
            break;
        }
        target
    }

    /// The first match at or after `target` (at or after the window's start).
    fn next(&mut self, target: DocId) -> DocId {
        if target >= self.end {
            return self.fill(target);
        }
        match first_from(&self.bits, target - self.start) {
            Some(offset) => self.start + offset,
            None => self.fill(self.end),
        }
    }
}

/// The first document at or after `target` that one of the cursors has. Once one is found at
/// `target` the rest stay where they are: one alternative at a match is enough to count it
/// (the others catch up when needed).
fn first_at_or_after(group: &mut [Cursor], target: DocId) -> DocId {
    let mut first = TERMINATED;
    for cursor in group {
        let at = cursor.seek(target);
        if at == target {
            return target;
        }
        first = first.min(at);
    }
    first
}

impl DocSet for Matches {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            self.doc = self.next(self.doc + 1);
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc < target {
            self.doc = self.next(target);
        }
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.groups.iter().map(|group| group.iter().map(Cursor::doc_freq).sum()).min().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use tantivy::query::{EnableScoring, Query, TermQuery};
    use tantivy::schema::{IndexRecordOption, STRING, Schema, TEXT};
    use tantivy::{Index, TantivyDocument, Term};

    use super::super::tests::tantivy_query;
    use super::super::{Alternative, ScoredQuery};
    use super::*;

    /// Words from everywhere (`w0`) to almost nowhere (`w5`), and a keyword to filter on.
    const DENSITIES: [u64; 6] = [900, 400, 100, 20, 3, 1];

    /// Documents spanning many windows, in two segments, with some deleted.
    fn archive() -> (Index, tantivy::schema::Field, tantivy::schema::Field) {
        let mut schema = Schema::builder();
        let text = schema.add_text_field("text", TEXT);
        let keep = schema.add_text_field("keep", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 20_000_000).expect("writer");
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = |below: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % below
        };
        for segment in 0..2 {
            for _ in 0..[5_000, 3_000][segment] {
                let words: Vec<String> = DENSITIES
                    .iter()
                    .enumerate()
                    .filter(|(_, density)| next(1000) < **density)
                    .map(|(at, _)| format!("w{at}"))
                    .collect();
                let mut document = TantivyDocument::default();
                document.add_text(text, words.join(" "));
                document.add_text(keep, if next(4) == 0 { "no" } else { "yes" });
                writer.add_document(document).expect("add");
            }
            if segment == 0 {
                writer.delete_term(Term::from_field_text(text, "w4"));
            }
            writer.commit().expect("commit");
        }
        (index, text, keep)
    }

    #[test]
    fn windows_find_what_tantivy_finds_for_dense_and_rare_groups() {
        let (index, text, keep) = archive();
        let searcher = index.reader().expect("reader").searcher();
        let word = |at: usize| Term::from_field_text(text, &format!("w{at}"));
        let alternative = |group, words: &[usize]| Alternative {
            group,
            terms: words.iter().map(|at| word(*at)).collect(),
            boost: 1.0,
        };
        let queries: Vec<(Vec<Alternative>, usize)> = vec![
            (vec![alternative(0, &[0])], 1),
            (vec![alternative(0, &[0, 1]), alternative(0, &[2])], 1),
            (vec![alternative(0, &[0]), alternative(1, &[1]), alternative(1, &[3])], 2),
            // A rare group: few candidates, the dense groups asked document by document.
            (vec![alternative(0, &[0]), alternative(1, &[1, 0]), alternative(2, &[4])], 3),
            (vec![alternative(0, &[5]), alternative(1, &[0]), alternative(1, &[1])], 2),
            (vec![alternative(0, &[2, 3]), alternative(1, &[0])], 2),
        ];
        let keep_query =
            || Box::new(TermQuery::new(Term::from_field_text(keep, "yes"), IndexRecordOption::Basic)) as Box<dyn Query>;
        for (alternatives, groups) in queries {
            for filtered in [false, true] {
                let filter =
                    filtered.then(|| keep_query().weight(EnableScoring::disabled_from_searcher(&searcher)).expect("w"));
                let ours = ScoredQuery::new(&searcher, alternatives.clone(), groups, filter.as_deref()).expect("query");
                let theirs = tantivy_query(&alternatives, groups, filtered.then(keep_query));
                let theirs = theirs.weight(EnableScoring::disabled_from_searcher(&searcher)).expect("weight");
                for reader in searcher.segment_readers() {
                    let (mut mine, mut expected) =
                        (ours.matches(reader).expect("ours"), theirs.scorer(reader, 1.0).expect("theirs"));
                    let mut found = 0;
                    while expected.doc() != TERMINATED {
                        assert_eq!(mine.doc(), expected.doc(), "{alternatives:?} filtered {filtered}");
                        found += 1;
                        mine.advance();
                        expected.advance();
                    }
                    assert_eq!(mine.doc(), TERMINATED, "{alternatives:?}: nothing after the last");
                    assert!(found > 0, "{alternatives:?}: the query matches something");
                    // Seeks into the current window, to its end and far past it.
                    let (mut mine, mut expected) =
                        (ours.matches(reader).expect("ours"), theirs.scorer(reader, 1.0).expect("theirs"));
                    for step in [1, 63, 64, WINDOW - 1, WINDOW, 3 * WINDOW + 5, 7].iter().cycle().take(60) {
                        let target = mine.doc().saturating_add(*step);
                        assert_eq!(mine.seek(target), expected.seek(target), "{alternatives:?}: seek {target}");
                        if mine.doc() == TERMINATED {
                            break;
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn bits_are_found_in_order_from_any_offset() {
        let mut bits = [0; WORDS];
        for offset in [0, 5, 63, 64, 700, WINDOW - 1] {
            set(&mut bits, offset);
        }
        assert_eq!(offsets(&bits).collect::<Vec<_>>(), [0, 5, 63, 64, 700, WINDOW - 1]);
        assert_eq!(count(&bits), 6);
        assert_eq!(first_from(&bits, 1), Some(5));
        assert_eq!(first_from(&bits, 64), Some(64));
        assert_eq!(first_from(&bits, 65), Some(700));
        assert_eq!(first_from(&bits, WINDOW - 1), Some(WINDOW - 1));
        assert_eq!(first_from(&bits, WINDOW), None);
        assert!(!is_empty(&bits) && is_empty(&[0; WORDS]));
    }
}
