//! What a search asks: its text, filters, order, ranking mode and page, and
//! their limits.

use serde::Serialize;

use super::SearchError;
use crate::document::{DocType, Lang};
use crate::enrich::UiLang;
use crate::index::bits;
use crate::index::query::MAX_QUERY_CHARS;

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
            .is_ok_and(crate::dates::plausible)
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

/// A country filter's value in its normal form (upper case), or why it
/// is not an ISO 3166-1 code.
pub fn country_code(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.len() != 2 || !value.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "country must be an ISO 3166-1 code such as PY, not `{value}`"
        ));
    }
    Ok(value.to_ascii_uppercase())
}

/// A document type filter's value in its normal form, or the types there are.
pub fn doc_type(value: &str) -> Result<String, String> {
    let value = value.trim();
    match DocType::parse(value) {
        Some(t) => Ok(t.as_str().to_string()),
        None => {
            let known: Vec<&str> = DocType::ALL.iter().map(|t| t.as_str()).collect();
            Err(format!(
                "type must be one of {}, not `{value}`",
                known.join(", ")
            ))
        }
    }
}

/// A language filter's value in its normal form.
pub fn lang_code(value: &str) -> Result<String, String> {
    let value = value.trim();
    Lang::parse(value)
        .map(|l| l.as_str().to_string())
        .ok_or_else(|| format!("lang must be a language code such as es, not `{value}`"))
}

impl SearchRequest {
    /// The request's filters, facet by facet, for the bitset pass.
    pub(super) fn bit_filters(&self) -> bits::Filters {
        let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        bits::Filters {
            values: [
                some(&self.countries),
                some(&self.topics),
                None,
                some(&self.types),
                some(&self.langs),
                some(&self.events),
            ],
            years: self.years,
        }
    }

    /// Refuse a request past the limits (query length, page, filters).
    pub(super) fn check(&self) -> Result<(), SearchError> {
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
        let too_many = [
            &self.countries,
            &self.topics,
            &self.types,
            &self.langs,
            &self.events,
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
}
