//! Finds known phrases (country names, topic synonyms) in text. Phrases and
//! text go through the same analyzers, so matching is on analysed terms:
//! word-boundary aware (Peru is not in Perugia), indifferent to case,
//! accents, plurals and Korean particles (파라과이에 → 파라과이), and a
//! Korean compound matches written together or spaced. At each position the
//! longest phrase wins (North Korea before Korea).

// A fast hash: the matcher looks up every term of every document.
use foldhash::HashMap;

use std::borrow::Cow;

use crate::analysis::korean::is_hangul;
use crate::analysis::{AnalyzerName, Analyzers, Mode, Term};

/// One phrase found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Which entry (country, topic) the phrase belongs to.
    pub key: usize,
    /// Byte offsets of the phrase in the text.
    pub start: usize,
    pub end: usize,
}

/// A phrase as analysed terms, for one analyzer.
type Phrase = Vec<String>;

/// Phrases of several entries, indexed by analyzer and first term (looked
/// up by `&str`: a document's every term is looked up, without a copy).
#[derive(Default)]
pub struct PhraseMatcher {
    by_first: HashMap<AnalyzerName, HashMap<String, Vec<(Phrase, usize)>>>,
    /// For each key, its phrases per analyzer (for query expansion).
    by_key: Vec<Vec<(AnalyzerName, Phrase)>>,
}

/// The analyzers worth running on a text, from the scripts it contains.
pub fn analyzers_for(text: &str) -> Vec<AnalyzerName> {
    // One pass, which stops when both scripts are found; Hangul is tested
    // first, so a Korean text never pays for the Unicode alphabetic lookup.
    let (mut hangul, mut other) = (false, false);
    for c in text.chars() {
        if is_hangul(c) {
            hangul = true;
        } else if !other && c.is_alphabetic() {
            other = true;
        }
        if hangul && other {
            break;
        }
    }
    let mut out = Vec::new();
    if hangul {
        out.push(AnalyzerName::Korean);
    }
    if other {
        out.push(AnalyzerName::Spanish);
        out.push(AnalyzerName::English);
    }
    out
}

impl PhraseMatcher {
    /// Add `phrase` (in the language of `analyzer`) for entry `key`. Returns
    /// false when the phrase analyses to nothing (only stop words) or to
    /// one term of its several words.
    pub fn add(
        &mut self,
        analyzers: &Analyzers,
        analyzer: AnalyzerName,
        phrase: &str,
        key: usize,
    ) -> bool {
        let Ok(a) = analyzers.get(analyzer) else {
            return false;
        };
        let terms: Phrase = a
            .analyze(phrase, Mode::Query)
            .into_iter()
            .map(|t| t.text)
            .collect();
        let Some(first) = terms.first().cloned() else {
            return false;
        };
        // A name of several words that analyses to one term has lost words
        // the dictionary does not know (쿡 제도 → 제도, "system"): it would
        // match text that never names the place.
        if terms.len() == 1 && phrase.split_whitespace().count() > 1 {
            return false;
        }
        if self.by_key.len() <= key {
            self.by_key.resize_with(key + 1, Vec::new);
        }
        if !self.by_key[key]
            .iter()
            .any(|(n, p)| *n == analyzer && *p == terms)
        {
            self.by_key[key].push((analyzer, terms.clone()));
        }
        let list = self
            .by_first
            .entry(analyzer)
            .or_default()
            .entry(first)
            .or_default();
        if !list.iter().any(|(p, k)| *k == key && *p == terms) {
            list.push((terms, key));
            // Longest first, so that the first that fits is the longest.
            list.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        }
        true
    }

    /// The phrases of an entry, per analyzer.
    pub fn phrases(&self, key: usize) -> &[(AnalyzerName, Phrase)] {
        self.by_key.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every phrase occurrence in `text`. The same stretch of text may be
    /// found by several analyzers (Spanish and English); it is reported once.
    pub fn find(&self, analyzers: &Analyzers, text: &str) -> Vec<Found> {
        self.find_analysed(&analyse(analyzers, text))
    }

    /// The same, on text already analysed by [`analyse`] (enrichment
    /// analyses a document once for every vocabulary).
    pub fn find_analysed(&self, analysed: &[Analysed<'_>]) -> Vec<Found> {
        let mut found = Vec::new();
        for (name, terms) in analysed {
            let Some(by_first) = self.by_first.get(name) else {
                continue;
            };
            let mut i = 0;
            while i < terms.len() {
                let mut advanced = false;
                if let Some(candidates) = by_first.get(terms[i].text.as_str()) {
                    for (phrase, key) in candidates {
                        let n = phrase.len();
                        if i + n > terms.len() {
                            continue;
                        }
                        let window = &terms[i..i + n];
                        let consecutive = window
                            .windows(2)
                            .all(|w| w[1].position == w[0].position + 1);
                        if consecutive && window.iter().zip(phrase).all(|(t, p)| t.text == *p) {
                            found.push(Found {
                                key: *key,
                                start: window[0].start,
                                end: window[n - 1].end,
                            });
                            i += n;
                            advanced = true;
                            break;
                        }
                    }
                }
                if !advanced {
                    i += 1;
                }
            }
        }
        // One occurrence per stretch of text, even if two analyzers found it.
        found.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end), f.key));
        found.dedup_by(|b, a| a.key == b.key && b.start < a.end);
        found
    }
}

/// A text's terms (query mode) from one analyzer: its own, or borrowed
/// from an analysis made for the index.
pub type Analysed<'a> = (AnalyzerName, Cow<'a, [Term]>);

/// A text as the analyzers worth running on it see it (query mode).
pub fn analyse(analyzers: &Analyzers, text: &str) -> Vec<Analysed<'static>> {
    analyzers_for(text)
        .into_iter()
        .filter_map(|name| {
            let terms = analyzers.get(name).ok()?.analyze(text, Mode::Query);
            Some((name, Cow::Owned(terms)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyzers_follow_the_scripts_of_the_text() {
        use AnalyzerName::*;
        assert_eq!(analyzers_for("주민등록 서비스"), vec![Korean]);
        assert_eq!(analyzers_for("registro civil"), vec![Spanish, English]);
        assert_eq!(
            analyzers_for("파라과이 Paraguay"),
            vec![Korean, Spanish, English]
        );
        assert_eq!(
            analyzers_for("Paraguay 파라과이"),
            vec![Korean, Spanish, English]
        );
        assert!(analyzers_for("2018.06.26 — 100 %").is_empty());
    }
}
