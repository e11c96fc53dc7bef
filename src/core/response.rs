//! What a search answers, whichever engine runs it: the response, its
//! hits, the query as understood, the facets with their labels, and the
//! index's statistics.

use serde::Serialize;

use crate::core::facet::{Counts, Kind, PerFacet};
use crate::core::relevance::Matched;
use crate::core::request::{SearchMode, SearchRequest};
use crate::core::snippet::Highlighted;

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Correction {
    /// The word as the query has it.
    pub word: String,
    /// The word it was searched as, as documents have it (lower case,
    /// without accents but ñ's).
    pub term: String,
}

/// One result.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Hit {
    pub id: String,
    pub title: String,
    /// Where the document comes from: its web address; for a file of the
    /// corpus, its path relative to the corpus directory (`originals/…`);
    /// for a file imported from elsewhere, its name alone. Over HTTP no
    /// server folder is shown; the command line shows the file's path.
    pub url: String,
    /// `/original/{id}`: the file itself, for a file of the corpus (set by
    /// the server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// For a downloaded file, its name as the server gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
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
    /// The text around the matches, the matches highlighted; HTML in JSON
    /// (`<mark>` around the matches, the rest escaped).
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub snippet: Highlighted,
    /// The page or slide (from 1) where the best match lies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<usize>,
    /// Why it is a result: by words, by a country or topic, by meaning or
    /// both; the query's words and concepts it has; how strongly (absent
    /// when browsing, where nothing is asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<Matched>,
    /// The story's other versions (near-duplicates found at indexing: the
    /// same notice on another board, a twin of the release, another save
    /// of the page), best first; absent when it is told once. A search
    /// counts and shows the story once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<Version>,
    /// The same notice in other languages (translations told apart at
    /// indexing; each is a result of its own); absent when none is known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Version>,
}

/// Another version of a hit's story, or its translation.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Version {
    pub id: String,
    pub title: String,
    pub url: String,
    pub source: String,
    pub doc_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FacetValue {
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub count: u64,
}

/// Every facet's values with their counts (its OpenAPI schema is written
/// from the facets' specs in `server::openapi`).
pub type Facets = PerFacet<Vec<FacetValue>>;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SearchResponse {
    pub query: String,
    pub interpreted: Interpreted,
    pub total: usize,
    pub took_ms: u64,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SemanticStatus {
    pub available: bool,
    /// The model whose vectors are searched, and how documents were cut
    /// into passages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Passages with a vector.
    pub passages: usize,
    /// Whether a search walks the generation's graph of the passages
    /// (built by `egovkb index` from 60,000 passages) instead of comparing
    /// every one.
    pub graph: bool,
    /// Why search is lexical only (absent when `available`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The facets of a response from the counts of every facet, with their
/// labels in the request's interface language; a selected value stays
/// visible even when nothing matches it. Most frequent first, years newest
/// first.
pub fn facets_from(
    counts: &Counts,
    req: &SearchRequest,
    enricher: &crate::enrich::Enricher,
) -> Facets {
    PerFacet::from_fn(|facet| {
        let spec = facet.spec();
        let label = |v: &str| (spec.label)(enricher, v, req.ui);
        let mut values: Vec<FacetValue> = counts[facet]
            .iter()
            .map(|(v, n)| FacetValue {
                value: v.clone(),
                label: label(v),
                count: *n,
            })
            .collect();
        match spec.kind {
            Kind::Years => values.sort_by(|a, b| b.value.cmp(&a.value)),
            Kind::Values(_) => {
                for s in req.filters.values(facet) {
                    if !values.iter().any(|v| v.value == *s) {
                        values.push(FacetValue {
                            value: s.clone(),
                            label: label(s),
                            count: 0,
                        });
                    }
                }
                values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            }
        }
        values
    })
}

impl Hit {
    /// Whether its pages are slides (a PPTX, by its name or its URL).
    pub fn has_slides(&self) -> bool {
        crate::extract::has_slides(self.file_name.as_deref(), &self.url)
    }
}

/// What an engine serves: an index generation (or a SolrCloud collection,
/// `solr:<name>`), how many documents, and whether search by meaning is on.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub generation: String,
    pub documents: u64,
    pub semantic: SemanticStatus,
}
