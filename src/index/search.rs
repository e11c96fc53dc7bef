//! Searching: query understanding (countries and topics in any of the three
//! languages, expanded into the others), ranking across the language fields,
//! filters, disjunctive facet counts, snippets, and related documents.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, MoreLikeThisQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::query::{EnableScoring, Scorer};
use tantivy::schema::{Field, IndexRecordOption, OwnedValue, Value};
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use super::bits::{self, Counts, FacetBits};
use super::build::open_generation;
use super::matching::Plan;
use super::query::{self, Clause, MAX_QUERY_CHARS};
use super::ranking::Ranking;
use super::schema::{Fields, TextView};
use super::snippet::{self, escape_html};
use super::stats::LanguageStats;
use super::typos;
use super::{IndexDir, IndexError, IndexMeta};
use crate::analysis::korean::is_hangul;
use crate::analysis::{Analyzer, AnalyzerName, Mode};
use crate::document::{DocType, Document, Lang};
use crate::engine::Engine;
use crate::enrich::{UiLang, searchable_text};
use crate::semantic::passages::Span;
use crate::semantic::search::{QueryVector, SemanticHit, VectorIndex};

/// The proximity bonus reorders this many best candidates by the other
/// evidence (positions are dear to read for every match). Retrieval
/// quality is the same on every benchmark set with 30, 100 or 300
/// (BENCHMARKS.md): the bonus is small beside the terms' own scores.
const RESCORE_WINDOW: usize = 30;
/// Two query words further apart in the query than adjacent count as near
/// each other in a document within this many positions.
const PAIR_SLOP: u32 = 8;
/// At most this many proximity pairs per view and query.
const MAX_NEAR: usize = 256;
/// Names of one country or topic added to a query, per language.
const MAX_EXPANSIONS_PER_LANGUAGE: usize = 3;
/// Lexical hits fused with the semantic ones.
const FUSION_WINDOW: usize = 100;
/// Fused hits whose passages are compared with the query's word roots.
const COGNATE_WINDOW: usize = 30;
/// Letters of a word root compared (a stem's first five).
const COGNATE_PREFIX: usize = 5;
/// Documents found by meaning, per search.
const SEMANTIC_WINDOW: usize = 100;
/// Characters of a passage shown as the snippet of a hit found by meaning.
const PASSAGE_SNIPPET_CHARS: usize = 240;
/// Bytes of a query given to the model (a longer one is cut at a
/// character boundary).
const MAX_QUERY_BYTES: usize = 2_000;
/// Most hits a page may ask for.
pub const MAX_LIMIT: usize = 100;
/// Deepest offset: paging further is not searching.
pub const MAX_OFFSET: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The request is wrong; the message says how (HTTP 400).
    #[error("{0}")]
    BadRequest(String),
    #[error("no document with id `{0}`")]
    NotFound(String),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("search failed: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The search went past its time limit (HTTP 503).
    #[error("the search took longer than {} s; try a simpler one", .0.as_secs_f32())]
    TooSlow(std::time::Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Relevance,
    Date,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "relevance" => Some(Self::Relevance),
            "date" => Some(Self::Date),
            _ => None,
        }
    }
}

/// How a search ranks: by its words, by meaning, or both fused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Words and meaning, the two rankings fused (the default with a model).
    Hybrid,
    /// Words only (the default without a model).
    #[default]
    Lexical,
    /// Meaning only: the documents whose passages are nearest the query.
    Semantic,
}

impl SearchMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hybrid" => Some(Self::Hybrid),
            "lexical" => Some(Self::Lexical),
            "semantic" => Some(Self::Semantic),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hybrid => "hybrid",
            Self::Lexical => "lexical",
            Self::Semantic => "semantic",
        }
    }
}

/// A search: text and filters (several values of a filter are OR-ed,
/// different filters AND-ed).
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub q: String,
    pub countries: Vec<String>,
    pub topics: Vec<String>,
    /// Inclusive year range.
    pub years: Option<(u32, u32)>,
    pub types: Vec<String>,
    pub langs: Vec<String>,
    pub events: Vec<String>,
    /// `None`: by relevance, or by date when there is no text.
    pub sort: Option<Sort>,
    /// `None`: hybrid when the index has passage vectors, else lexical.
    pub mode: Option<SearchMode>,
    pub limit: usize,
    pub offset: usize,
    pub ui: UiLang,
    /// Stop with [`SearchError::TooSlow`] once the search has taken this
    /// long (checked between its steps and its hits); `None`: no limit.
    pub time_limit: Option<std::time::Duration>,
}

impl Default for SearchRequest {
    fn default() -> Self {
        Self {
            q: String::new(),
            countries: Vec::new(),
            topics: Vec::new(),
            years: None,
            types: Vec::new(),
            langs: Vec::new(),
            events: Vec::new(),
            sort: None,
            mode: None,
            limit: 10,
            offset: 0,
            ui: UiLang::En,
            time_limit: None,
        }
    }
}

/// Parse `2018` or `2015..2019` (either end may be left open: `2015..`).
pub fn parse_years(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("year `{s}`: give a year (2018) or a range (2015..2019)");
    let year = |y: &str| -> Result<u32, String> {
        let y: u32 = y.trim().parse().map_err(|_| bad())?;
        i32::try_from(y)
            .is_ok_and(crate::enrich::dates::plausible)
            .then_some(y)
            .ok_or_else(bad)
    };
    match s.split_once("..") {
        Some((a, b)) => {
            let a = if a.trim().is_empty() { 1900 } else { year(a)? };
            let b = if b.trim().is_empty() { 2100 } else { year(b)? };
            if a > b {
                return Err(format!("year range `{s}` ends before it starts"));
            }
            Ok((a, b))
        }
        None => {
            let y = year(s)?;
            Ok((y, y))
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Default, utoipa::ToSchema)]
pub struct Interpreted {
    /// How the search ranked (a search without words, or without passage
    /// vectors to search, is lexical whatever was asked).
    pub mode: SearchMode,
    pub countries: Vec<String>,
    pub topics: Vec<String>,
    /// Quoted phrases that no document has as written: the search found
    /// nothing with them, so their words were searched instead (absent
    /// when every phrase was found).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relaxed: Vec<String>,
    /// Query words that no document has, searched as the indexed word
    /// closest to them (absent when there were none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub corrected: Vec<Correction>,
}

/// A query word searched as another.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Correction {
    /// The word as the query has it.
    pub word: String,
    /// The word it was searched as, as documents have it (lower case,
    /// without accents but ñ's).
    pub term: String,
}

