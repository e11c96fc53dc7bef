//! Analyzers for languages written with spaces: Spanish and English (word
//! split, lower case, stop words, Snowball stemming, accent folding that
//! keeps `ñ` apart from `n`), and a fallback for every other language, which
//! folds Latin-script words and cuts scripts written without spaces (CJK,
//! Thai) into overlapping character bigrams.

// A fast hash: every word of every document is looked up.
use foldhash::{HashSet, HashSetExt};

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::{Analyzer, MAX_TERM_BYTES, Mode, Term};

pub(crate) const STOPWORDS_TOML: &str = include_str!("data/stopwords.toml");

/// Remove accents and other combining marks, except the tilde of `ñ`/`Ñ`,
/// which makes another letter in Spanish (niño is not nino).
pub fn fold(word: &str) -> String {
    if word.is_ascii() {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len());
    let mut prev = '\0';
    for c in word.nfd() {
        if is_combining_mark(c) {
            if c == '\u{303}' && (prev == 'n' || prev == 'N') {
                out.push(c);
            }
            continue;
        }
        out.push(c);
        prev = c;
    }
    out.nfc().collect()
}

/// Scripts written without spaces between words, cut into bigrams.
fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // kana
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility
        | '\u{AC00}'..='\u{D7A3}' // Hangul syllables
        | '\u{0E00}'..='\u{0E7F}' // Thai
        | '\u{20000}'..='\u{2FFFF}'
    )
}

fn stopwords(lang: &str) -> HashSet<String> {
    // The file is part of the build; a broken edit fails the tests.
    let table: toml::Table = toml::from_str(STOPWORDS_TOML).unwrap_or_default();
    table
        .get(lang)
        .and_then(|t| t.get("words"))
        .and_then(|w| w.as_array())
        .map(|words| {
            words
                .iter()
                .filter_map(|w| w.as_str())
                .map(|w| fold(&w.to_lowercase()))
                .collect()
        })
        .unwrap_or_default()
}

/// Word-splitting analyzer for Spanish, English and the fallback.
pub struct LatinAnalyzer {
    stemmer: Option<Stemmer>,
    stopwords: HashSet<String>,
    /// Character bigrams for unspaced scripts (only the fallback).
    bigrams: bool,
    /// Put back the suffix accents Snowball's Spanish stemmer needs.
    spanish: bool,
}

/// The accented suffixes of Snowball's Spanish step 1, restored on a folded
/// word (`contratacion` → `contratación`) so that the stemmer treats it as
/// it treats the accented spelling.
fn spanish_suffix_accents(word: &str) -> std::borrow::Cow<'_, str> {
    const SUFFIXES: [(&str, &str); 4] = [
        ("acion", "ación"),
        ("ucion", "ución"),
        ("logia", "logía"),
        ("logias", "logías"),
    ];
    for (plain, accented) in SUFFIXES {
        if let Some(stem) = word.strip_suffix(plain) {
            return format!("{stem}{accented}").into();
        }
    }
    word.into()
}

/// English clitics, written after an apostrophe: the possessive and the
/// contractions (Tesla's, don't, I'd, I'm, we'll, you're, I've).
const CLITICS: [&str; 7] = ["s", "t", "d", "m", "ll", "re", "ve"];

/// The length in bytes of the clitic `rest` starts with (an apostrophe,
/// straight or curly, then one of [`CLITICS`] and no more letters), or 0.
fn clitic_len(rest: &str) -> usize {
    let Some(apostrophe) = rest
        .chars()
        .next()
        .filter(|c| matches!(c, '\'' | '’' | 'ʼ'))
    else {
        return 0;
    };
    let after = &rest[apostrophe.len_utf8()..];
    let word = after
        .find(|c: char| !c.is_alphanumeric())
        .map_or(after, |n| &after[..n]);
    if CLITICS.iter().any(|c| word.eq_ignore_ascii_case(c)) {
        apostrophe.len_utf8() + word.len()
    } else {
        0
    }
}

impl LatinAnalyzer {
    pub fn spanish() -> Self {
        Self {
            stemmer: Some(Stemmer::create(Algorithm::Spanish)),
            stopwords: stopwords("es"),
            bigrams: false,
            spanish: true,
        }
    }

    pub fn english() -> Self {
        Self {
            stemmer: Some(Stemmer::create(Algorithm::English)),
            stopwords: stopwords("en"),
            bigrams: false,
            spanish: false,
        }
    }

    pub fn other() -> Self {
        Self {
            stemmer: None,
            stopwords: HashSet::new(),
            bigrams: true,
            spanish: false,
        }
    }

