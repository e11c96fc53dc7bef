//! Typo tolerance. A query word that no document has (Paragauy, ctenphores)
//! is searched as the indexed word closest to it: the one within the typos
//! its length allows that the most documents have, fewest typos first. As
//! in common practice (Meilisearch's defaults), a word of 5 to 8 letters
//! may have one typo, a longer one two; a transposition of two letters
//! counts as one. Words that some document has are never corrected, nor
//! shorter words, numbers or Korean (whose morphemes are short and whose
//! misspellings are better caught by the character-bigram view).

use std::collections::HashMap;
use std::sync::OnceLock;

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

use crate::analysis::korean::is_hangul;

/// At most this many words of one query are corrected (each correction
/// walks the term dictionary of every segment).
pub const MAX_CORRECTIONS: usize = 4;

/// How many typos `word` may have: 0 below 5 letters, 1 up to 8, else 2.
pub fn allowed(word: &str) -> u8 {
    if !word.chars().all(|c| c.is_alphabetic() && !is_hangul(c)) {
        return 0;
    }
    match word.chars().count() {
        0..5 => 0,
        5..9 => 1,
        _ => 2,
    }
}

fn builder(typos: u8) -> &'static LevenshteinAutomatonBuilder {
    static ONE: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
    static TWO: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
    let cell = if typos <= 1 { &ONE } else { &TWO };
    cell.get_or_init(|| LevenshteinAutomatonBuilder::new(typos.clamp(1, 2), true))
}

/// The automaton over term bytes that accepts the words within the typos
/// that begin with the same letter as the word (`first`, its bytes). A
/// typo on the first letter is rare, and without this bound a walk of the
/// term dictionary for two typos visits most of it: it took 78 % of the
/// time of searches by words over questions never asked before.
struct Within<'a> {
    dfa: &'a DFA,
    first: &'a [u8],
}

impl tantivy_fst::Automaton for Within<'_> {
    /// The DFA's state, and how many bytes of `first` were read (`None`:
    /// one of them differed).
    type State = (u32, Option<usize>);

    fn start(&self) -> Self::State {
        (self.dfa.initial_state(), Some(0))
    }

    fn is_match(&self, &(state, read): &Self::State) -> bool {
        read == Some(self.first.len()) && matches!(self.dfa.distance(state), Distance::Exact(_))
    }

    fn can_match(&self, &(state, read): &Self::State) -> bool {
        read.is_some() && state != SINK_STATE
    }

    fn accept(&self, &(state, read): &Self::State, byte: u8) -> Self::State {
        let read = read.and_then(|n| match self.first.get(n) {
            Some(&b) if b == byte => Some(n + 1),
            Some(_) => None,
            None => Some(n),
        });
        (self.dfa.transition(state, byte), read)
    }
}

/// The term of `field` that `word` (an analysed term no document of the
/// field has) was most likely meant as, if one is within its typos.
pub fn correct(searcher: &Searcher, field: Field, word: &str) -> tantivy::Result<Option<String>> {
    let typos = allowed(word);
    if typos == 0 {
        return Ok(None);
    }
    let automaton = builder(typos).build_dfa(word);
    let first = word.chars().next().map_or(0, char::len_utf8);
    let within = Within {
        dfa: &automaton,
        first: &word.as_bytes()[..first],
    };
    // Every candidate with its number of typos and documents.
    let mut found: HashMap<Vec<u8>, (u8, u64)> = HashMap::new();
    for reader in searcher.segment_readers() {
        let inverted = reader.inverted_index(field)?;
        let mut stream = inverted.terms().search(&within).into_stream()?;
        while stream.advance() {
            let key = stream.key();
            let docs = u64::from(stream.value().doc_freq);
            let entry = found.entry(key.to_vec()).or_insert_with(|| {
                let distance = match automaton.eval(key) {
                    Distance::Exact(d) => d,
                    Distance::AtLeast(d) => d,
                };
                (distance, 0)
            });
            entry.1 += docs;
        }
    }
    let best = found
        .into_iter()
        .filter(|(_, (distance, docs))| *distance > 0 && *docs > 0)
        .min_by(|(a, (da, na)), (b, (db, nb))| da.cmp(db).then(nb.cmp(na)).then(a.cmp(b)));
    Ok(best.and_then(|(bytes, _)| String::from_utf8(bytes).ok()))
}

/// Whether no document has `term`.
pub fn unknown(searcher: &Searcher, term: &Term) -> tantivy::Result<bool> {
    Ok(searcher.doc_freq(term)? == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{Schema, TEXT};

    #[test]
    fn typos_allowed_by_length() {
        assert_eq!(allowed("cafe"), 0);
        assert_eq!(allowed("gandi"), 1);
        assert_eq!(allowed("paragauy"), 1);
        assert_eq!(allowed("ctenophores"), 2);
        assert_eq!(allowed("19901"), 0);
        assert_eq!(allowed("covid19x"), 0);
        assert_eq!(allowed("대한민국정부"), 0);
    }

    #[test]
    fn the_closest_most_common_word_wins() {
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT);
        let index = tantivy::Index::create_in_ram(schema.build());
        let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
        for text in [
            "paraguay paraguay",
            "paraguay",
            "parasuay",
            "ctenophores",
            "uruguay",
        ] {
            writer.add_document(tantivy::doc!(body => text)).unwrap();
        }
        writer.commit().unwrap();
        // A second segment: counts add up across segments.
        writer
            .add_document(tantivy::doc!(body => "parasuay"))
            .unwrap();
        writer
            .add_document(tantivy::doc!(body => "parasuay"))
            .unwrap();
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        // One typo each from "paragauy" (a transposition), "parasuay" in
        // more documents but two typos away.
        assert_eq!(
            correct(&searcher, body, "paragauy").unwrap().as_deref(),
            Some("paraguay")
        );
        // Among candidates as close, the one in more documents.
        assert_eq!(
            correct(&searcher, body, "paraxuay").unwrap().as_deref(),
            Some("parasuay")
        );
        assert_eq!(
            correct(&searcher, body, "ctenphores").unwrap().as_deref(),
            Some("ctenophores")
        );
        // Too far, or too short to guess.
        assert_eq!(correct(&searcher, body, "pxrxguay").unwrap(), None);
        // A typo on the first letter is not guessed.
        assert_eq!(correct(&searcher, body, "baraguay").unwrap(), None);
        assert_eq!(correct(&searcher, body, "urug").unwrap(), None);
    }
}
