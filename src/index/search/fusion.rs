//! Fusion of the lexical ranking with the documents found by meaning,
//! weighed by the evidence the words carry (language, concepts, names,
//! numbers, shared roots). The weights are in `src/ranking.rs`.

use foldhash::{HashMap, HashSet, HashSetExt};

use tantivy::{DocAddress, Term};

use super::columns::{StrColumn, holders};
use super::execute::Meaning;
use super::understand::TextQuery;
use super::{SearchError, TantivySearcher};
use crate::analysis::Mode;
use crate::core::request::SearchMode;
use crate::core::response::Interpreted;
use crate::document::Lang;
use crate::index::bits;
use crate::ranking::COGNATE_WINDOW;
use crate::semantic::search::SemanticHit;

/// Lexical hits fused with the semantic ones.
pub(super) const FUSION_WINDOW: usize = 100;

/// The query's rarer words and the documents that have them.
#[derive(Default)]
pub(super) struct Coverage {
    pub(super) words: Vec<(f32, HashSet<DocAddress>)>,
}

impl Coverage {
    /// The share of the query's rarer words (by idf) that `addr` has;
    /// 1 when the query has none.
    pub(super) fn of(&self, addr: DocAddress) -> f32 {
        let total: f32 = self.words.iter().map(|(idf, _)| idf).sum();
        if total <= 0.0 {
            return 1.0;
        }
        let found: f32 = self
            .words
            .iter()
            .filter(|(_, docs)| docs.contains(&addr))
            .map(|(idf, _)| idf)
            .sum();
        found / total
    }
}

/// The lexical hits (newest first) and those found by meaning, newest first.
pub(super) fn by_day(
    searcher: &tantivy::Searcher,
    lexical: Vec<(f32, DocAddress)>,
    semantic: &[SemanticHit],
) -> Vec<(f32, DocAddress)> {
    let days: Vec<Option<tantivy::columnar::Column<u64>>> = searcher
        .segment_readers()
        .iter()
        .map(|s| s.fast_fields().u64("day").ok())
        .collect();
    let day = |a: DocAddress| {
        days.get(a.segment_ord as usize)
            .and_then(|c| c.as_ref())
            .and_then(|c| c.first(a.doc_id))
            .unwrap_or(0)
    };
    let mut all: Vec<DocAddress> = lexical.into_iter().map(|(_, a)| a).collect();
    let seen: HashSet<DocAddress> = all.iter().copied().collect();
    all.extend(
        semantic
            .iter()
            .map(|h| h.addr)
            .filter(|a| !seen.contains(a)),
    );
    all.sort_by(|a, b| day(*b).cmp(&day(*a)).then_with(|| a.cmp(b)));
    all.into_iter().map(|a| (0.0, a)).collect()
}

impl TantivySearcher {
    /// The ranking joined with the documents found by meaning: fused by
    /// score (then the shared roots, in hybrid mode), or merged by date.
    pub(super) fn with_meaning(
        &self,
        searcher: &tantivy::Searcher,
        ranked: Vec<(f32, DocAddress)>,
        found: &mut Meaning<'_>,
        (mode, order): (SearchMode, bits::Order),
        text: &TextQuery,
    ) -> Result<Vec<(f32, DocAddress)>, SearchError> {
        if order == bits::Order::Day {
            return Ok(by_day(searcher, ranked, &found.best));
        }
        // The evidence is asked only of the documents the fusion scores.
        let mut candidates: Vec<DocAddress> = ranked
            .iter()
            .take(FUSION_WINDOW)
            .map(|(_, a)| *a)
            .chain(found.best.iter().map(|h| h.addr))
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        found.compare(&candidates);
        let evidence = (
            self.anchors(searcher, &text.meaning, &candidates)?,
            self.coverage(searcher, &text.meaning, &candidates)?,
        );
        let mut fused = self.fuse(
            searcher,
            ranked,
            found,
            (mode, text.lang.as_ref(), &text.interpreted),
            &evidence,
        );
        if mode == SearchMode::Hybrid {
            self.cognates(
                searcher,
                &mut fused,
                found,
                &text.meaning,
                text.lang.as_ref(),
            );
        }
        Ok(fused)
    }

