//! Execution beyond the first pass: the bonuses over the best candidates
//! (proximity, all concepts) and the documents found by meaning.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::sync::Arc;

use tantivy::collector::DocSetCollector;
use tantivy::query::{BooleanQuery, Occur, Query};
use tantivy::query::{EnableScoring, Scorer};
use tantivy::{DocAddress, Term};

use super::columns::{Bars, StrColumn};
use super::understand::{EvidenceClause, TextQuery};
use super::{SearchError, TantivySearcher, hangul_word};
use crate::core::relevance::{self, Clause, Words};
use crate::core::request::{SearchMode, SearchRequest};
use crate::document::Lang;
use crate::index::bits::{self};
use crate::index::matching::Plan;
use crate::semantic::search::{QueryVector, SemanticHit, VectorIndex};

/// The proximity bonus reorders this many best candidates by the other
/// evidence (positions are dear to read for every match). Retrieval
/// quality is the same on every benchmark set with 30, 100 or 300
/// (BENCHMARKS.md): the bonus is small beside the terms' own scores.
pub(super) const RESCORE_WINDOW: usize = 30;

/// Documents found by meaning, per search.
pub(super) const SEMANTIC_WINDOW: usize = 100;

/// What a search by meaning is asked: the exclusions and whether quoted
/// phrases are required (both hold), the mode, the query's language.
#[derive(Clone, Copy)]
pub(super) struct MeaningAsk<'a> {
    pub(super) exclusions: &'a [Box<dyn Query>],
    pub(super) phrases: bool,
    pub(super) mode: SearchMode,
    pub(super) lang: Option<&'a Lang>,
}

/// What a search found by meaning.
#[derive(Default)]
pub(super) struct Meaning<'v> {
    /// The nearest documents that pass the filters, nearest first.
    pub(super) best: Vec<SemanticHit>,
    /// The vectors and the query, for any other document's best passage.
    pub(super) found: Option<(&'v VectorIndex, QueryVector)>,
    /// Best passages compared already, by document.
    compared: HashMap<DocAddress, SemanticHit>,
}

impl Meaning<'_> {
    /// A document's best passage for the query, if it has vectors: of
    /// those the walk found, for a document found by meaning (its
    /// similarity at most its best's; BENCHMARKS.md, "Hybrid
    /// throughput"), else of all its passages.
    pub(super) fn hit(&self, addr: DocAddress) -> Option<SemanticHit> {
        if let Some(h) = self.compared.get(&addr) {
            return Some(*h);
        }
        let (vectors, query) = self.found.as_ref()?;
        vectors.hit(query, addr)
    }

    /// Compare the best passages of `addrs` at once (those the fusion
    /// scores), for [`Self::hit`].
    pub(super) fn compare(&mut self, addrs: &[DocAddress]) {
        let Some((vectors, query)) = self.found.as_ref() else {
            return;
        };
        self.compared = self.best.iter().map(|h| (h.addr, *h)).collect();
        let rest: Vec<DocAddress> = addrs
            .iter()
            .copied()
            .filter(|a| !self.compared.contains_key(a))
            .collect();
        let hits = vectors.hits(query, &rest);
        self.compared.extend(hits.into_iter().map(|h| (h.addr, h)));
    }
}

impl TantivySearcher {
    /// What the one pass matches and scores: the text's terms with their
    /// BM25 weights (Korean and Latin-script terms with their own
    /// parameters), its phrases and its exclusions, moved out of `text`.
    pub(super) fn plan(
        &self,
        searcher: &tantivy::Searcher,
        text: &mut TextQuery,
    ) -> tantivy::Result<Plan> {
        let terms = text
            .weighted
            .iter()
            .map(|(t, w)| {
                let hangul = t.value().as_str().is_some_and(hangul_word);
                let params = if hangul {
                    self.ranking().korean
                } else {
                    self.ranking().latin
                };
                Ok((t.clone(), self.stats.bm25(searcher, t, hangul, params, *w)?))
            })
            .collect::<tantivy::Result<_>>()?;
        (text.words, text.words_terms) = self.words_rule(searcher, &text.evidence)?;
        // The rule off (no share asked), nothing is filtered: the clauses
        // only say which words each hit has.
        let evidence = match text.words.min_share > 0.0 {
            true => text
                .words
                .clauses
                .iter()
                .zip(&text.words_terms)
                .map(|(c, terms)| (terms.clone(), c.weight))
                .collect(),
            false => Vec::new(),
        };
        Ok(Plan {
            terms,
            must: std::mem::take(&mut text.must),
            must_not: std::mem::take(&mut text.must_not),
            evidence,
            min_share: text.words.min_share,
        })
    }

    /// The words rule of a query's clauses (`core::relevance`): each
    /// clause weighed by the idf of its commonest term, those too common
    /// to be evidence left out; and each clause's terms.
    fn words_rule(
        &self,
        searcher: &tantivy::Searcher,
        evidence: &[EvidenceClause],
    ) -> tantivy::Result<(Words, Vec<Vec<Term>>)> {
        let docs = searcher.num_docs();
        let mut clauses = Vec::new();
        let mut terms = Vec::new();
        for c in evidence {
            let mut df = 0;
            for t in &c.terms {
                df = df.max(searcher.doc_freq(t)?);
            }
            if relevance::too_common(df, docs) {
                continue;
            }
            clauses.push(Clause {
                label: c.label.clone(),
                concept: c.concept,
                weight: relevance::idf(df, docs),
            });
            terms.push(c.terms.clone());
        }
        let words = Words {
            clauses,
            min_share: self.ranking().min_coverage,
        };
        Ok((words, terms))
    }

