//! Terms analysed before indexing, handed to tantivy as a string.
//!
//! The indexing threads analyse each document once (enrichment reuses the
//! analysis), so tantivy must index terms it did not make. Its
//! `PreTokenizedString` would do, but a `TantivyDocument` keeps one as JSON:
//! each term was written out as JSON, parsed back and copied twice on its
//! way to the postings, which cost more than a third of what indexing did
//! besides analysis. Here the terms travel as one string, `text␟position␞`
//! per term, that the [`TermsTokenizer`] reads back in place, without an
//! allocation per term.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use crate::analysis::Term;

/// The name the text fields' tokenizer is registered under.
pub const TOKENIZER: &str = "terms";

const TEXT_END: char = '\u{1f}';
const TERM_END: char = '\u{1e}';

/// Terms as (text, position) pairs, encoded for the [`TermsTokenizer`]. A
/// term that contains one of the two separators (no analyzer makes one) is
/// left out rather than let it garble the terms after it.
pub fn encode<'a>(terms: impl IntoIterator<Item = (&'a str, usize)>) -> String {
    let mut out = String::new();
    for (text, position) in terms {
        if text.contains([TEXT_END, TERM_END]) {
            continue;
        }
        out.push_str(text);
        out.push(TEXT_END);
        push_decimal(&mut out, position);
        out.push(TERM_END);
    }
    out
}

/// A term as [`encode`] takes it.
pub fn pair(term: &Term) -> (&str, usize) {
    (&term.text, term.position)
}

/// `n` in decimal (as `write!` would, without its formatting machinery).
fn push_decimal(out: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// Reads back what [`encode`] wrote. Anything else (a string that is not
/// an encoding) gives no terms for the parts it cannot read.
#[derive(Clone, Default)]
pub struct TermsTokenizer {
    token: Token,
}

pub struct TermsStream<'a> {
    rest: &'a str,
    token: &'a mut Token,
}

impl Tokenizer for TermsTokenizer {
    type TokenStream<'a> = TermsStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TermsStream<'a> {
        self.token.reset();
        TermsStream {
            rest: text,
            token: &mut self.token,
        }
    }
}

impl TokenStream for TermsStream<'_> {
    fn advance(&mut self) -> bool {
        while !self.rest.is_empty() {
            let (entry, rest) = self.rest.split_once(TERM_END).unwrap_or((self.rest, ""));
            self.rest = rest;
            let Some((text, position)) = entry.split_once(TEXT_END) else {
                continue;
            };
            let Ok(position) = position.parse() else {
                continue;
            };
            self.token.text.clear();
            self.token.text.push_str(text);
            self.token.position = position;
            self.token.position_length = 1;
            return true;
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(encoded: &str) -> Vec<(String, usize)> {
        let mut tokenizer = TermsTokenizer::default();
        let mut stream = tokenizer.token_stream(encoded);
        let mut out = Vec::new();
        while stream.advance() {
            out.push((stream.token().text.clone(), stream.token().position));
        }
        out
    }

    #[test]
    fn terms_come_back_with_their_positions() {
        let terms = [
            ("토지등록정보시스템", 0),
            ("토지", 0),
            ("등록", 1),
            ("paraguay", 7),
            ("", 8),
            ("x", 1_234_567),
            ("y", usize::MAX),
        ];
        assert_eq!(
            decode(&encode(terms)),
            vec![
                ("토지등록정보시스템".into(), 0),
                ("토지".into(), 0),
                ("등록".into(), 1),
                ("paraguay".into(), 7),
                ("".into(), 8),
                ("x".into(), 1_234_567),
                ("y".into(), usize::MAX),
            ]
        );
        assert!(decode(&encode([])).is_empty());
    }

    #[test]
    fn a_term_with_a_separator_is_left_out_and_harms_no_other() {
        let terms = [("a\u{1e}b", 0), ("c\u{1f}9", 1), ("d", 2)];
        assert_eq!(decode(&encode(terms)), vec![("d".into(), 2)]);
    }

    #[test]
    fn text_that_is_no_encoding_gives_no_terms_and_no_panic() {
        assert!(decode("plain words, not terms").is_empty());
        assert_eq!(decode("x\u{1f}oops\u{1e}y\u{1f}3"), vec![("y".into(), 3)]);
    }
}