    /// Fuse the lexical ranking (best first) with the documents found by
    /// meaning. A document of either list scores its similarity to the
    /// query (its best passage's cosine) plus, when the words found it,
    /// its lexical score over the best one's, weighed by what the words
    /// can say: `lexical_concepts` for a hit tagged with every country and
    /// topic the query names, when it names both (the words reached it in
    /// any language through their names), else `lexical_same` when it is in the query's language
    /// (or that is not told) and `lexical_cross` in another, where only
    /// names and numbers are shared. Lexical hits past the fusion window
    /// follow in their order.
    pub(super) fn fuse(
        &self,
        searcher: &tantivy::Searcher,
        lexical: Vec<(f32, DocAddress)>,
        meaning: &Meaning<'_>,
        (mode, query_lang, concepts): (SearchMode, Option<&Lang>, &Interpreted),
        (anchors, coverage): &(Vec<HashSet<DocAddress>>, Coverage),
    ) -> Vec<(f32, DocAddress)> {
        let r = self.ranking();
        let similarity = |a: DocAddress| meaning.hit(a).map_or(0.0, |h| h.similarity);
        let mut scores: HashMap<DocAddress, f32> = meaning
            .best
            .iter()
            .map(|h| (h.addr, r.semantic * h.similarity))
            .collect();
        let mut rest = Vec::new();
        if mode == SearchMode::Hybrid {
            let langs = StrColumn::new(searcher, "lang");
            let (countries, topics) = (
                StrColumn::new(searcher, "countries"),
                StrColumn::new(searcher, "topics"),
            );
            // A country and a topic: what a researcher asks for ("resident
            // registration Paraguay"); a country alone says little about a
            // passage among others of the same place.
            let named = !concepts.countries.is_empty() && !concepts.topics.is_empty();
            let top = lexical.first().map_or(1.0, |l| l.0.max(f32::MIN_POSITIVE));
            for (rank, (score, addr)) in lexical.into_iter().enumerate() {
                if rank >= FUSION_WINDOW {
                    rest.push(addr);
                    continue;
                }
                let same = match (query_lang, langs.of(addr)) {
                    (Some(q), Some(d)) => q.as_str() == d,
                    _ => true,
                };
                let tagged = named
                    && concepts
                        .countries
                        .iter()
                        .all(|c| countries.values(addr).contains(c))
                    && concepts
                        .topics
                        .iter()
                        .all(|t| topics.values(addr).contains(t));
                let weight = match (tagged, same) {
                    (true, _) => r.lexical_concepts,
                    (false, true) => r.lexical_same * coverage.of(addr).powf(r.coverage),
                    (false, false) => r.lexical_cross,
                };
                *scores
                    .entry(addr)
                    .or_insert_with(|| r.semantic * similarity(addr)) += weight * score / top;
            }
        }
        if !anchors.is_empty() && mode == SearchMode::Hybrid {
            let per_anchor = r.anchors / anchors.len() as f32;
            for (addr, score) in scores.iter_mut() {
                *score += per_anchor * anchors.iter().filter(|a| a.contains(addr)).count() as f32;
            }
        }
        let mut fused: Vec<(f32, DocAddress)> = scores.into_iter().map(|(a, s)| (s, a)).collect();
        fused.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let last = fused.last().map_or(0.0, |f| f.0);
        let seen: HashSet<DocAddress> = fused.iter().map(|f| f.1).collect();
        fused.extend(
            rest.into_iter()
                .filter(|a| !seen.contains(a))
                .map(|a| (last * 0.5, a)),
        );
        fused
    }