    fn word_term(&self, word: &str) -> Option<String> {
        let lower = word.to_lowercase();
        let folded = fold(&lower);
        if self.stopwords.contains(&folded) {
            return None;
        }
        // Fold first, so that a word with and without its accents gives the
        // same term; Snowball's Spanish rules expect the accents of a few
        // suffixes (-ación, -ución, -logía), which are put back for it.
        let term = match &self.stemmer {
            Some(s) if self.spanish => fold(&s.stem(&spanish_suffix_accents(&folded))),
            Some(s) => fold(&s.stem(&folded)),
            None => folded,
        };
        (!term.is_empty() && term.len() <= MAX_TERM_BYTES).then_some(term)
    }
}

impl Analyzer for LatinAnalyzer {
    fn analyze(&self, text: &str, _mode: Mode) -> Vec<Term> {
        let mut terms = Vec::new();
        let mut position = 0;
        let mut chars = text.char_indices().peekable();
        while let Some(&(start, c)) = chars.peek() {
            if self.bigrams && is_unspaced_script(c) {
                // A run of unspaced script: overlapping bigrams (a lone
                // character is its own term).
                let mut run: Vec<(usize, char)> = Vec::new();
                while let Some(&(i, c)) = chars.peek() {
                    if !is_unspaced_script(c) {
                        break;
                    }
                    run.push((i, c));
                    chars.next();
                }
                let end_of = |k: usize| run[k].0 + run[k].1.len_utf8();
                if run.len() == 1 {
                    terms.push(Term {
                        text: run[0].1.to_string(),
                        start,
                        end: end_of(0),
                        position,
                        index_only: false,
                    });
                    position += 1;
                }
                for k in 1..run.len() {
                    terms.push(Term {
                        text: format!("{}{}", run[k - 1].1, run[k].1),
                        start: run[k - 1].0,
                        end: end_of(k),
                        position,
                        index_only: false,
                    });
                    position += 1;
                }
            } else if c.is_alphanumeric() {
                let mut end = start;
                while let Some(&(i, c)) = chars.peek() {
                    let unspaced = self.bigrams && is_unspaced_script(c);
                    if !(c.is_alphanumeric() || is_combining_mark(c)) || unspaced {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                if let Some(t) = self.word_term(&text[start..end]) {
                    terms.push(Term {
                        text: t,
                        start,
                        end,
                        position,
                        index_only: false,
                    });
                    position += 1;
                }
                // An English clitic after the word (Tesla's, don't, we'll)
                // is not a word of its own: skip it.
                let clitic = clitic_len(&text[end..]);
                while chars.peek().is_some_and(|&(i, _)| i < end + clitic) {
                    chars.next();
                }
            } else {
                chars.next();
            }
        }
        terms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(a: &LatinAnalyzer, s: &str) -> Vec<String> {
        a.analyze(s, Mode::Index)
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn folds_accents_but_keeps_enye() {
        assert_eq!(fold("electrónico"), "electronico");
        assert_eq!(fold("niño"), "niño");
        assert_eq!(fold("NIÑO"), "NIÑO");
        assert_eq!(fold("pingüino"), "pinguino");
        // decomposed input comes out composed
        assert_eq!(fold("nin\u{303}o"), "niño");
    }

    #[test]
    fn stopword_list_parses() {
        assert!(stopwords("es").len() > 100);
        assert!(stopwords("en").len() > 100);
        assert!(stopwords("es").contains("mas"));
    }

    #[test]
    fn offsets_point_at_the_words() {
        let a = LatinAnalyzer::english();
        let text = "The Records of Seoul";
        for t in a.analyze(text, Mode::Index) {
            let w = &text[t.start..t.end];
            assert!(w.eq_ignore_ascii_case("records") || w == "Seoul", "{w}");
        }
    }

    #[test]
    fn english_clitics_are_not_words() {
        let en = LatinAnalyzer::english();
        assert_eq!(
            texts(
                &en,
                "Tesla's company’s patents don't expire; we'll see, O'Brien's 'sup"
            ),
            [
                "tesla", "compani", "patent", "don", "expir", "see", "o", "brien", "sup"
            ]
        );
        // The other analyzers too (an English name in any text), and the
        // positions stay consecutive.
        let other = LatinAnalyzer::other();
        let terms = other.analyze("McDonald's menu", Mode::Index);
        let got: Vec<(&str, usize)> = terms
            .iter()
            .map(|t| (t.text.as_str(), t.position))
            .collect();
        assert_eq!(got, [("mcdonald", 0), ("menu", 1)]);
        // An apostrophe before something else is only punctuation.
        assert_eq!(
            texts(&other, "rock'n'roll l'homme"),
            ["rock", "n", "roll", "l", "homme"]
        );
    }

    #[test]
    fn fallback_cuts_unspaced_scripts_into_bigrams() {
        let a = LatinAnalyzer::other();
        assert_eq!(texts(&a, "東京都 café"), vec!["東京", "京都", "cafe"]);
        assert_eq!(texts(&a, "字"), vec!["字"]);
    }
}
