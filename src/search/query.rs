//! The search box's little language: words are ANDed, `"exact phrase"` (also “…”),
//! `-excluded`, and `OR` between two items. Anything else is cleaned, never an error 500:
//! unbalanced quotes close at the end, stray operators are dropped, and limits are named.

/// Longest accepted query, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Most clauses in one query.
pub const MAX_CLAUSES: usize = 32;

/// One searchable item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// A word or run of words without quotes (matched by words, or by bigrams as a phrase).
    Term(String),
    /// Quoted text: matched exactly, as consecutive characters.
    Phrase(String),
}

impl Clause {
    /// The clause's text.
    pub fn text(&self) -> &str {
        match self {
            Clause::Term(text) | Clause::Phrase(text) => text,
        }
    }
}

/// A parsed query: every group must match (a group matches when any of its alternatives
/// does), and no excluded clause may.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub required: Vec<Vec<Clause>>,
    pub excluded: Vec<Clause>,
}

impl ParsedQuery {
    /// Whether nothing is asked for.
    pub fn is_empty(&self) -> bool {
        self.required.is_empty() && self.excluded.is_empty()
    }

    /// Every positive clause, for highlighting.
    pub fn positive_clauses(&self) -> impl Iterator<Item = &Clause> {
        self.required.iter().flatten()
    }
}

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("query must be at most {MAX_QUERY_CHARS} characters, got {0}")]
    TooLong(usize),
    #[error("query has more than {MAX_CLAUSES} terms")]
    TooManyClauses,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Lexeme {
    Word(String),
    Quoted(String),
    Or,
    Not,
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '「' | '」')
}

fn lex(query: &str) -> Vec<Lexeme> {
    let mut lexemes = Vec::new();
    let mut chars = query.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if is_quote(c) {
            chars.next();
            let phrase: String = chars.by_ref().take_while(|c| !is_quote(*c)).collect();
            lexemes.push(Lexeme::Quoted(phrase));
        } else if c == '-' || c == '－' {
            chars.next();
            if chars.peek().is_some_and(|next| !next.is_whitespace()) {
                lexemes.push(Lexeme::Not);
            }
        } else {
            let mut word = String::new();
            while let Some(&next) = chars.peek() {
                if next.is_whitespace() || is_quote(next) {
                    break;
                }
                word.push(next);
                chars.next();
            }
            lexemes.push(if word == "OR" || word == "|" { Lexeme::Or } else { Lexeme::Word(word) });
        }
    }
    lexemes
}

/// Parses a query; blank input gives an empty query.
pub fn parse(query: &str) -> Result<ParsedQuery, QueryError> {
    let length = query.chars().count();
    if length > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong(length));
    }
    let mut parsed = ParsedQuery::default();
    let mut negate_next = false;
    let mut join_next = false;
    for lexeme in lex(query) {
        let clause = match lexeme {
            Lexeme::Not => {
                negate_next = true;
                continue;
            }
            Lexeme::Or => {
                join_next = !parsed.required.is_empty();
                continue;
            }
            Lexeme::Word(word) => Clause::Term(word),
            Lexeme::Quoted(phrase) => Clause::Phrase(phrase),
        };
        if !clause.text().chars().any(char::is_alphanumeric) {
            (negate_next, join_next) = (false, false);
            continue;
        }
        if negate_next {
            parsed.excluded.push(clause);
        } else if join_next {
            parsed.required.last_mut().expect("join only after a group").push(clause);
        } else {
            parsed.required.push(vec![clause]);
        }
        (negate_next, join_next) = (false, false);
    }
    if parsed.required.iter().map(Vec::len).sum::<usize>() + parsed.excluded.len() > MAX_CLAUSES {
        return Err(QueryError::TooManyClauses);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(text: &str) -> Clause {
        Clause::Term(text.into())
    }

    #[test]
    fn words_are_anded() {
        let parsed = parse("反诈 宣传").unwrap();
        assert_eq!(parsed.required, vec![vec![term("反诈")], vec![term("宣传")]]);
    }

    #[test]
    fn phrases_exclusions_and_or() {
        let parsed = parse("\"两学一做 学习\" -草稿 交警 OR 特警").unwrap();
        assert_eq!(
            parsed.required,
            vec![vec![Clause::Phrase("两学一做 学习".into())], vec![term("交警"), term("特警")]]
        );
        assert_eq!(parsed.excluded, vec![term("草稿")]);
    }

    #[test]
    fn chinese_quotes_make_phrases() {
        assert_eq!(parse("“网络文工团”").unwrap().required, vec![vec![Clause::Phrase("网络文工团".into())]]);
    }

    #[test]
    fn hostile_queries_are_cleaned() {
        assert!(parse("\"unbalanced").unwrap().required[0][0] == Clause::Phrase("unbalanced".into()));
        assert!(parse("OR OR - -- \"\" ！？").unwrap().is_empty());
        assert!(parse("").unwrap().is_empty());
        assert_eq!(parse("OR 警").unwrap().required, vec![vec![term("警")]]);
        assert_eq!(parse("a -").unwrap().excluded, vec![]);
    }

    #[test]
    fn limits_are_named() {
        assert_eq!(parse(&"警".repeat(MAX_QUERY_CHARS + 1)).unwrap_err(), QueryError::TooLong(MAX_QUERY_CHARS + 1));
        let many = (0..40).map(|n| format!("w{n}")).collect::<Vec<_>>().join(" ");
        assert_eq!(parse(&many).unwrap_err(), QueryError::TooManyClauses);
    }
}
