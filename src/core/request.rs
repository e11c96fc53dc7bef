//! What a search asks: its text, filters, order, ranking mode and page, and
//! their limits.

use serde::Serialize;

use crate::core::facet::Filters;
use crate::core::query::MAX_QUERY_CHARS;
use crate::enrich::UiLang;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The request is wrong; the message says how (HTTP 400).
    #[error("{0}")]
    BadRequest(String),
    #[error("no document with id `{0}`")]
    NotFound(String),
    /// The engine failed (its index could not be read); the message says
    /// how (HTTP 500).
    #[error("{0}")]
    Engine(String),
    /// The search went past its time limit (HTTP 503).
    #[error("the search took longer than {} s; try a simpler one", .0.as_secs_f32())]
    TooSlow(std::time::Duration),
    /// The engine behind the search (a SolrCloud cluster) did not answer
    /// (HTTP 503): the message says what it is.
    #[error("{0}")]
    Unavailable(String),
}

/// Most hits a page may ask for.
pub const MAX_LIMIT: usize = 100;

/// Deepest offset: paging further is not searching.
pub const MAX_OFFSET: usize = 10_000;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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
    pub filters: Filters,
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
            filters: Filters::default(),
            sort: None,
            mode: None,
            limit: 10,
            offset: 0,
            ui: UiLang::En,
            time_limit: None,
        }
    }
}

impl SearchRequest {
    /// Refuse a request past the limits (query length, page, filters).
    pub fn check(&self) -> Result<(), SearchError> {
        if self.q.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::BadRequest(format!(
                "the query is longer than {MAX_QUERY_CHARS} characters"
            )));
        }
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return Err(SearchError::BadRequest(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        if self.offset > MAX_OFFSET {
            return Err(SearchError::BadRequest(format!(
                "offset must be at most {MAX_OFFSET}"
            )));
        }
        self.filters.check().map_err(SearchError::BadRequest)
    }
}
