//! The search page's state as its URL carries it: the query, the
//! filters, the sort, the page and the interface language.

use crate::core::facet::{Facet, Kind};
use crate::enrich::UiLang;
use crate::index::search::{MAX_OFFSET, SearchRequest};

use super::*;

/// Whether a parameter is a facet's filter.
pub(super) fn is_filter(name: &str) -> bool {
    Facet::from_param(name).is_some()
}

/// Whether a parameter is a filter that takes one value (a range of years).
pub(super) fn takes_one(name: &str) -> bool {
    Facet::from_param(name).is_some_and(|f| matches!(f.spec().kind, Kind::Years))
}

/// A filter value as the facets list it (`py` → `PY`), so that the page
/// ticks its box and its chip removes it; any other value as given.
pub(super) fn normal_form(name: &str, value: &str) -> String {
    match Facet::from_param(name).map(|f| f.spec().kind) {
        Some(Kind::Values(normal)) => normal(value).unwrap_or_else(|_| value.to_string()),
        _ => value.to_string(),
    }
}

/// What the page's URL asks for: the search parameters (as `/api/search`
/// takes them, without paging), the result page and the interface language.
#[derive(Debug, Clone)]
pub struct PageQuery {
    pub(super) params: Vec<(String, String)>,
    pub(super) page: usize,
    pub ui: UiLang,
}

impl PageQuery {
    /// Read the page's parameters. `from`/`to` (the year range fields) become
    /// `year`, empty form fields are dropped, `page` counts from 1. A bad
    /// value is an error in the chosen interface language's page.
    pub fn parse(
        raw: &[(String, String)],
        default_ui: UiLang,
    ) -> (Self, Result<SearchRequest, String>) {
        let mut ui = default_ui;
        let mut page = 1;
        let mut params = Vec::new();
        let (mut from, mut to) = (String::new(), String::new());
        // What the form sends: control characters (which mean nothing in a
        // search and must not reach the page raw) as spaces, the text
        // trimmed, and an empty field left out.
        let given: Vec<(String, String)> = raw
            .iter()
            .map(|(name, value)| {
                let cleaned: String = value
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect();
                let value = if name == "q" {
                    cleaned.trim().to_string()
                } else {
                    cleaned
                };
                (name.clone(), value)
            })
            .filter(|(name, value)| name == "q" || !value.is_empty())
            .collect();
        let error = crate::server::params::check(&crate::server::params::page(), &given).err();
        for (name, value) in &given {
            match name.as_str() {
                "ui" => ui = UiLang::parse(value).unwrap_or(ui),
                "page" => {
                    page = value
                        .parse::<usize>()
                        .unwrap_or(1)
                        .clamp(1, MAX_OFFSET / PAGE_SIZE + 1)
                }
                "from" => from = value.clone(),
                "to" => to = value.clone(),
                "q" => params.push((name.clone(), value.clone())),
                _ => params.push((name.clone(), normal_form(name, value))),
            }
        }
        if !from.is_empty() || !to.is_empty() {
            params.retain(|(n, _)| n != YEAR);
            params.push((YEAR.into(), format!("{from}..{to}")));
        }
        let query = Self { params, page, ui };
        let request = match error {
            Some(e) => Err(e),
            None => crate::server::params::build(&query.params).map(|mut r| {
                r.ui = ui;
                r.limit = PAGE_SIZE;
                r.offset = (page - 1) * PAGE_SIZE;
                r
            }),
        };
        (query, request)
    }

    pub(super) fn q(&self) -> &str {
        self.params
            .iter()
            .find(|(n, _)| n == "q")
            .map_or("", |(_, v)| v.as_str())
    }

    pub(super) fn has(&self, name: &str, value: &str) -> bool {
        self.params.iter().any(|(n, v)| n == name && v == value)
    }

    pub(super) fn value(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The URL of these parameters at a result page.
    pub(super) fn href_of(&self, params: &[(String, String)], page: usize) -> String {
        let mut all: Vec<(&str, String)> = params
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        all.push(("ui", self.ui.as_str().to_string()));
        if page > 1 {
            all.push(("page", page.to_string()));
        }
        format!(
            "/?{}",
            serde_urlencoded::to_string(&all).unwrap_or_default()
        )
    }

    /// This search on an API route (`/api/feed` takes no sort), with one
    /// more parameter.
    pub(super) fn api(&self, route: &str, extra: Option<(&str, &str)>) -> String {
        let mut all: Vec<(&str, &str)> = self
            .params
            .iter()
            .filter(|(n, _)| !(route == "/api/feed" && n == "sort"))
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        all.push(("ui_lang", self.ui.as_str()));
        all.extend(extra);
        format!(
            "{route}?{}",
            serde_urlencoded::to_string(&all).unwrap_or_default()
        )
    }

    pub(super) fn at_page(&self, page: usize) -> String {
        self.href_of(&self.params, page)
    }

    /// With `name=value` added (for year, which takes one value: replaced).
    pub(super) fn with(&self, name: &str, value: &str) -> String {
        let mut p = self.params.clone();
        if takes_one(name) {
            p.retain(|(n, _)| n != name);
        }
        if !p.iter().any(|(n, v)| n == name && v == value) {
            p.push((name.into(), value.into()));
        }
        self.href_of(&p, 1)
    }

    pub(super) fn without(&self, name: &str, value: &str) -> String {
        let p: Vec<_> = self
            .params
            .iter()
            .filter(|(n, v)| !(n == name && v == value))
            .cloned()
            .collect();
        self.href_of(&p, 1)
    }

    pub(super) fn with_ui(&self, ui: UiLang) -> String {
        Self { ui, ..self.clone() }.at_page(self.page)
    }

    /// The query without any filter.
    pub(super) fn unfiltered(&self) -> String {
        let p: Vec<_> = self
            .params
            .iter()
            .filter(|(n, _)| !is_filter(n))
            .cloned()
            .collect();
        self.href_of(&p, 1)
    }
}