    /// Add the bonus `extra` gives each of the `ranked` candidates and sort
    /// them again (a second phase over the best of the first).
    pub(super) fn rescore(
        searcher: &tantivy::Searcher,
        ranked: &mut [(f32, DocAddress)],
        extra: &[Box<dyn Query>],
        in_time: &dyn Fn() -> Result<(), SearchError>,
    ) -> Result<(), SearchError> {
        // One scorer per clause, each moved forward by seeking: a union of
        // them would step through every document between two candidates.
        let weights = extra
            .iter()
            .map(|q| q.weight(EnableScoring::enabled_from_searcher(searcher)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let mut order: Vec<usize> = (0..ranked.len()).collect();
        order.sort_by_key(|&i| ranked[i].1);
        let mut segment: Option<u32> = None;
        let mut scorers: Vec<Box<dyn Scorer>> = Vec::new();
        for i in order {
            in_time()?;
            let addr = ranked[i].1;
            if segment != Some(addr.segment_ord) {
                let reader = searcher.segment_reader(addr.segment_ord);
                scorers = weights
                    .iter()
                    .map(|w| w.scorer(reader, 1.0))
                    .collect::<tantivy::Result<_>>()?;
                segment = Some(addr.segment_ord);
            }
            for scorer in &mut scorers {
                if scorer.doc() < addr.doc_id {
                    scorer.seek(addr.doc_id);
                }
                if scorer.doc() == addr.doc_id {
                    ranked[i].0 += scorer.score();
                }
            }
        }
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        Ok(())
    }

    /// The similarity bars for a query in `lang`.
    pub(super) fn bars<'s>(
        &'s self,
        searcher: &tantivy::Searcher,
        lang: Option<&'s Lang>,
    ) -> Bars<'s> {
        Bars {
            calibration: self.engine.semantic.as_ref().map(|s| &s.calibration),
            query: lang,
            scale: self.ranking().meaning_bar,
            langs: StrColumn::new(searcher, "lang"),
        }
    }

    /// The model's vector of the query's words, when the search ranks by
    /// meaning (asked for or by default) and can: a model, vectors, words.
    pub(super) fn query_vector(
        &self,
        searcher: &tantivy::Searcher,
        req: &SearchRequest,
        text: &TextQuery,
    ) -> Option<Arc<[f32]>> {
        if req.mode == Some(SearchMode::Lexical) || text.meaning.trim().is_empty() {
            return None;
        }
        self.vectors.as_ref().ok()?;
        let semantic = self.engine.semantic.as_ref()?;
        // A query that no document has a word of, and that the model
        // cannot read as words (random letters), is near every passage
        // alike: it is not searched by meaning.
        let known = |c: &EvidenceClause| {
            c.terms
                .iter()
                .any(|t| searcher.doc_freq(t).is_ok_and(|df| df > 0))
        };
        if !text.evidence.iter().any(known) && !semantic.reads_as_words(&text.meaning) {
            return None;
        }
        Some(semantic.embed_query(crate::core::query::for_model(&text.meaning)))
    }

    /// The documents nearest the query by meaning: the best
    /// [`SEMANTIC_WINDOW`] that pass the filters (returned, to be ranked)
    /// and the best of all (for the facet counts), added to the matched
    /// documents. Exclusions hold, and quoted phrases stay required.
    pub(super) fn by_meaning<'v>(
        &self,
        searcher: &tantivy::Searcher,
        vectors: &'v VectorIndex,
        query: &[f32],
        ask: &MeaningAsk<'_>,
        fruits: &mut bits::Fruits,
    ) -> Result<Meaning<'v>, SearchError> {
        let MeaningAsk {
            exclusions,
            phrases,
            mode,
            lang,
        } = *ask;
        let excluded: HashSet<DocAddress> = if exclusions.is_empty() {
            HashSet::new()
        } else {
            let any = BooleanQuery::new(
                exclusions
                    .iter()
                    .map(|q| (Occur::Should, q.box_clone()))
                    .collect(),
            );
            searcher
                .search(&any, &DocSetCollector)?
                .into_iter()
                .collect()
        };
        let Some(query) = vectors.prepare(query) else {
            return Ok(Meaning::default());
        };
        let mut nearest = vectors.nearest(
            &query,
            &|a| {
                fruits.alive(a)
                    && (excluded.is_empty() || !excluded.contains(&a))
                    && (!phrases || fruits.matched(a))
            },
            &|a| fruits.passes(a),
            SEMANTIC_WINDOW,
        );
        // Only documents as near as the model's bar for their languages
        // count (`core::relevance`).
        let bars = self.bars(searcher, lang);
        nearest.filtered.retain(|h| bars.counts(h));
        nearest.all.retain(|h| bars.counts(h));
        if mode == SearchMode::Semantic {
            fruits.clear_matched();
        }
        for h in nearest.filtered.iter().chain(&nearest.all) {
            fruits.add_matched(h.addr);
        }
        Ok(Meaning {
            best: nearest.filtered,
            found: Some((vectors, query)),
            compared: HashMap::new(),
        })
    }
}
