//! Chinese text analysis. Two analyses of the same text: words (jieba, search-engine mode
//! at index time for recall, precise mode for queries, with the bureau's vocabulary added)
//! and overlapping CJK bigrams (so names and words missing from the dictionary are still
//! found). Both normalise first: full-width → half-width, traditional → simplified, Latin
//! lowercased; token offsets always point into the original text, for highlighting.

use std::io::BufRead;
use std::sync::{Arc, OnceLock};

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The bureau's vocabulary, shipped in the repository (`dict/microcat.txt`, jieba format:
/// `word frequency tag` per line).
pub const BUILTIN_DICTIONARY: &str = include_str!("../../dict/microcat.txt");

/// Name of the word analysis in the index.
pub const WORDS: &str = "zh_words";
/// Name of the bigram analysis in the index.
pub const BIGRAMS: &str = "zh_bigrams";

/// Text after normalisation, with a map back to the original's byte offsets.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub text: String,
    /// For each byte of `text`, the byte offset in the original of the character it came from.
    origin: Vec<u32>,
    original_len: usize,
}

impl Normalized {
    /// The original byte range of a normalised byte range.
    pub fn original_range(&self, from: usize, to: usize) -> (usize, usize) {
        let start = self.origin.get(from).map_or(self.original_len, |offset| *offset as usize);
        let end = self.origin.get(to).map_or(self.original_len, |offset| *offset as usize);
        (start, end)
    }
}

/// Normalises text for both analyses.
pub fn normalize(original: &str) -> Normalized {
    let mut text = String::with_capacity(original.len());
    let mut origin = Vec::with_capacity(original.len());
    // Folding keeps one character for each, so the two sequences line up.
    for ((offset, _), normalized) in original.char_indices().zip(fold_chars(original)) {
        text.push(normalized);
        origin.extend(std::iter::repeat_n(offset as u32, normalized.len_utf8()));
    }
    Normalized { text, origin, original_len: original.len() }
}

use crate::domain::fold::fold_chars;
pub use crate::domain::fold::is_cjk;

/// The process-wide segmenter: jieba's dictionary plus ours plus the configured one.
pub fn segmenter(extra_dictionary: Option<&std::path::Path>) -> Arc<Jieba> {
    static SEGMENTER: OnceLock<Arc<Jieba>> = OnceLock::new();
    SEGMENTER
        .get_or_init(|| {
            let mut jieba = Jieba::new();
            add_words(&mut jieba, BUILTIN_DICTIONARY.as_bytes());
            if let Some(path) = extra_dictionary {
                match std::fs::read(path) {
                    Ok(bytes) => add_words(&mut jieba, &bytes),
                    Err(error) => tracing::warn!(%error, path = %path.display(), "user dictionary not loaded"),
                }
            }
            Arc::new(jieba)
        })
        .clone()
}

fn add_words(jieba: &mut Jieba, dictionary: &[u8]) {
    for line in dictionary.lines().map_while(Result::ok) {
        let mut parts = line.split_whitespace();
        let Some(word) = parts.next() else { continue };
        let frequency = parts.next().and_then(|value| value.parse().ok());
        jieba.add_word(&normalize(word).text, frequency, parts.next());
    }
}

/// A token before it becomes a tantivy token: normalised text, original offsets, position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub from: usize,
    pub to: usize,
    pub position: usize,
}

fn is_searchable(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_alphanumeric() || is_cjk(c) || c.is_alphanumeric())
}

/// Word pieces: search-engine mode (index: overlapping sub-words too) or precise (queries).
pub fn word_pieces(jieba: &Jieba, original: &str, search_mode: bool) -> Vec<Piece> {
    let normalized = normalize(original);
    let tokens =
        if search_mode { jieba.cut_for_search(&normalized.text, true) } else { jieba.cut(&normalized.text, true) };
    tokens
        .into_iter()
        .filter(|token| is_searchable(token.word))
        .enumerate()
        .map(|(position, token)| {
            let (from, to) = normalized.original_range(token.byte_start, token.byte_end);
            Piece { text: token.word.to_owned(), from, to, position }
        })
        .collect()
}

