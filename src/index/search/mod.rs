//! Searching, stage by stage: the request (`request`), query understanding
//! (`understand`: words per language view, typos, countries and topics in
//! any of the three languages expanded into the others), execution
//! (`execute`: one pass for hits and disjunctive facet counts, bonuses over
//! the best, documents found by meaning), fusion of words and meaning
//! (`fusion`), the response (`respond`: hits, snippets, facets, labels) and
//! related documents (`related`). [`TantivySearcher::search`] runs them in order.

mod columns;
mod execute;
mod fusion;
mod related;
mod respond;
mod understand;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use tantivy::query::{Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::analysis::korean::is_hangul;
use crate::document::Document;
use crate::engine::Engine;
use crate::index::bits::{self, FacetBits};
use crate::index::build::open_generation;

use crate::index::schema::Fields;
use crate::index::stats::LanguageStats;
use crate::index::{IndexDir, IndexError, IndexMeta};
use crate::ranking::Ranking;

use crate::semantic::search::VectorIndex;

pub use crate::core::request::{
    MAX_LIMIT, MAX_OFFSET, SearchError, SearchMode, SearchRequest, Sort,
};
pub use crate::core::response::{
    Correction, FacetValue, Facets, Health, Hit, Interpreted, SearchResponse, SemanticStatus,
    Stats, Version, facets_from,
};
use crate::index::versions::Versions;
use crate::semantic::passages::Span;
use execute::{Meaning, MeaningAsk, RESCORE_WINDOW};
use fusion::FUSION_WINDOW;
use respond::{Page, Why};
use understand::TextQuery;

/// The index's errors, as a search reports them.
impl From<IndexError> for SearchError {
    fn from(e: IndexError) -> Self {
        SearchError::Engine(e.to_string())
    }
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Engine(format!("search failed: {e}"))
    }
}

/// What the server asks of a search engine: the embedded index
/// ([`TantivySearcher`]) or a SolrCloud collection (the `solr` module). Both
/// answer with the same types, so the API and the page do not know which.
pub trait Backend: Send + Sync {
    fn search(&self, req: &SearchRequest) -> Result<SearchResponse, SearchError>;
    fn document(&self, id: &str) -> Result<Document, SearchError>;
    fn related(&self, id: &str, limit: usize) -> Result<Vec<Hit>, SearchError>;
    /// The other versions of a document's story, best first, and its
    /// translations (none where the engine does not find them).
    fn versions(&self, _id: &str) -> (Vec<Version>, Vec<Version>) {
        (Vec::new(), Vec::new())
    }
    /// The passage of a document nearest a query by meaning (none where
    /// the engine cannot tell).
    fn nearest_passage(&self, _id: &str, _query: &str) -> Option<Span> {
        None
    }
    fn stats(&self, ui: crate::enrich::UiLang) -> Result<Stats, SearchError>;
    /// What is served (a generation, or a collection), how many documents,
    /// and whether search by meaning is on.
    fn health(&self) -> Result<Health, SearchError>;
    /// The analysis and vocabularies queries are understood with.
    fn engine(&self) -> &Engine;
    /// Whether a search waits on another machine (then the server runs it
    /// off its serving threads).
    fn waits_on_network(&self) -> bool {
        false
    }
}

impl Backend for TantivySearcher {
    fn search(&self, req: &SearchRequest) -> Result<SearchResponse, SearchError> {
        TantivySearcher::search(self, req)
    }
    fn document(&self, id: &str) -> Result<Document, SearchError> {
        TantivySearcher::document(self, id)
    }
    fn related(&self, id: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        TantivySearcher::related(self, id, limit)
    }
    fn versions(&self, id: &str) -> (Vec<Version>, Vec<Version>) {
        TantivySearcher::versions(self, id)
    }
    fn nearest_passage(&self, id: &str, query: &str) -> Option<Span> {
        TantivySearcher::nearest_passage(self, id, query)
    }
    fn stats(&self, ui: crate::enrich::UiLang) -> Result<Stats, SearchError> {
        TantivySearcher::stats(self, ui)
    }
    fn health(&self) -> Result<Health, SearchError> {
        let meta = self.meta();
        Ok(Health {
            generation: meta.generation.clone(),
            documents: meta.documents,
            semantic: self.semantic_status(),
        })
    }
    fn engine(&self) -> &Engine {
        TantivySearcher::engine(self)
    }
}