/// One result.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Hit {
    pub id: String,
    pub title: String,
    pub url: String,
    pub source: String,
    pub doc_type: String,
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    pub countries: Vec<String>,
    pub topics: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub score: f32,
    pub snippet: String,
    /// The page or slide (from 1) where the best match lies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<usize>,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct FacetValue {
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default, utoipa::ToSchema)]
pub struct Facets {
    pub country: Vec<FacetValue>,
    pub topic: Vec<FacetValue>,
    pub year: Vec<FacetValue>,
    pub doc_type: Vec<FacetValue>,
    pub lang: Vec<FacetValue>,
    pub event: Vec<FacetValue>,
}

impl Facets {
    /// Each facet with its name, in display order.
    pub fn groups(&self) -> [(&'static str, &[FacetValue]); 6] {
        [
            ("country", &self.country),
            ("topic", &self.topic),
            ("year", &self.year),
            ("type", &self.doc_type),
            ("lang", &self.lang),
            ("event", &self.event),
        ]
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct SearchResponse {
    pub query: String,
    pub interpreted: Interpreted,
    pub total: usize,
    pub took_ms: u64,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Stats {
    pub documents: u64,
    pub generation: String,
    pub updated: String,
    pub analysis: String,
    /// Search by meaning: whether it is on, and why not.
    pub semantic: SemanticStatus,
    pub facets: Facets,
}

/// Whether searches can rank by meaning.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct SemanticStatus {
    pub available: bool,
    /// The model whose vectors are searched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Passages with a vector.
    pub passages: usize,
    /// Why search is lexical only (absent when `available`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One of three labels, by interface language.
fn by_ui(ui: UiLang, (en, es, ko): (&str, &str, &str)) -> String {
    match ui {
        UiLang::En => en,
        UiLang::Es => es,
        UiLang::Ko => ko,
    }
    .to_string()
}

pub fn doc_type_label(value: &str, ui: UiLang) -> String {
    by_ui(
        ui,
        match value {
            "notice" => ("Notice", "Aviso", "공지"),
            "press_release" => ("Press release", "Comunicado de prensa", "보도자료"),
            "presentation" => ("Presentation", "Presentación", "발표자료"),
            "report" => ("Report", "Informe", "보고서"),
            "course_material" => ("Course material", "Material de curso", "교육자료"),
            "other" => ("Other", "Otro", "기타"),
            v => (v, v, v),
        },
    )
}

fn lang_label(value: &str, ui: UiLang) -> String {
    by_ui(
        ui,
        match value {
            "ko" => ("Korean", "Coreano", "한국어"),
            "es" => ("Spanish", "Español", "스페인어"),
            "en" => ("English", "Inglés", "영어"),
            "pt" => ("Portuguese", "Portugués", "포르투갈어"),
            "fr" => ("French", "Francés", "프랑스어"),
            v => (v, v, v),
        },
    )
}

/// The text query and what the snippets should mark.
struct TextQuery {
    /// Weighted terms, any of which matches: one union, scored term at a
    /// time (`matching`).
    weighted: Vec<(Term, f32)>,
    /// Quoted phrases: a match has each of them.
    must: Vec<Box<dyn Query>>,
    /// Excluded words and phrases.
    must_not: Vec<Box<dyn Query>>,
    interpreted: Interpreted,
    /// Query terms per analyzer, for snippets.
    terms: HashMap<AnalyzerName, HashSet<String>>,
    /// Bonuses applied to the best candidates only (`rescore`).
    rescoring: Vec<Box<dyn Query>>,
    /// The query's words and phrases as written (no exclusions), for the
    /// model.
    meaning: String,
    /// The query's language, when it can be told.
    lang: Option<Lang>,
}

/// What a clause's text gives in one view: its analysed words, and for a
/// quoted phrase the query that must match.
struct ViewTerms {
    words: Vec<String>,
    phrase: Option<Box<dyn Query>>,
}

/// A query being built: weighted terms, scored together as one flat union,
/// and second-phase bonuses.
#[derive(Default)]
struct QueryParts {
    terms: Vec<(Term, f32)>,
    rescoring: Vec<Box<dyn Query>>,
}

impl QueryParts {
    /// Add a term; a term added twice counts with both weights (BM25 is
    /// linear in the weight).
    fn add(&mut self, term: Term, weight: f32) {
        match self.terms.iter_mut().find(|(t, _)| *t == term) {
            Some((_, w)) => *w += weight,
            None => self.terms.push((term, weight)),
        }
    }
}

/// An open index generation, ready to search.
pub struct Searcher {
    engine: Engine,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    meta: IndexMeta,
    /// Labels of events, from `<corpus>/events.toml` when there is one.
    events: HashMap<String, [String; 3]>,
    /// Each segment's facet values as bitsets.
    facet_bits: Arc<FacetBits>,
    /// BM25 statistics per language.
    stats: LanguageStats,
    /// The generation's passage vectors, when the engine has the model
    /// they were made with; else why search is lexical only.
    vectors: Result<VectorIndex, String>,
}

impl Searcher {
    /// Open the generation in service. Refuses an index built with other
    /// analysis, naming the command that fixes it.
    pub fn open(
        dir: &IndexDir,
        engine: Engine,
        corpus: Option<&std::path::Path>,
    ) -> Result<Self, IndexError> {
        let (generation, mut meta) = dir.in_service(&engine.analysis_fingerprint())?;
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
        Ok(Self {
            engine,
            index,
            reader,
            fields,
            meta,
            events: corpus.map(load_event_labels).unwrap_or_default(),
            facet_bits,
            stats,
            vectors,
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

    pub fn index(&self) -> &Index {
        &self.index
    }

    fn views_for(&self, text: &str) -> Vec<TextView> {
        let f = &self.fields;
        let mut views = vec![f.all];
        if text.chars().any(is_hangul) {
            views.push(f.ko);
        }
        if text.chars().any(|c| c.is_alphanumeric() && !is_hangul(c)) {
            views.extend([f.es, f.en, f.other]);
            if !views.iter().any(|v| v.title == f.ko.title) {
                // Korean documents keep Latin words (KONEPS) as they are.
                views.push(f.ko);
            }
        }
        views
    }

    /// How much a view counts for a query in `lang`: fully in the query's
    /// language, a little in the others (BM25 scores of fields with other
    /// statistics are not comparable; other languages are reached through
    /// query understanding instead). Without a language, all count alike.
    fn view_weight(&self, view: &TextView, lang: Option<&Lang>) -> f32 {
        if view.title == self.fields.all.title {
            return self.ranking().all_languages;
        }
        let Some(lang) = lang else { return 1.0 };
        let own = match lang.as_str() {
            "ko" => self.fields.ko.title,
            "es" => self.fields.es.title,
            "en" => self.fields.en.title,
            _ => self.fields.other.title,
        };
        if view.title == own {
            1.0
        } else {
            self.ranking().other_language
        }
    }

    fn analyzer(&self, name: AnalyzerName) -> Option<std::sync::Arc<dyn Analyzer>> {
        self.engine.analyzers.get(name).ok()
    }

    /// What `text` contributes in one view. Words add weighted terms (title
    /// and body; in another language than the query's, the body only, which
    /// holds the title too) and proximity bonuses to `parts`; a phrase
    /// gives a query that must match. Returns the analysed words and that
    /// phrase query; `None` when the text gives no terms in this view.
    fn view_terms(
        &self,
        view: &TextView,
        text: &str,
        phrase: bool,
        weight: f32,
        lang: Option<&Lang>,
        parts: &mut QueryParts,
    ) -> Option<ViewTerms> {
        let analyzer = self.analyzer(view.analyzer)?;
        let terms = analyzer.analyze(text, Mode::Query);
        if terms.is_empty() {
            return None;
        }
        let own_language = weight >= 1.0;
        let all_view = view.title == self.fields.all.title;
        let words: Vec<String> = terms.iter().map(|t| t.text.clone()).collect();
        let fields: &[(Field, f32)] = if own_language {
            &[(view.title, self.ranking().title_boost), (view.body, 1.0)]
        } else {
            &[(view.body, 1.0)]
        };
        if phrase {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for &(field, field_boost) in fields {
                let first = terms[0].position;
                let mut seen = HashSet::new();
                let with_offsets: Vec<(usize, Term)> = terms
                    .iter()
                    .filter(|t| seen.insert(t.position))
                    .map(|t| (t.position - first, Term::from_field_text(field, &t.text)))
                    .collect();
                let q: Box<dyn Query> = if with_offsets.len() > 1 {
                    Box::new(PhraseQuery::new_with_offset(with_offsets))
                } else {
                    term_query(field, &terms[0].text)
                };
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        self.stats
                            .scoped(field, terms.iter().all(|t| hangul_word(&t.text)), q),
                        weight * field_boost,
                    )),
                ));
            }
            return Some(ViewTerms {
                words,
                phrase: Some(Box::new(BooleanQuery::new(clauses))),
            });
        }
        for &(field, field_boost) in fields {
            for t in &terms {
                parts.add(Term::from_field_text(field, &t.text), weight * field_boost);
            }
        }
        // Proximity bonuses, for the best candidates (a second phase):
        // query words found near each other in the body.
        // - Adjacent words, in the query's own view, and for Korean in the
        //   all-languages view too, where Korean is character bigrams:
        //   adjacent bigrams are the query's word as written (a name with
        //   its particle, 반기문이).
        // - In the own view of a query in a Latin script, every other pair
        //   of its words within 8 positions, at a smaller weight (as the
        //   full-dependence model does).
        // - The own view leaves stop words out, so it cannot see "la
        //   universidad" or "Bank of Korea" as written; the all-languages
        //   view keeps them: its adjacent pairs of a stop word of the
        //   query's language and a content word.
        let ranking = self.ranking();
        // Each pair once, and at most MAX_NEAR of them: a query of hundreds
        // of words must not become hundreds of thousands of phrase queries.
        let mut pairs: std::collections::HashSet<(String, String, u32)> = Default::default();
        let mut near = |a: &crate::analysis::Term, b: &crate::analysis::Term, slop, boost| {
            if pairs.len() >= MAX_NEAR || !pairs.insert((a.text.clone(), b.text.clone(), slop)) {
                return;
            }
            let q = PhraseQuery::new_with_offset_and_slop(
                vec![
                    (0, Term::from_field_text(view.body, &a.text)),
                    (1, Term::from_field_text(view.body, &b.text)),
                ],
                slop,
            );
            let hangul = hangul_word(&a.text) && hangul_word(&b.text);
            parts.rescoring.push(Box::new(BoostQuery::new(
                self.stats.scoped(view.body, hangul, Box::new(q)),
                weight * boost,
            )));
        };
        let hangul = text.chars().any(is_hangul);
        if own_language || (all_view && hangul) {
            // Each term with the first term of the position before (a
            // position may hold several terms).
            let mut prev: Option<&crate::analysis::Term> = None;
            for t in &terms {
                if let Some(p) = prev
                    && t.position == p.position + 1
                {
                    near(p, t, ranking.proximity_slop, ranking.proximity_boost);
                }
                if prev.is_none_or(|p| t.position > p.position) {
                    prev = Some(t);
                }
            }
        }
        if own_language && !hangul && ranking.pair_proximity > 0.0 {
            for (i, a) in terms.iter().enumerate() {
                for b in &terms[i + 1..] {
                    if b.position > a.position + 1 {
                        near(a, b, PAIR_SLOP, ranking.pair_proximity);
                    }
                }
            }
        }
        if all_view
            && !hangul
            && ranking.stopword_proximity > 0.0
            && let Some(own) = lang.and_then(|l| self.language_analyzer(l))
        {
            let stop = |t: &crate::analysis::Term| {
                own.analyze(&text[t.start..t.end], Mode::Query).is_empty()
            };
            for pair in terms.windows(2) {
                if let [a, b] = pair
                    && b.position == a.position + 1
                    && stop(a) != stop(b)
                {
                    near(a, b, ranking.proximity_slop, ranking.stopword_proximity);
                }
            }
        }
        Some(ViewTerms {
            words,
            phrase: None,
        })
    }

    /// The analyzer of a query language with stop words (Spanish, English).
    fn language_analyzer(&self, lang: &Lang) -> Option<std::sync::Arc<dyn Analyzer>> {
        match lang.as_str() {
            "es" => self.analyzer(AnalyzerName::Spanish),
            "en" => self.analyzer(AnalyzerName::English),
            _ => None,
        }
    }

    /// `text` with each word that no document has replaced by the word it
    /// was most likely meant as (`typos`), the replacements added to
    /// `corrected`. Words are looked up as the all-languages view has them
    /// (folded, not stemmed), which holds every document's words; a few
    /// words per query at most are looked up.
    fn correct<'t>(
        &self,
        searcher: &tantivy::Searcher,
        text: &'t str,
        attempts: &mut usize,
        corrected: &mut Vec<Correction>,
    ) -> std::borrow::Cow<'t, str> {
        let Some(analyzer) = self.analyzer(self.fields.all.analyzer) else {
            return text.into();
        };
        let field = self.fields.all.body;
        let mut out = String::new();
        let mut copied = 0;
        // Where the text names a country or topic (found when a word is
        // unknown): "Brasil" or "Dominican Republic" is meant as written,
        // even when no document has the word.
        let mut names: Option<Vec<(usize, usize)>> = None;
        for t in analyzer.analyze(text, Mode::Query) {
            if *attempts >= typos::MAX_CORRECTIONS || typos::allowed(&t.text) == 0 {
                continue;
            }
            let known =
                !typos::unknown(searcher, &Term::from_field_text(field, &t.text)).unwrap_or(false);
            if known {
                continue;
            }
            let names = names.get_or_insert_with(|| {
                self.names_in(text)
                    .into_iter()
                    .map(|(_, _, f)| (f.start, f.end))
                    .collect()
            });
            if names.iter().any(|&(a, b)| t.start < b && a < t.end) {
                continue;
            }
            // Counted found or not: the search's cost stays bounded.
            *attempts += 1;
            if let Ok(Some(found)) = typos::correct(searcher, field, &t.text) {
                out.push_str(&text[copied..t.start]);
                out.push_str(&found);
                copied = t.end;
                corrected.push(Correction {
                    word: text[t.start..t.end].to_string(),
                    term: found,
                });
            }
        }
        if copied == 0 {
            return text.into();
        }
        out.push_str(&text[copied..]);
        out.into()
    }

    /// When an exclusion is the name of a country or topic (`-Paraguay`),
    /// its one-word names in every language, excluded too: 파라과이 and
    /// paraguayo go with Paraguay.
    fn names_of_excluded(&self, text: &str) -> Vec<Box<dyn Query>> {
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        for (vocabulary, key, f) in self.names_in(text) {
            let before = text.get(..f.start).is_some_and(|t| t.trim().is_empty());
            let after = text.get(f.end..).is_some_and(|t| t.trim().is_empty());
            if !(before && after) {
                continue;
            }
            for (analyzer, words) in vocabulary.phrases(key) {
                if let [word] = words.as_slice() {
                    out.push(term_query(self.view_of(*analyzer).body, word));
                }
            }
        }
        out
    }

    /// The countries and topics `text` names, in any language: the
    /// vocabulary, the entry's key and where in `text` it is named.
    fn names_in<'a>(
        &'a self,
        text: &str,
    ) -> Vec<(
        &'a crate::enrich::Vocabulary,
        &'a str,
        crate::enrich::matcher::Found,
    )> {
        let en = &self.engine.enricher;
        let analysed = crate::enrich::matcher::analyse(&self.engine.analyzers, text);
        [&en.countries, &en.topics]
            .into_iter()
            .flat_map(|v| {
                v.find_in_query(&analysed)
                    .into_iter()
                    .map(move |(k, f)| (v, k, f))
            })
            .collect()
    }