    /// Words a query and a passage in two languages share by their roots
    /// (defense, defensa; registration, registro): the best
    /// [`COGNATE_WINDOW`] fused hits gain `cognates` times the share of the
    /// query's stems (five letters or more, stop words out) that begin a
    /// word of their best passage, and are sorted again.
    pub(super) fn cognates(
        &self,
        searcher: &tantivy::Searcher,
        fused: &mut [(f32, DocAddress)],
        meaning: &Meaning<'_>,
        query: &str,
        lang: Option<&Lang>,
    ) {
        let weight = self.ranking().cognates;
        let Some(analyzer) = lang.and_then(|l| self.language_analyzer(l)) else {
            return;
        };
        if weight == 0.0 {
            return;
        }
        let keys = crate::ranking::cognate_keys(analyzer.as_ref(), query);
        if keys.is_empty() {
            return;
        }
        let window = fused.len().min(COGNATE_WINDOW);
        let langs = StrColumn::new(searcher, "lang");
        for (score, addr) in fused[..window].iter_mut() {
            // In the query's language the words themselves were compared.
            if lang.is_some_and(|l| langs.of(*addr).as_deref() == Some(l.as_str())) {
                continue;
            }
            let Some(doc) = self.stored(searcher, *addr) else {
                continue;
            };
            let passage = meaning
                .hit(*addr)
                .map(|h| h.span.text(&doc))
                .filter(|t| !t.trim().is_empty())
                .unwrap_or(doc.body.as_str());
            let text = format!("{} {}", doc.title, passage);
            *score += weight * crate::ranking::cognate_share(&keys, &text);
        }
        fused[..window].sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    }

    /// The names and numbers of a query (a word with a digit, or one
    /// capitalised after the first), each as the set of `candidates` that
    /// have it in the all-languages view: what a question and a passage in
    /// two languages can share word for word. A name in more than one
    /// document in twenty says little and is left out.
    pub(super) fn anchors(
        &self,
        searcher: &tantivy::Searcher,
        text: &str,
        candidates: &[DocAddress],
    ) -> Result<Vec<HashSet<DocAddress>>, SearchError> {
        let Some(analyzer) = self.analyzer(self.fields.all.analyzer) else {
            return Ok(Vec::new());
        };
        let common = (searcher.num_docs() / 20).max(50);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (i, word) in text.split_whitespace().enumerate() {
            let word = word.trim_matches(|c: char| !c.is_alphanumeric());
            let name = i > 0 && word.chars().next().is_some_and(char::is_uppercase);
            if !(name || word.chars().any(|c| c.is_ascii_digit())) {
                continue;
            }
            for t in analyzer.analyze(word, Mode::Query) {
                let term = Term::from_field_text(self.fields.all.body, &t.text);
                if !seen.insert(t.text) || searcher.doc_freq(&term)? > common {
                    continue;
                }
                out.push(holders(searcher, &term, candidates)?);
            }
        }
        Ok(out)
    }

    /// The query's words as the all-languages view has them, each with its
    /// idf and the `candidates` that have it: how much of a query a
    /// document covers, weighed by how rare each word is. Words in more
    /// than a quarter of the documents say little and are left out.
    pub(super) fn coverage(
        &self,
        searcher: &tantivy::Searcher,
        text: &str,
        candidates: &[DocAddress],
    ) -> Result<Coverage, SearchError> {
        let Some(analyzer) = self.analyzer(self.fields.all.analyzer) else {
            return Ok(Coverage::default());
        };
        let docs = searcher.num_docs().max(1);
        let mut seen = HashSet::new();
        let mut words = Vec::new();
        for t in analyzer.analyze(text, Mode::Query) {
            let term = Term::from_field_text(self.fields.all.body, &t.text);
            if !seen.insert(t.text) {
                continue;
            }
            let df = searcher.doc_freq(&term)?;
            if df == 0 || df > docs / 4 {
                continue;
            }
            let idf = (docs as f32 / df as f32).ln();
            words.push((idf, holders(searcher, &term, candidates)?));
        }
        Ok(Coverage { words })
    }
}