/// The embedded engine's search: an open index generation (tantivy's
/// index, the passage vectors, the facet bitsets), ready to answer; one
/// [`Backend`], beside Solr's (`SolrSearcher`).
pub struct TantivySearcher {
    engine: Engine,
    reader: IndexReader,
    fields: Fields,
    meta: IndexMeta,
    /// Each segment's facet values as bitsets.
    facet_bits: Arc<FacetBits>,
    /// BM25 statistics per language.
    stats: LanguageStats,
    /// The generation's passage vectors, when the engine has the model
    /// they were made with; else why search is lexical only.
    vectors: Result<VectorIndex, String>,
    /// The generation's stories told by several documents.
    versions: Versions,
}

/// The generation's passage vectors, when the engine embeds with the model
/// they were made with; else why not (said in stats and health).
fn open_vectors(
    engine: &Engine,
    generation: &std::path::Path,
    searcher: &tantivy::Searcher,
) -> Result<VectorIndex, String> {
    let Some(semantic) = &engine.semantic else {
        return Err("no embedding model is installed (run `egovkb model install`)".into());
    };
    match VectorIndex::open(generation, searcher) {
        Ok(Some(v)) if v.model == semantic.vectors_name() => Ok(v),
        Ok(Some(v)) => Err(format!(
            "the index's vectors were made with {}, not {}: run `egovkb index`",
            v.model,
            semantic.vectors_name()
        )),
        Ok(None) => Err("the index has no passage vectors yet: run `egovkb index`".into()),
        Err(e) => {
            tracing::warn!(error = %e, "passage vectors not loaded; searching by words only");
            Err(e.to_string())
        }
    }
}

/// A term of Hangul text (a Korean word or a Hangul bigram).
fn hangul_word(term: &str) -> bool {
    term.chars().any(is_hangul)
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

impl TantivySearcher {
    /// Open the generation in service. Refuses an index built with other
    /// analysis, naming the command that fixes it.
    pub fn open(dir: &IndexDir, engine: Engine) -> Result<Self, IndexError> {
        let (generation, mut meta) = dir.in_service(&crate::index::fingerprint(&engine))?;
        // The directory in service is the generation served, whatever its
        // record says (a generation copied under another name keeps the
        // record of the one it was copied from).
        meta.generation.clone_from(&generation);
        let path = dir.path_of(&generation);
        let (index, fields) = open_generation(&path)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(super::tv(&path))?;
        let facet_bits = Arc::new(FacetBits::build(&reader.searcher()).map_err(super::tv(&path))?);
        let language_fields: Vec<Field> = [fields.ko, fields.es, fields.en, fields.other]
            .iter()
            .flat_map(|v| [v.title, v.body])
            .collect();
        let stats = LanguageStats::count(
            &reader.searcher(),
            &language_fields,
            fields.ko.body,
            fields.all.body,
        )
        .map_err(super::tv(&path))?;
        let vectors = open_vectors(&engine, &path, &reader.searcher());
        let versions = Versions::open(&path, &reader.searcher(), fields.id)?;
        Ok(Self {
            engine,
            reader,
            fields,
            meta,
            facet_bits,
            stats,
            vectors,
            versions,
        })
    }

    pub fn meta(&self) -> &IndexMeta {
        &self.meta
    }

    /// The analyzers, vocabularies and weights this index is searched with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn ranking(&self) -> &Ranking {
        &self.engine.ranking
    }

    /// Run a search.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse, SearchError> {
        let started = Instant::now();
        req.check()?;
        let searcher = self.reader.searcher();
        let text = self.text_query(&searcher, &req.q, false);
        let phrases = !text.must.is_empty();
        let response = self.run(req, &searcher, text, started)?;
        if response.total > 0 || !phrases {
            return Ok(response);
        }
        // Nothing has the quoted phrases as written (a question quoting a
        // title in another wording): search their words, and say so.
        self.run(
            req,
            &searcher,
            self.text_query(&searcher, &req.q, true),
            started,
        )
    }

    /// Run one search of `text` (`req`'s text as `text_query` made it):
    /// one pass over what the words match, the documents found by meaning
    /// joined to it, the bonuses over the best, the fusion, the page.
    fn run(
        &self,
        req: &SearchRequest,
        searcher: &tantivy::Searcher,
        mut text: TextQuery,
        started: Instant,
    ) -> Result<SearchResponse, SearchError> {
        // The model's vector of the query, when the search uses meaning.
        let query_vector = self.query_vector(searcher, req, &text);
        let exclusions: Vec<Box<dyn Query>> = text.must_not.iter().map(|q| q.box_clone()).collect();
        let phrases = !text.must.is_empty();
        let plan = self.plan(searcher, &mut text)?;
        let (order, mode) = order_and_mode(req, &plan, query_vector.is_some());
        let rescore = order == bits::Order::Score && !text.rescoring.is_empty();
        let (keep, rescored) = windows(req, rescore, mode, self.versions.hidden());
        let in_time = || match req.time_limit {
            Some(limit) if started.elapsed() > limit => Err(SearchError::TooSlow(limit)),
            _ => Ok(()),
        };
        in_time()?;
        // One pass over what the text matches (everything, to browse):
        // hits that pass the filters, and the bitsets that every count,
        // disjunctive facets included, is computed from.
        let filters = &req.filters;
        let mut fruits = bits::run(searcher, &plan, &self.facet_bits, filters, order, keep)?;
        in_time()?;
        let mut found = match (&query_vector, &self.vectors) {
            (Some(v), Ok(vectors)) => self.by_meaning(
                searcher,
                vectors,
                v,
                &MeaningAsk {
                    exclusions: &exclusions,
                    phrases,
                    mode,
                    lang: text.lang.as_ref(),
                },
                &mut fruits,
            )?,
            _ => Meaning::default(),
        };
        in_time()?;
        let bits::Outcome {
            mut ranked,
            total,
            counts,
        } = bits::outcome(fruits, filters, order, &self.versions);
        if rescore {
            let window = rescored.min(ranked.len());
            Self::rescore(searcher, &mut ranked[..window], &text.rescoring, &in_time)?;
        }
        let lexical: HashSet<DocAddress> = ranked.iter().map(|(_, a)| *a).collect();
        if mode != SearchMode::Lexical {
            ranked = self.with_meaning(searcher, ranked, &mut found, (mode, order), &text)?;
        }
        let similarity = |a: DocAddress| found.hit(a).map(|h| h.similarity);
        let page = Page {
            ranked: self.one_per_story(ranked),
            passages: found.best.iter().map(|h| (h.addr, h.span)).collect(),
            lexical: &lexical,
            mode,
            // Nothing is asked of a browse: no hit says why.
            why: plan
                .scores()
                .then(|| self.why(searcher, &text, &similarity)),
        };
        let hits = self.page_hits(searcher, page, req, &text.terms, &in_time)?;
        Ok(SearchResponse {
            query: req.q.clone(),
            interpreted: Interpreted {
                mode,
                ..text.interpreted
            },
            total,
            took_ms: started.elapsed().as_millis() as u64,
            hits,
            facets: self.facets(&counts, req),
        })
    }

    /// What tells why each hit of a search of `text` is there.
    fn why<'a>(
        &'a self,
        searcher: &tantivy::Searcher,
        text: &'a TextQuery,
        similarity: &'a dyn Fn(DocAddress) -> Option<f32>,
    ) -> Why<'a> {
        Why {
            words: &text.words,
            terms: &text.words_terms,
            similarity,
            bars: self.bars(searcher, text.lang.as_ref()),
        }
    }

    fn stored(&self, searcher: &tantivy::Searcher, addr: DocAddress) -> Option<Document> {
        let t: TantivyDocument = searcher.doc(addr).ok()?;
        let json = t.get_first(self.fields.doc).and_then(|v| v.as_str())?;
        serde_json::from_str(json).ok()
    }
}