    /// The view a language's analyzer writes.
    fn view_of(&self, analyzer: AnalyzerName) -> TextView {
        match analyzer {
            AnalyzerName::Korean => self.fields.ko,
            AnalyzerName::Spanish => self.fields.es,
            AnalyzerName::English => self.fields.en,
            AnalyzerName::Other => self.fields.other,
        }
    }

    /// The text part of a query: words ranked, phrases required (or, when
    /// `relax`, searched as words), exclusions removed, and countries and
    /// topics recognised and expanded.
    fn text_query(&self, searcher: &tantivy::Searcher, q: &str, relax: bool) -> TextQuery {
        let mut parts = QueryParts::default();
        let (mut attempts, mut corrected) = (0, Vec::new());
        let mut must: Vec<Box<dyn Query>> = Vec::new();
        let mut must_not: Vec<Box<dyn Query>> = Vec::new();
        let mut terms: HashMap<AnalyzerName, HashSet<String>> = HashMap::new();
        let mut positive_text = String::new();
        // The analysed words of the query per analyzer, to skip expansions
        // that would only repeat them.
        let mut searched: Vec<(AnalyzerName, Vec<String>)> = Vec::new();
        let query_lang = crate::enrich::lang::detect_query(q);
        let mut relaxed = Vec::new();
        let mut meaning = String::new();
        for clause in query::parse(q) {
            if let Clause::Words(t) | Clause::Phrase(t) = &clause {
                if !meaning.is_empty() {
                    meaning.push(' ');
                }
                meaning.push_str(t);
            }
            let clause = match clause {
                Clause::Phrase(p) if relax => {
                    relaxed.push(p.clone());
                    Clause::Words(p)
                }
                c => c,
            };
            let (text, phrase) = match &clause {
                Clause::Words(w) => (
                    self.correct(searcher, w, &mut attempts, &mut corrected),
                    false,
                ),
                Clause::Phrase(p) | Clause::Exclude(p) => (p.into(), true),
            };
            let text = text.as_ref();
            let mut found = false;
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for view in self.views_for(text) {
                let weight = self.view_weight(&view, query_lang.as_ref());
                let Some(ViewTerms {
                    words,
                    phrase: phrase_query,
                }) = self.view_terms(&view, text, phrase, weight, query_lang.as_ref(), &mut parts)
                else {
                    continue;
                };
                found = true;
                if !matches!(clause, Clause::Exclude(_)) {
                    searched.push((view.analyzer, words.clone()));
                    terms.entry(view.analyzer).or_default().extend(words);
                }
                if let Some(q) = phrase_query {
                    alternatives.push((Occur::Should, q));
                }
            }
            if !found {
                continue;
            }
            match clause {
                Clause::Words(_) => {}
                Clause::Phrase(_) => must.push(Box::new(BooleanQuery::new(alternatives))),
                Clause::Exclude(_) => {
                    must_not.push(Box::new(BooleanQuery::new(alternatives)));
                    must_not.extend(self.names_of_excluded(text));
                    continue;
                }
            }
            positive_text.push_str(text);
            positive_text.push('\n');
        }

        // Query understanding: countries and topics named in any language.
        let enricher = &self.engine.enricher;
        let mut interpreted = Interpreted {
            relaxed,
            ..Interpreted::default()
        };
        let analysed = crate::enrich::matcher::analyse(&self.engine.analyzers, &positive_text);
        for (code, _) in enricher.countries.find_in_query(&analysed) {
            if !interpreted.countries.iter().any(|c| c == code) {
                interpreted.countries.push(code.to_string());
            }
        }
        for (slug, _) in enricher.topics.find_in_query(&analysed) {
            if !interpreted.topics.iter().any(|t| t == slug) {
                interpreted.topics.push(slug.to_string());
            }
        }
        // A document tagged with every country and topic the query names is
        // what a researcher asks for, whatever its language.
        if !interpreted.countries.is_empty() && !interpreted.topics.is_empty() {
            let any = |field: Field, keys: &[String]| -> Box<dyn Query> {
                Box::new(BooleanQuery::new(
                    keys.iter()
                        .map(|k| (Occur::Should, term_query(field, k)))
                        .collect(),
                ))
            };
            let both = BooleanQuery::new(vec![
                (
                    Occur::Must,
                    any(self.fields.countries, &interpreted.countries),
                ),
                (Occur::Must, any(self.fields.topics, &interpreted.topics)),
            ]);
            parts.rescoring.push(Box::new(BoostQuery::new(
                Box::new(both),
                self.ranking().all_concepts,
            )));
        }
        let expansions = interpreted
            .countries
            .iter()
            .map(|c| {
                (
                    self.fields.countries,
                    c,
                    self.ranking().country,
                    enricher.countries.phrases(c),
                )
            })
            .chain(interpreted.topics.iter().map(|t| {
                (
                    self.fields.topics,
                    t,
                    self.ranking().topic,
                    enricher.topics.phrases(t),
                )
            }));
        for (field, key, boost, phrases) in expansions {
            parts.add(Term::from_field_text(field, key), boost);
            let mut seen = HashSet::new();
            let mut per_analyzer: HashMap<AnalyzerName, usize> = HashMap::new();
            for (analyzer, words) in phrases {
                // The first names of each language are the main ones.
                let n = per_analyzer.entry(*analyzer).or_default();
                *n += 1;
                if *n > MAX_EXPANSIONS_PER_LANGUAGE {
                    continue;
                }
                // Only one-word names are searched: a document that uses a
                // longer name is tagged with it already (and phrase scorers
                // are dear). Its words are still marked in snippets.
                let [word] = words.as_slice() else {
                    terms
                        .entry(*analyzer)
                        .or_default()
                        .extend(words.iter().cloned());
                    continue;
                };
                let repeats_query = searched
                    .iter()
                    .any(|(a, q)| a == analyzer && q.contains(word));
                if repeats_query || !seen.insert((*analyzer, word.clone())) {
                    continue;
                }
                let view = self.view_of(*analyzer);
                let weight =
                    self.ranking().expansion * self.view_weight(&view, query_lang.as_ref());
                parts.add(Term::from_field_text(view.body, word), weight);
                terms.entry(*analyzer).or_default().insert(word.clone());
            }
        }

        interpreted.corrected = corrected;
        TextQuery {
            weighted: parts.terms,
            must,
            must_not,
            interpreted,
            terms,
            rescoring: parts.rescoring,
            meaning,
            lang: query_lang,
        }
    }