/// Bigram pieces: overlapping pairs inside runs of CJK (a lone ideograph stands alone), whole
/// words for Latin letters and digits. Positions advance by character, and by one more at
/// every separator, so phrases never match across punctuation.
pub fn bigram_pieces(original: &str) -> Vec<Piece> {
    let normalized = normalize(original);
    bigram_spans(&normalized.text)
        .into_iter()
        .map(|span| {
            let (from, to) = normalized.original_range(span.from, span.to);
            Piece { text: normalized.text[span.from..span.to].to_owned(), from, to, position: span.position }
        })
        .collect()
}

/// A piece of normalised text: its byte range and position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    from: usize,
    to: usize,
    position: usize,
}

/// The bigrams of normalised text (see [`bigram_pieces`]).
fn bigram_spans(text: &str) -> Vec<Span> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |index: usize| chars.get(index).map_or(text.len(), |(offset, _)| *offset);
    let mut spans = Vec::with_capacity(chars.len());
    let mut position = 0;
    let mut index = 0;
    while index < chars.len() {
        let (start, c) = chars[index];
        let run_end = (index..chars.len())
            .find(|&at| {
                let other = chars[at].1;
                if is_cjk(c) { !is_cjk(other) } else { !other.is_alphanumeric() || is_cjk(other) }
            })
            .unwrap_or(chars.len());
        if is_cjk(c) {
            let run = &chars[index..run_end];
            if run.len() == 1 {
                spans.push(Span { from: start, to: end_of(index + 1), position });
            }
            for pair in 0..run.len().saturating_sub(1) {
                spans.push(Span {
                    from: chars[index + pair].0,
                    to: end_of(index + pair + 2),
                    position: position + pair,
                });
            }
            position += run.len();
        } else if c.is_alphanumeric() {
            spans.push(Span { from: start, to: end_of(run_end), position });
            position += 1;
        } else {
            position += 1;
            index += 1;
            continue;
        }
        index = run_end;
    }
    spans
}

/// Whether a word is two CJK characters: then it is also one of the text's bigrams, at the
/// same place, so the word field leaves it to the bigram field (queries look for it there).
/// Such words were half of the word field's tokens, and every token costs at index time.
pub fn is_bigram_word(word: &str) -> bool {
    word.chars().count() == 2 && word.chars().all(is_cjk)
}

/// The words of normalised text in search-engine mode (index time), without those the
/// bigram field holds ([`is_bigram_word`]).
fn word_spans(jieba: &Jieba, text: &str) -> Vec<Span> {
    jieba
        .cut_for_search(text, true)
        .into_iter()
        .filter(|token| is_searchable(token.word))
        .enumerate()
        .filter(|(_, token)| !is_bigram_word(token.word))
        .map(|(position, token)| Span { from: token.byte_start, to: token.byte_end, position })
        .collect()
}

/// Streams spans of one normalised text to tantivy at index time: one string for the text and
/// one list of spans per field value, none per token (tokenising was half of indexing, most of
/// it allocations). Offsets are the normalised text's: nothing reads them from the index, the
/// highlighter works on the stored rows.
pub struct SpanStream {
    text: String,
    spans: std::vec::IntoIter<Span>,
    token: Token,
}

impl SpanStream {
    fn new(text: String, spans: Vec<Span>) -> Self {
        Self { text, spans: spans.into_iter(), token: Token::default() }
    }
}