/// How a search orders its hits (by relevance, or by date when asked or
/// when nothing scores: browsing) and ranks them (by words only without
/// a query vector).
fn order_and_mode(
    req: &SearchRequest,
    plan: &crate::index::matching::Plan,
    vector: bool,
) -> (bits::Order, SearchMode) {
    let order = match req.sort {
        Some(Sort::Date) => bits::Order::Day,
        None if !plan.scores() => bits::Order::Day,
        _ => bits::Order::Score,
    };
    let mode = match vector {
        true => req.mode.unwrap_or(SearchMode::Hybrid),
        false => SearchMode::Lexical,
    };
    (order, mode)
}

/// How many of the first pass's best to keep (the page, the bonuses'
/// window, the fusion's, and room for `hidden` other versions of the
/// stories in them), and how many of them get the bonuses.
fn windows(req: &SearchRequest, rescore: bool, mode: SearchMode, hidden: usize) -> (usize, usize) {
    let page_end = req.offset + req.limit;
    let page_end = page_end + hidden.min(page_end);
    let mut keep = if rescore {
        page_end.max(RESCORE_WINDOW)
    } else {
        page_end
    };
    if mode == SearchMode::Hybrid {
        keep = keep.max(FUSION_WINDOW);
    }
    // Only the first-pass top RESCORE_WINDOW get the bonuses, whatever
    // the page: bonuses only raise a score, so they stay above the rest,
    // and every page is cut from one ranking.
    (keep, keep.min(RESCORE_WINDOW))
}