    /// The request's filters, facet by facet, for the bitset pass.
    fn bit_filters(&self, req: &SearchRequest) -> bits::Filters {
        let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        bits::Filters {
            values: [
                some(&req.countries),
                some(&req.topics),
                None,
                some(&req.types),
                some(&req.langs),
                some(&req.events),
            ],
            years: req.years,
        }
    }

    fn check(req: &SearchRequest) -> Result<(), SearchError> {
        if req.q.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::BadRequest(format!(
                "the query is longer than {MAX_QUERY_CHARS} characters"
            )));
        }
        if req.limit == 0 || req.limit > MAX_LIMIT {
            return Err(SearchError::BadRequest(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        if req.offset > MAX_OFFSET {
            return Err(SearchError::BadRequest(format!(
                "offset must be at most {MAX_OFFSET}"
            )));
        }
        let too_many = [
            &req.countries,
            &req.topics,
            &req.types,
            &req.langs,
            &req.events,
        ]
        .iter()
        .any(|v| v.len() > 50 || v.iter().any(|s| s.len() > 200));
        if too_many {
            return Err(SearchError::BadRequest(
                "too many or too long filter values".into(),
            ));
        }
        Ok(())
    }

    /// Add the bonus `extra` gives each of the `ranked` candidates and sort
    /// them again (a second phase over the best of the first).
    fn rescore(
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

    /// Whether searches can rank by meaning, and why not.
    pub fn semantic_status(&self) -> SemanticStatus {
        match &self.vectors {
            Ok(v) => SemanticStatus {
                available: true,
                model: Some(v.model.clone()),
                passages: v.len(),
                reason: None,
            },
            Err(reason) => SemanticStatus {
                available: false,
                model: None,
                passages: 0,
                reason: Some(reason.clone()),
            },
        }
    }

    /// The model's vector of the query's words, when the search ranks by
    /// meaning (asked for or by default) and can: a model, vectors, words.
    fn query_vector(&self, req: &SearchRequest, text: &TextQuery) -> Option<Arc<[f32]>> {
        if req.mode == Some(SearchMode::Lexical) || text.meaning.trim().is_empty() {
            return None;
        }
        self.vectors.as_ref().ok()?;
        let semantic = self.engine.semantic.as_ref()?;
        let mut end = text.meaning.len().min(MAX_QUERY_BYTES);
        while !text.meaning.is_char_boundary(end) {
            end -= 1;
        }
        Some(semantic.embed_query(&text.meaning[..end]))
    }

    /// The documents nearest the query by meaning: the best
    /// [`SEMANTIC_WINDOW`] that pass the filters (returned, to be ranked)
    /// and the best of all (for the facet counts), added to the matched
    /// documents. Exclusions hold, and quoted phrases stay required.
    fn by_meaning<'v>(
        &self,
        searcher: &tantivy::Searcher,
        vectors: &'v VectorIndex,
        query: &[f32],
        (exclusions, phrases): (&[Box<dyn Query>], bool),
        mode: SearchMode,
        fruits: &mut bits::Fruits,
    ) -> Result<Meaning<'v>, SearchError> {
        let excluded: HashSet<DocAddress> = if exclusions.is_empty() {
            HashSet::new()
        } else {
            let any = BooleanQuery::new(
                exclusions
                    .iter()
                    .map(|q| (Occur::Should, q.box_clone()))
                    .collect(),
            );
            searcher.search(&any, &DocSetCollector)?
        };
        let Some(query) = vectors.prepare(query) else {
            return Ok(Meaning::default());
        };
        let nearest = vectors.nearest(
            &query,
            &|a| fruits.alive(a) && !excluded.contains(&a) && (!phrases || fruits.matched(a)),
            &|a| fruits.passes(a),
            SEMANTIC_WINDOW,
        );
        if mode == SearchMode::Semantic {
            fruits.clear_matched();
        }
        for h in nearest.filtered.iter().chain(&nearest.all) {
            fruits.add_matched(h.addr);
        }
        Ok(Meaning {
            best: nearest.filtered,
            found: Some((vectors, query)),
        })
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
    fn fuse(
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
    fn cognates(
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
        let mut keys: Vec<String> = analyzer
            .analyze(query, Mode::Query)
            .into_iter()
            .filter_map(|t| {
                let key: String = t.text.chars().take(COGNATE_PREFIX).collect();
                (key.chars().count() == COGNATE_PREFIX).then_some(key)
            })
            .collect();
        keys.sort();
        keys.dedup();
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
            let words: HashSet<String> = format!("{} {}", doc.title, passage)
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= COGNATE_PREFIX)
                .map(|w| {
                    crate::analysis::latin::fold(&w.to_lowercase())
                        .chars()
                        .take(COGNATE_PREFIX)
                        .collect()
                })
                .collect();
            let shared = keys.iter().filter(|k| words.contains(*k)).count();
            *score += weight * shared as f32 / keys.len() as f32;
        }
        fused[..window].sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    }

    /// The names and numbers of a query (a word with a digit, or one
    /// capitalised after the first), each as the set of documents that have
    /// it in the all-languages view: what a question and a passage in two
    /// languages can share word for word. A name in more than one document
    /// in twenty says little and is left out.
    fn anchors(
        &self,
        searcher: &tantivy::Searcher,
        text: &str,
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
                let query = TermQuery::new(term, IndexRecordOption::Basic);
                out.push(searcher.search(&query, &DocSetCollector)?);
            }
        }
        Ok(out)
    }

    /// The query's words as the all-languages view has them, each with its
    /// idf and the documents that have it: how much of a query a document
    /// covers, weighed by how rare each word is. Words in more than a
    /// quarter of the documents say little and are left out.
    fn coverage(&self, searcher: &tantivy::Searcher, text: &str) -> Result<Coverage, SearchError> {
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
            let query = TermQuery::new(term, IndexRecordOption::Basic);
            words.push((idf, searcher.search(&query, &DocSetCollector)?));
        }
        Ok(Coverage { words })
    }

    /// A hit found by meaning: its best passage as the snippet, and its
    /// page or slide.
    fn passage_hit(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
        score: f32,
        span: Span,
    ) -> Option<Hit> {
        let doc = self.stored(searcher, addr)?;
        let text = span.text(&doc);
        let text = if text.trim().is_empty() {
            doc.body.as_str()
        } else {
            text
        };
        let mut shown: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if shown.chars().count() > PASSAGE_SNIPPET_CHARS {
            shown = shown
                .chars()
                .take(PASSAGE_SNIPPET_CHARS)
                .collect::<String>()
                + " …";
        }
        let page = span.page.map(|p| p as usize);
        Some(to_hit(doc, score, snippet::escape_html(&shown), page))
    }

    /// Run a search.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse, SearchError> {
        let started = Instant::now();
        Self::check(req)?;
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

    /// Run one search of `text` (`req`'s text as `text_query` made it).
    fn run(
        &self,
        req: &SearchRequest,
        searcher: &tantivy::Searcher,
        text: TextQuery,
        started: Instant,
    ) -> Result<SearchResponse, SearchError> {
        // The model's vector of the query, when the search uses meaning.
        let query_vector = self.query_vector(req, &text);
        let exclusions: Vec<Box<dyn Query>> = text.must_not.iter().map(|q| q.box_clone()).collect();
        let phrases = !text.must.is_empty();
        let plan = Plan {
            terms: text
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
                .collect::<tantivy::Result<_>>()?,
            must: text.must,
            must_not: text.must_not,
        };
        let sort = req.sort.unwrap_or(if plan.scores() {
            Sort::Relevance
        } else {
            Sort::Date
        });

        // One pass over what the text matches (everything, to browse):
        // hits that pass the filters, and the bitsets that every count,
        // disjunctive facets included, is computed from.
        let order = match sort {
            Sort::Relevance => bits::Order::Score,
            Sort::Date => bits::Order::Day,
        };
        let rescore = order == bits::Order::Score && !text.rescoring.is_empty();
        let page_end = req.offset + req.limit;
        let filters = self.bit_filters(req);
        let mode = match &query_vector {
            Some(_) => req.mode.unwrap_or(SearchMode::Hybrid),
            None => SearchMode::Lexical,
        };
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
        let rescored = keep.min(RESCORE_WINDOW);
        let in_time = || match req.time_limit {
            Some(limit) if started.elapsed() > limit => Err(SearchError::TooSlow(limit)),
            _ => Ok(()),
        };
        in_time()?;
        let mut fruits = bits::run(searcher, &plan, &self.facet_bits, &filters, order, keep)?;
        in_time()?;
        let found = match (&query_vector, &self.vectors) {
            (Some(v), Ok(vectors)) => self.by_meaning(
                searcher,
                vectors,
                v,
                (&exclusions, phrases),
                mode,
                &mut fruits,
            )?,
            _ => Meaning::default(),
        };
        in_time()?;
        let bits::Outcome {
            mut ranked,
            total,
            counts,
        } = bits::outcome(fruits, &filters, order);
        if rescore {
            let window = rescored.min(ranked.len());
            Self::rescore(searcher, &mut ranked[..window], &text.rescoring, &in_time)?;
        }
        let passages: HashMap<DocAddress, Span> =
            found.best.iter().map(|h| (h.addr, h.span)).collect();
        let lexical: HashSet<DocAddress> = ranked.iter().map(|(_, a)| *a).collect();
        if mode != SearchMode::Lexical {
            ranked = match order {
                bits::Order::Score => {
                    let evidence = (
                        self.anchors(searcher, &text.meaning)?,
                        self.coverage(searcher, &text.meaning)?,
                    );
                    let mut fused = self.fuse(
                        searcher,
                        ranked,
                        &found,
                        (mode, text.lang.as_ref(), &text.interpreted),
                        &evidence,
                    );
                    if mode == SearchMode::Hybrid {
                        self.cognates(
                            searcher,
                            &mut fused,
                            &found,
                            &text.meaning,
                            text.lang.as_ref(),
                        );
                    }
                    fused
                }
                bits::Order::Day => by_day(searcher, ranked, &found.best),
            };
        }
        let facets = self.facets(&counts, req);
        let marks = marks(&text.terms);
        let mut hits = Vec::new();
        for (score, addr) in ranked.into_iter().skip(req.offset).take(req.limit) {
            in_time()?;
            let hit = match passages.get(&addr) {
                Some(span) if mode == SearchMode::Semantic || !lexical.contains(&addr) => {
                    self.passage_hit(searcher, addr, score, *span)
                }
                _ => self.hit(searcher, addr, score, &marks),
            };
            hits.extend(hit);
        }
        Ok(SearchResponse {
            query: req.q.clone(),
            interpreted: Interpreted {
                mode,
                ..text.interpreted
            },
            total,
            took_ms: started.elapsed().as_millis() as u64,
            hits,
            facets,
        })
    }

    fn facets(&self, counts: &Counts, req: &SearchRequest) -> Facets {
        let ui = req.ui;
        let list = |field: &str,
                    selected: &[String],
                    label: &dyn Fn(&str) -> Option<String>|
         -> Vec<FacetValue> {
            let mut values: Vec<FacetValue> = counts
                .get(field)
                .map(|m| {
                    m.iter()
                        .map(|(v, n)| FacetValue {
                            value: v.clone(),
                            label: label(v),
                            count: *n,
                        })
                        .collect()
                })
                .unwrap_or_default();
            // A selected value stays visible even when nothing matches it.
            for s in selected {
                if !values.iter().any(|v| v.value == *s) {
                    values.push(FacetValue {
                        value: s.clone(),
                        label: label(s),
                        count: 0,
                    });
                }
            }
            values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            values
        };
        let en = &self.engine.enricher;
        let mut year = list("year", &[], &|_| None);
        year.sort_by(|a, b| b.value.cmp(&a.value));
        Facets {
            country: list("countries", &req.countries, &|v| {
                Some(en.countries.label(v, ui).to_string())
            }),
            topic: list("topics", &req.topics, &|v| {
                Some(en.topics.label(v, ui).to_string())
            }),
            year,
            doc_type: list("doc_type", &req.types, &|v| Some(doc_type_label(v, ui))),
            lang: list("lang", &req.langs, &|v| Some(lang_label(v, ui))),
            event: list("event", &req.events, &|v| Some(self.event_label(v, ui))),
        }
    }

    /// An event's label in `ui`'s language (its id when it has none).
    pub fn event_label(&self, value: &str, ui: UiLang) -> String {
        match self.events.get(value) {
            Some(labels) => labels[match ui {
                UiLang::En => 0,
                UiLang::Es => 1,
                UiLang::Ko => 2,
            }]
            .clone(),
            None => value.to_string(),
        }
    }

    fn stored(&self, searcher: &tantivy::Searcher, addr: DocAddress) -> Option<Document> {
        let t: TantivyDocument = searcher.doc(addr).ok()?;
        let json = t.get_first(self.fields.doc).and_then(|v| v.as_str())?;
        serde_json::from_str(json).ok()
    }

    fn hit(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
        score: f32,
        marks: &Marks<'_>,
    ) -> Option<Hit> {
        let doc = self.stored(searcher, addr)?;
        let (snippet, page) = self.snippet(&doc, marks);
        Some(to_hit(doc, score, snippet, page))
    }

    /// The snippet of a document, and the page it comes from.
    fn snippet(&self, doc: &Document, marks: &Marks<'_>) -> (String, Option<usize>) {
        let name = AnalyzerName::for_lang(doc.lang.as_ref().map(|l| l.as_str()).unwrap_or(""));
        let Some(analyzer) = self.analyzer(name) else {
            return (escape_html(&doc.title), None);
        };
        let find = |text: &str| {
            let hits = match marks.get(&name) {
                Some(Mark::Literal(l)) => l.find(text),
                Some(Mark::Stems(s)) => s.find(text),
                Some(Mark::Analysed(terms)) => snippet::analysed(text, analyzer.as_ref(), terms),
                None => Vec::new(),
            };
            snippet::best(text, &hits)
        };
        if !doc.pages.is_empty() {
            let best = doc
                .pages
                .iter()
                .enumerate()
                .map(|(i, p)| (i, find(p)))
                .max_by_key(|(i, s)| (s.distinct, s.matches, std::cmp::Reverse(*i)));
            if let Some((i, s)) = best
                && s.distinct > 0
            {
                return (s.html, Some(i + 1));
            }
        }
        // The hit shows its title above the snippet: a text that opens with
        // the title is taken from after it.
        let text = searchable_text(doc);
        let title = doc.title.trim();
        let body = text
            .trim_start()
            .strip_prefix(title)
            .filter(|rest| !title.is_empty() && !rest.trim().is_empty())
            .unwrap_or(&text);
        (find(body.trim_start()).html, None)
    }

    /// A whole document, as enriched for the index.
    pub fn document(&self, id: &str) -> Result<Document, SearchError> {
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &TermQuery::new(
                Term::from_field_text(self.fields.id, id),
                IndexRecordOption::Basic,
            ),
            &TopDocs::with_limit(1).order_by_score(),
        )?;
        top.first()
            .and_then(|(_, addr)| self.stored(&searcher, *addr))
            .ok_or_else(|| SearchError::NotFound(id.to_string()))
    }

    /// Documents like this one: shared topics, countries, event and terms.
    pub fn related(&self, id: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        if limit == 0 || limit > MAX_LIMIT {
            return Err(SearchError::BadRequest(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let doc = self.document(id)?;
        let f = &self.fields;
        let view = match doc.lang.as_ref().map(|l| l.as_str()) {
            Some("ko") => f.ko,
            Some("es") => f.es,
            Some("en") => f.en,
            _ => f.other,
        };
        // The fields read terms analysed beforehand ([`super::terms`]), so
        // the document's text goes to them analysed, as it was indexed.
        let body: String = searchable_text(&doc).chars().take(20_000).collect();
        let encoded = |text: &str| {
            let terms = super::build::analyse(&self.engine, view.analyzer, text);
            OwnedValue::Str(super::terms::encode(terms.iter().map(super::terms::pair)))
        };
        let mlt = MoreLikeThisQuery::builder()
            .with_min_doc_frequency(1)
            .with_max_doc_frequency(u64::MAX)
            .with_min_term_frequency(1)
            .with_max_query_terms(30)
            .with_document_fields(vec![
                (view.title, vec![encoded(&doc.title)]),
                (view.body, vec![encoded(&body)]),
            ]);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, Box::new(mlt))];
        for t in &doc.topics {
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(term_query(f.topics, t), 3.0)),
            ));
        }
        for c in &doc.countries {
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(term_query(f.countries, c), 1.5)),
            ));
        }
        if let Some(e) = &doc.event {
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(term_query(f.event, e), 3.0)),
            ));
        }
        clauses.push((Occur::MustNot, term_query(f.id, &doc.id)));
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(limit).order_by_score(),
        )?;
        Ok(top
            .into_iter()
            .filter_map(|(score, addr)| {
                let d = self.stored(&searcher, addr)?;
                let (snippet, page) = self.snippet(&d, &Marks::new());
                Some(to_hit(d, score, snippet, page))
            })
            .collect())
    }

    /// Counts per facet over the whole index, and what the index is.
    pub fn stats(&self, ui: UiLang) -> Result<Stats, SearchError> {
        let searcher = self.reader.searcher();
        let none = bits::Filters::default();
        let fruits = bits::run(
            &searcher,
            &Plan::default(),
            &self.facet_bits,
            &none,
            bits::Order::Day,
            0,
        )?;
        let counts = bits::outcome(fruits, &none, bits::Order::Day).counts;
        let req = SearchRequest {
            ui,
            ..SearchRequest::default()
        };
        Ok(Stats {
            documents: searcher.num_docs(),
            generation: self.meta.generation.clone(),
            updated: self.meta.updated.clone(),
            analysis: self.meta.analysis.clone(),
            semantic: self.semantic_status(),
            facets: self.facets(&counts, &req),
        })
    }
}

