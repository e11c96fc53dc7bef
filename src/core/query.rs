//! The query language: free words, "quoted phrases", and exclusions
//! (-word, -"a phrase"). Anything else is a word: there is no syntax error,
//! only text (an unbalanced quote runs to the end, a lone `-` is ignored).

/// Longest query accepted, in characters; longer input is refused clearly.
pub const MAX_QUERY_CHARS: usize = 1_000;

/// One part of a parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// Free text: ranked, not required.
    Words(String),
    /// A quoted phrase: required.
    Phrase(String),
    /// An excluded word or phrase.
    Exclude(String),
}

/// Split a query into its clauses. Control characters become spaces.
pub fn parse(query: &str) -> Vec<Clause> {
    let clean: String = query
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut clauses = Vec::new();
    let mut words = String::new();
    let mut chars = clean.chars().peekable();
    let flush = |words: &mut String, clauses: &mut Vec<Clause>| {
        if !words.trim().is_empty() {
            clauses.push(Clause::Words(words.trim().to_string()));
        }
        words.clear();
    };
    let mut at_word_start = true;
    while let Some(c) = chars.next() {
        let quote = |c: char| matches!(c, '"' | '“' | '”' | '«' | '»');
        if quote(c) {
            let mut phrase = String::new();
            for n in chars.by_ref() {
                if quote(n) {
                    break;
                }
                phrase.push(n);
            }
            flush(&mut words, &mut clauses);
            if !phrase.trim().is_empty() {
                clauses.push(Clause::Phrase(phrase.trim().to_string()));
            }
            at_word_start = true;
        } else if c == '-' && at_word_start && chars.peek().is_some_and(|n| !n.is_whitespace()) {
            flush(&mut words, &mut clauses);
            let mut excluded = String::new();
            if chars.peek().is_some_and(|n| quote(*n)) {
                chars.next();
                for n in chars.by_ref() {
                    if quote(n) {
                        break;
                    }
                    excluded.push(n);
                }
            } else {
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() {
                        break;
                    }
                    excluded.push(n);
                    chars.next();
                }
            }
            if !excluded.trim().is_empty() {
                clauses.push(Clause::Exclude(excluded.trim().to_string()));
            }
            at_word_start = true;
        } else {
            words.push(c);
            at_word_start = c.is_whitespace();
        }
    }
    flush(&mut words, &mut clauses);
    clauses
}

/// Bytes of a query given to the embedding model (a longer one is cut at
/// a character boundary), by both engines.
pub const MAX_MODEL_QUERY_BYTES: usize = 2_000;

/// The part of `text` the model is given: its first
/// [`MAX_MODEL_QUERY_BYTES`] bytes, cut at a character boundary.
pub fn for_model(text: &str) -> &str {
    let mut end = text.len().min(MAX_MODEL_QUERY_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_gets_the_first_bytes_at_a_character_boundary() {
        assert_eq!(for_model("registro civil"), "registro civil");
        let long = "주".repeat(1_000);
        let cut = for_model(&long);
        assert!(cut.len() <= MAX_MODEL_QUERY_BYTES && cut.len() > MAX_MODEL_QUERY_BYTES - 3);
        assert!(cut.chars().all(|c| c == '주'));
    }
    use Clause::*;

    #[test]
    fn words_phrases_and_exclusions() {
        assert_eq!(
            parse(r#"resident registration "civil registry" -Brazil -"smart city" e-government"#),
            vec![
                Words("resident registration".into()),
                Phrase("civil registry".into()),
                Exclude("Brazil".into()),
                Exclude("smart city".into()),
                Words("e-government".into()),
            ]
        );
    }

    #[test]
    fn bad_syntax_is_text() {
        assert_eq!(
            parse(r#"registro "civil"#),
            vec![Words("registro".into()), Phrase("civil".into())]
        );
        assert_eq!(parse(" - "), vec![Words("-".into())]);
        assert_eq!(parse("\"\""), vec![]);
        assert_eq!(parse("a\u{0}b\tc"), vec![Words("a b c".into())]);
        assert_eq!(parse("-"), vec![Words("-".into())]);
        assert_eq!(parse("--x"), vec![Exclude("-x".into())]);
    }
}