impl TokenStream for SpanStream {
    fn advance(&mut self) -> bool {
        let Some(span) = self.spans.next() else { return false };
        self.token.text.clear();
        self.token.text.push_str(&self.text[span.from..span.to]);
        self.token.offset_from = span.from;
        self.token.offset_to = span.to;
        self.token.position = span.position;
        self.token.position_length = 1;
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// Normalised text without the map back to the original (index time needs no offsets).
fn folded(original: &str) -> String {
    fold_chars(original).into_iter().collect()
}

/// The index-time word analysis (jieba search-engine mode).
#[derive(Clone)]
pub struct WordTokenizer {
    jieba: Arc<Jieba>,
}

impl WordTokenizer {
    /// Over a loaded segmenter.
    pub fn new(jieba: Arc<Jieba>) -> Self {
        Self { jieba }
    }
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = SpanStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> SpanStream {
        let text = folded(text);
        let spans = word_spans(&self.jieba, &text);
        SpanStream::new(text, spans)
    }
}

/// The bigram analysis.
#[derive(Clone, Default)]
pub struct BigramTokenizer;

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = SpanStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> SpanStream {
        let text = folded(text);
        let spans = bigram_spans(&text);
        SpanStream::new(text, spans)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(pieces: &[Piece]) -> Vec<&str> {
        pieces.iter().map(|piece| piece.text.as_str()).collect()
    }

    #[test]
    fn normalisation_folds_width_script_and_case() {
        assert_eq!(normalize("ＡＰＰ　學習２０１６年版").text, "app 学习2016年版");
        assert_eq!(normalize("App").text, "app");
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let original = "ＡＢ學習";
        let pieces = bigram_pieces(original);
        let learn = pieces.iter().find(|piece| piece.text == "学习").unwrap();
        assert_eq!(&original[learn.from..learn.to], "學習");
        let latin = pieces.iter().find(|piece| piece.text == "ab").unwrap();
        assert_eq!(&original[latin.from..latin.to], "ＡＢ");
    }

    #[test]
    fn bigrams_overlap_and_stop_at_punctuation() {
        let pieces = bigram_pieces("两学一做，张伟 App110");
        assert_eq!(texts(&pieces), vec!["两学", "学一", "一做", "张伟", "app110"]);
        let positions: Vec<usize> = pieces.iter().map(|piece| piece.position).collect();
        assert_eq!(positions, vec![0, 1, 2, 5, 8]);
        assert_eq!(texts(&bigram_pieces("警")), vec!["警"]);
    }

    #[test]
    fn the_bureaus_vocabulary_is_one_word() {
        let jieba = segmenter(None);
        let words = word_pieces(&jieba, "深入开展两学一做学习教育，网络文工团拍摄微电影", false);
        let words = texts(&words);
        for expected in ["两学一做", "网络文工团", "微电影"] {
            assert!(words.contains(&expected), "{expected} in {words:?}");
        }
    }

    #[test]
    fn search_mode_adds_sub_words_for_recall() {
        let jieba = segmenter(None);
        let words = word_pieces(&jieba, "中华人民共和国", true);
        let words = texts(&words);
        assert!(words.contains(&"中华人民共和国") && words.contains(&"人民"), "{words:?}");
    }

    #[test]
    fn traditional_text_is_segmented_as_simplified() {
        let jieba = segmenter(None);
        let words = word_pieces(&jieba, "學習教育", false);
        assert_eq!(texts(&words), vec!["学习", "教育"]);
    }

    /// The index sees the same tokens the query side makes (texts and positions).
    #[test]
    fn index_streams_agree_with_query_pieces() {
        let jieba = segmenter(None);
        let text = "深入開展「两学一做」，ＡＰＰ110 蔡晓彤 网络文工团拍摄微电影！";
        let streamed = |stream: &mut dyn TokenStream| {
            let mut tokens = Vec::new();
            while stream.advance() {
                tokens.push((stream.token().text.clone(), stream.token().position));
            }
            tokens
        };
        let pieces =
            |pieces: Vec<Piece>| pieces.into_iter().map(|piece| (piece.text, piece.position)).collect::<Vec<_>>();
        assert_eq!(streamed(&mut BigramTokenizer.token_stream(text)), pieces(bigram_pieces(text)));
        let mut words = word_pieces(&jieba, text, true);
        words.retain(|word| !is_bigram_word(&word.text));
        assert_eq!(streamed(&mut WordTokenizer::new(jieba.clone()).token_stream(text)), pieces(words));
    }

    #[test]
    fn two_ideograph_words_are_left_to_the_bigrams() {
        assert!(is_bigram_word("民警") && is_bigram_word("學習"));
        assert!(!is_bigram_word("警") && !is_bigram_word("派出所") && !is_bigram_word("app") && !is_bigram_word("警a"));
        let jieba = segmenter(None);
        let mut stream = WordTokenizer::new(jieba).token_stream("民警在派出所值班");
        let mut words = Vec::new();
        while stream.advance() {
            words.push(stream.token().text.clone());
        }
        assert!(words.contains(&"派出所".to_owned()) && !words.contains(&"民警".to_owned()), "{words:?}");
    }

    #[test]
    fn punctuation_only_text_has_no_pieces() {
        let jieba = segmenter(None);
        assert!(word_pieces(&jieba, "！？。，、…", false).is_empty());
        assert!(bigram_pieces("!?.,;").is_empty());
    }
}