/// The query's rarer words and the documents that have them.
#[derive(Default)]
struct Coverage {
    words: Vec<(f32, HashSet<DocAddress>)>,
}

impl Coverage {
    /// The share of the query's rarer words (by idf) that `addr` has;
    /// 1 when the query has none.
    fn of(&self, addr: DocAddress) -> f32 {
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

/// What a search found by meaning.
#[derive(Default)]
struct Meaning<'v> {
    /// The nearest documents that pass the filters, nearest first.
    best: Vec<SemanticHit>,
    /// The vectors and the query, for any other document's best passage.
    found: Option<(&'v VectorIndex, QueryVector)>,
}

impl Meaning<'_> {
    /// A document's best passage for the query, if it has vectors.
    fn hit(&self, addr: DocAddress) -> Option<SemanticHit> {
        let (vectors, query) = self.found.as_ref()?;
        vectors.hit(query, addr)
    }
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
        Ok(Some(v)) if v.model == semantic.name => Ok(v),
        Ok(Some(v)) => Err(format!(
            "the index's vectors were made with {}, not {}: run `egovkb reindex`",
            v.model, semantic.name
        )),
        Ok(None) => Err("the index has no passage vectors yet: run `egovkb index`".into()),
        Err(e) => {
            tracing::warn!(error = %e, "passage vectors not loaded; searching by words only");
            Err(e.to_string())
        }
    }
}

/// A string fast field of every segment (`lang`, `countries`, `topics`).
struct StrColumn {
    columns: Vec<Option<tantivy::columnar::StrColumn>>,
}

impl StrColumn {
    fn new(searcher: &tantivy::Searcher, field: &str) -> Self {
        Self {
            columns: searcher
                .segment_readers()
                .iter()
                .map(|s| s.fast_fields().str(field).ok().flatten())
                .collect(),
        }
    }

    /// The document's values.
    fn values(&self, addr: DocAddress) -> Vec<String> {
        let Some(Some(column)) = self.columns.get(addr.segment_ord as usize) else {
            return Vec::new();
        };
        column
            .term_ords(addr.doc_id)
            .filter_map(|ord| {
                let mut out = String::new();
                column.ord_to_str(ord, &mut out).ok()?.then_some(out)
            })
            .collect()
    }

    /// The document's first value.
    fn of(&self, addr: DocAddress) -> Option<String> {
        self.values(addr).into_iter().next()
    }
}

/// The lexical hits (newest first) and those found by meaning, newest first.
fn by_day(
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

/// How a search finds its terms in a hit's text, per analyzer: built once
/// per search, used on every hit.
enum Mark<'a> {
    /// Korean morphemes, as written.
    Literal(snippet::Literal<'a>),
    /// Spanish and English stems, as word beginnings.
    Stems(snippet::Stems<'a>),
    /// Anything else: the text analysed again.
    Analysed(&'a HashSet<String>),
}

type Marks<'a> = HashMap<AnalyzerName, Mark<'a>>;

fn marks(terms: &HashMap<AnalyzerName, HashSet<String>>) -> Marks<'_> {
    terms
        .iter()
        .map(|(&name, t)| {
            let mark = match name {
                AnalyzerName::Korean => Mark::Literal(snippet::Literal::new(t)),
                AnalyzerName::Spanish | AnalyzerName::English => {
                    Mark::Stems(snippet::Stems::new(t))
                }
                AnalyzerName::Other => Mark::Analysed(t),
            };
            (name, mark)
        })
        .collect()
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

fn to_hit(doc: Document, score: f32, snippet: String, page: Option<usize>) -> Hit {
    Hit {
        id: doc.id,
        title: doc.title,
        url: doc.url,
        source: doc.source,
        doc_type: doc.doc_type.as_str().to_string(),
        lang: doc.lang.map(|l| l.to_string()),
        published: doc.published.map(|d| d.format("%Y-%m-%d").to_string()),
        countries: doc.countries,
        topics: doc.topics,
        event: doc.event,
        parent: doc.parent,
        score,
        snippet,
        page,
    }
}

/// `<corpus>/events.toml`: `[events."slug"] en = "…" es = "…" ko = "…"`.
fn load_event_labels(corpus: &std::path::Path) -> HashMap<String, [String; 3]> {
    let Ok(text) = std::fs::read_to_string(corpus.join("events.toml")) else {
        return HashMap::new();
    };
    let Ok(table) = toml::from_str::<toml::Table>(&text) else {
        tracing::warn!("events.toml is not valid TOML; event labels fall back to their ids");
        return HashMap::new();
    };
    let mut out = HashMap::new();
    if let Some(events) = table.get("events").and_then(|e| e.as_table()) {
        for (slug, labels) in events {
            let get = |l: &str| labels.get(l).and_then(|v| v.as_str()).map(str::to_string);
            let en = get("en").unwrap_or_else(|| slug.clone());
            let es = get("es").unwrap_or_else(|| en.clone());
            let ko = get("ko").unwrap_or_else(|| en.clone());
            out.insert(slug.clone(), [en, es, ko]);
        }
    }
    out
}

impl SearchRequest {
    /// Build a request from `name=value` pairs (an HTTP query string: a
    /// repeated name gives several values). Unknown names are refused, so
    /// that a typo does not silently search for something else.
    pub fn from_params(params: &[(String, String)]) -> Result<Self, String> {
        let mut req = SearchRequest::default();
        for (name, value) in params {
            let value = value.trim();
            let number = |what: &str| -> Result<usize, String> {
                value
                    .parse::<usize>()
                    .map_err(|_| format!("{what} must be a whole number, not `{value}`"))
            };
            match name.as_str() {
                "q" => req.q = value.to_string(),
                "country" => {
                    if value.len() != 2 || !value.bytes().all(|b| b.is_ascii_alphabetic()) {
                        return Err(format!(
                            "country must be an ISO 3166-1 code such as PY, not `{value}`"
                        ));
                    }
                    req.countries.push(value.to_ascii_uppercase())
                }
                "topic" => req.topics.push(value.to_string()),
                "year" => req.years = Some(parse_years(value)?),
                "type" => {
                    let Some(t) = DocType::parse(value) else {
                        let known: Vec<&str> = DocType::ALL.iter().map(|t| t.as_str()).collect();
                        return Err(format!(
                            "type must be one of {}, not `{value}`",
                            known.join(", ")
                        ));
                    };
                    req.types.push(t.as_str().to_string())
                }
                "lang" => {
                    let Some(l) = Lang::parse(value) else {
                        return Err(format!(
                            "lang must be a language code such as es, not `{value}`"
                        ));
                    };
                    req.langs.push(l.as_str().to_string())
                }
                "event" => req.events.push(value.to_string()),
                "sort" => {
                    req.sort = Some(Sort::parse(value).ok_or_else(|| {
                        format!("sort must be `relevance` or `date`, not `{value}`")
                    })?)
                }
                "mode" => {
                    req.mode = Some(SearchMode::parse(value).ok_or_else(|| {
                        format!("mode must be `hybrid`, `lexical` or `semantic`, not `{value}`")
                    })?)
                }
                "limit" => req.limit = number("limit")?,
                "offset" => req.offset = number("offset")?,
                "ui_lang" | "ui" => {
                    req.ui = UiLang::parse(value)
                        .ok_or_else(|| format!("ui_lang must be en, es or ko, not `{value}`"))?
                }
                other => return Err(format!("unknown parameter `{other}`")),
            }
        }
        Ok(req)
    }
}
