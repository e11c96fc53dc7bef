//! The web page: server-rendered HTML (maud escapes every spliced string)
//! that works without JavaScript. A search form whose facet checkboxes,
//! year range and sort travel as ordinary URL parameters, result cards,
//! pagination, and a document page with its text and related documents.

mod charts;
mod cite;
mod matches;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::text::{Text, text};
use crate::core::facet::{Facet, Kind, doc_type_label};
use crate::core::relevance::{Matched, MatchedBy, Strength};
use crate::document::Document;
use crate::engine::Engine;
use crate::enrich::UiLang;
use crate::index::search::{FacetValue, Hit, MAX_OFFSET, SearchRequest, SearchResponse, Version};
use crate::semantic::passages::Span;

/// Results per page.
pub const PAGE_SIZE: usize = 10;
/// Facet values shown before "More".
const FACET_SHOWN: usize = 8;

/// The parameters of the facets the page draws apart: the year (a range
/// of two fields, a chart) and the country (flags, a chart).
const YEAR: &str = Facet::Year.spec().param;
const COUNTRY: &str = Facet::Country.spec().param;

/// Whether a parameter is a facet's filter.
fn is_filter(name: &str) -> bool {
    Facet::from_param(name).is_some()
}

/// Whether a parameter is a filter that takes one value (a range of years).
fn takes_one(name: &str) -> bool {
    Facet::from_param(name).is_some_and(|f| matches!(f.spec().kind, Kind::Years))
}

/// A filter value as the facets list it (`py` → `PY`), so that the page
/// ticks its box and its chip removes it; any other value as given.
fn normal_form(name: &str, value: &str) -> String {
    match Facet::from_param(name).map(|f| f.spec().kind) {
        Some(Kind::Values(normal)) => normal(value).unwrap_or_else(|_| value.to_string()),
        _ => value.to_string(),
    }
}

/// What the page's URL asks for: the search parameters (as `/api/search`
/// takes them, without paging), the result page and the interface language.
#[derive(Debug, Clone)]
pub struct PageQuery {
    params: Vec<(String, String)>,
    page: usize,
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
        let error = super::params::check(&super::params::page(), &given).err();
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
            None => super::params::build(&query.params).map(|mut r| {
                r.ui = ui;
                r.limit = PAGE_SIZE;
                r.offset = (page - 1) * PAGE_SIZE;
                r
            }),
        };
        (query, request)
    }

    fn q(&self) -> &str {
        self.params
            .iter()
            .find(|(n, _)| n == "q")
            .map_or("", |(_, v)| v.as_str())
    }

    fn has(&self, name: &str, value: &str) -> bool {
        self.params.iter().any(|(n, v)| n == name && v == value)
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The URL of these parameters at a result page.
    fn href_of(&self, params: &[(String, String)], page: usize) -> String {
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
    fn api(&self, route: &str, extra: Option<(&str, &str)>) -> String {
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

    fn at_page(&self, page: usize) -> String {
        self.href_of(&self.params, page)
    }

    /// With `name=value` added (for year, which takes one value: replaced).
    fn with(&self, name: &str, value: &str) -> String {
        let mut p = self.params.clone();
        if takes_one(name) {
            p.retain(|(n, _)| n != name);
        }
        if !p.iter().any(|(n, v)| n == name && v == value) {
            p.push((name.into(), value.into()));
        }
        self.href_of(&p, 1)
    }

    fn without(&self, name: &str, value: &str) -> String {
        let p: Vec<_> = self
            .params
            .iter()
            .filter(|(n, v)| !(n == name && v == value))
            .cloned()
            .collect();
        self.href_of(&p, 1)
    }

    fn with_ui(&self, ui: UiLang) -> String {
        Self { ui, ..self.clone() }.at_page(self.page)
    }

    /// The query without any filter.
    fn unfiltered(&self) -> String {
        let p: Vec<_> = self
            .params
            .iter()
            .filter(|(n, _)| !is_filter(n))
            .cloned()
            .collect();
        self.href_of(&p, 1)
    }
}

/// The flag emoji of an ISO 3166-1 alpha-2 code (regional indicators).
fn flag(code: &str) -> String {
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        code.bytes()
            .filter_map(|b| char::from_u32(0x1F1E6 + u32::from(b - b'A')))
            .collect()
    } else {
        String::new()
    }
}

/// Only web links become links: a document's URL may say anything.
/// Where a document's original can be had: its web address, or for a file
/// inside the corpus directory (`originals`), this server's copy of it.
pub fn original_href(id: &str, url: &str, originals: Option<&std::path::Path>) -> Option<String> {
    if let Some(u) = web_url(url) {
        return Some(u.to_string());
    }
    let path = std::path::Path::new(url);
    (path.is_absolute() && originals.is_some_and(|root| path.starts_with(root)))
        .then(|| format!("/original/{}", urlencode_path(id)))
}

/// A document's `url` as a reader may see it, and the link to its file:
/// a web address as it is (no link); a file inside the corpus directory
/// `originals` as its path relative to it, linked at `/original/{id}`; a
/// file elsewhere by its name alone; anything else (a record's own
/// `eval:1`) as it is.
pub fn public_location(
    id: &str,
    url: &str,
    originals: Option<&std::path::Path>,
) -> (String, Option<String>) {
    let path = std::path::Path::new(url);
    if web_url(url).is_some() || !path.is_absolute() {
        return (url.to_string(), None);
    }
    match originals.and_then(|root| path.strip_prefix(root).ok()) {
        Some(relative) => {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            (parts.join("/"), original_href(id, url, originals))
        }
        None => (file_name(url).to_string(), None),
    }
}

/// The last part of a path.
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn web_url(url: &str) -> Option<&str> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url)
}

/// "Slide 3" or "Page 3" (a file's page, in the interface's language).
fn page_label(t: &Text, slides: bool, n: usize) -> String {
    let pattern = if slides { t.slide } else { t.page };
    pattern.replace("{}", &n.to_string())
}

/// The page's stylesheet and script, compiled in.
pub const STYLE: &str = include_str!("assets/style.css");
pub const SCRIPT: &str = include_str!("assets/app.js");

/// A hash of the stylesheet and script, in their URLs: they may be cached
/// for good, and a new build's are fetched at once.
pub fn assets_version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        use sha2::Digest;
        let digest = sha2::Sha256::new()
            .chain_update(STYLE)
            .chain_update(SCRIPT)
            .finalize();
        hex::encode(&digest[..5])
    })
}

fn layout(
    ui: UiLang,
    title: &str,
    switch: &dyn Fn(UiLang) -> String,
    feed: Option<&str>,
    main: Markup,
) -> Markup {
    let t = text(ui);
    html! {
        (DOCTYPE)
        html lang=(ui.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                @if let Some(feed) = feed {
                    link rel="alternate" type="application/atom+xml" title=(t.follow) href=(feed);
                }
                link rel="stylesheet" href={ "/assets/style.css?v=" (assets_version()) };
                script src={ "/assets/app.js?v=" (assets_version()) } defer {}
            }
            body {
                a.skip href="#main" { (t.skip) }
                header.site {
                    a.brand href={ "/?ui=" (ui.as_str()) } { (t.site) }
                    span.tagline { (t.tagline) }
                    nav.ui-lang aria-label=(t.interface_language) {
                        @for (l, name) in [(UiLang::En, "English"), (UiLang::Es, "Español"), (UiLang::Ko, "한국어")] {
                            @if l == ui {
                                span lang=(l.as_str()) aria-current="true" { (name) }
                            } @else {
                                a lang=(l.as_str()) hreflang=(l.as_str()) href=(switch(l)) { (name) }
                            }
                        }
                    }
                }
                (main)
            }
        }
    }
}

/// The search box and its options; the match select (words and meaning,
/// words, meaning) only when the engine has an embedding model.
fn search_form(t: &Text, q: &PageQuery, sort: Option<&str>, meaning: bool) -> Markup {
    let mode = q.value("mode");
    html! {
        form #search role="search" action="/" method="get" {
            label.visually-hidden for="q" { (t.search_label) }
            input #q type="search" name="q" value=(q.q()) placeholder=(t.placeholder) maxlength="1000" autocomplete="off";
            input type="hidden" name="ui" value=(q.ui.as_str());
            button type="submit" { (t.search) }
            label.sort {
                (t.sort) " "
                select name="sort" {
                    option value="" selected[sort.is_none()] { (t.relevance) }
                    option value="date" selected[sort == Some("date")] { (t.newest) }
                }
            }
            @if meaning { label.sort {
                (t.mode) " "
                select name="mode" {
                    option value="" selected[mode.is_none()] { (t.mode_hybrid) }
                    option value="lexical" selected[mode == Some("lexical")] { (t.mode_lexical) }
                    option value="semantic" selected[mode == Some("semantic")] { (t.mode_semantic) }
                }
            } }
        }
    }
}

fn facet_group(t: &Text, q: &PageQuery, facet: Facet, values: &[FacetValue]) -> Markup {
    let name = facet.spec().param;
    let label_of = |v: &FacetValue| v.label.clone().unwrap_or_else(|| v.value.clone());
    let selected = |v: &FacetValue| q.has(name, &v.value);
    let (shown, rest): (Vec<_>, Vec<_>) = values
        .iter()
        .enumerate()
        .partition(|(i, v)| *i < FACET_SHOWN || selected(v));
    let item = |v: &FacetValue| -> Markup {
        html! {
            li {
                label {
                    input type="checkbox" form="search" name=(name) value=(v.value) checked[selected(v)];
                    " "
                    @if facet == Facet::Country { span.flag aria-hidden="true" { (flag(&v.value)) } " " }
                    span.label { (label_of(v)) }
                    " "
                    span.count { (v.count) }
                }
            }
        }
    };
    html! {
        fieldset.facet data-facet=(name) {
            legend { (facet.title(q.ui)) }
            ul { @for (_, v) in &shown { (item(v)) } }
            @if !rest.is_empty() {
                details {
                    summary { (t.more) " (" (rest.len()) ")" }
                    ul { @for (_, v) in &rest { (item(v)) } }
                }
            }
        }
    }
}

/// The year facet: links that pick one year, and a range the form submits.
fn year_group(t: &Text, q: &PageQuery, values: &[FacetValue]) -> Markup {
    let (from, to) = q
        .value(YEAR)
        .map(|y| match y.split_once("..") {
            Some((a, b)) => (a.to_string(), b.to_string()),
            None => (y.to_string(), y.to_string()),
        })
        .unwrap_or_default();
    let show = |s: &str| {
        if s == "1900" || s == "2100" {
            String::new()
        } else {
            s.to_string()
        }
    };
    html! {
        fieldset.facet data-facet=(YEAR) {
            legend { (Facet::Year.title(q.ui)) }
            div.year-range {
                label { (t.year_from) " " input type="number" form="search" name="from" min="1900" max="2100" value=(show(&from)); }
                label { (t.year_to) " " input type="number" form="search" name="to" min="1900" max="2100" value=(show(&to)); }
            }
            ul.years {
                @for v in values.iter().take(12) {
                    li { a href=(q.with(YEAR, &v.value)) { (v.value) " " span.count { (v.count) } } }
                }
            }
        }
    }
}

fn filters_aside(t: &Text, q: &PageQuery, r: &SearchResponse) -> Markup {
    html! {
        aside.filters aria-label=(t.filters) {
            // Open, and not foldable, on a wide screen; on a narrow one the
            // script folds it so that the results come first.
            details.filter-box open {
                summary { h2 { (t.filters) } }
                @for (facet, values) in r.facets.iter() {
                    @match facet.spec().kind {
                        Kind::Years => {
                            @if !values.is_empty() || q.value(facet.spec().param).is_some() { (year_group(t, q, values)) }
                        }
                        Kind::Values(_) => {
                            @if !values.is_empty() { (facet_group(t, q, facet, values)) }
                        }
                    }
                }
                button.apply type="submit" form="search" { (t.apply) }
            }
        }
    }
}

/// The label of a selected filter value, from the facets (selected values
/// are always among them); a year range as `2015–2019`.
fn filter_label(r: &SearchResponse, name: &str, value: &str) -> String {
    let Some(facet) = Facet::from_param(name) else {
        return value.to_string();
    };
    if let Kind::Years = facet.spec().kind {
        return match value.split_once("..") {
            Some((a, b)) if a == b => a.to_string(),
            Some((a, b)) => {
                fn open(y: &str) -> &str {
                    if y.is_empty() || y == "1900" || y == "2100" {
                        "…"
                    } else {
                        y
                    }
                }
                format!("{}–{}", open(a), open(b))
            }
            None => value.to_string(),
        };
    }
    r.facets[facet]
        .iter()
        .find(|v| v.value == value)
        .and_then(|v| v.label.clone())
        .unwrap_or_else(|| value.to_string())
}

fn active_filters(t: &Text, q: &PageQuery, r: &SearchResponse) -> Markup {
    let active: Vec<(&str, &str)> = q
        .params
        .iter()
        .filter(|(n, _)| is_filter(n))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    html! {
        @if !active.is_empty() {
            section.active aria-label=(t.active_filters) {
                span.heading { (t.active_filters) ": " }
                @for (name, value) in &active {
                    a.chip.on href=(q.without(name, value)) title=(t.remove_filter) {
                        span.kind { (Facet::from_param(name).map_or("", |f| f.title(q.ui))) ": " }
                        (filter_label(r, name, value))
                        span aria-hidden="true" { " ×" }
                        span.visually-hidden { " (" (t.remove_filter) ")" }
                    }
                }
                @if active.len() > 1 { a.clear href=(q.unfiltered()) { (t.clear_all) } }
            }
        }
    }
}

fn understood(t: &Text, q: &PageQuery, r: &SearchResponse, engine: &Engine) -> Markup {
    let en = &engine.enricher;
    let chips: Vec<(&str, &str, String)> = r
        .interpreted
        .countries
        .iter()
        .map(|c| {
            (
                COUNTRY,
                c.as_str(),
                format!("{} {}", flag(c), en.countries.label(c, q.ui)),
            )
        })
        .chain(
            r.interpreted
                .topics
                .iter()
                .map(|s| ("topic", s.as_str(), en.topics.label(s, q.ui).to_string())),
        )
        .collect();
    html! {
        @if !r.interpreted.relaxed.is_empty() {
            p.relaxed role="status" {
                (t.relaxed) ": "
                @for (i, phrase) in r.interpreted.relaxed.iter().enumerate() {
                    @if i > 0 { ", " }
                    q { (phrase) }
                }
            }
        }
        @if !r.interpreted.corrected.is_empty() {
            p.relaxed role="status" {
                (t.corrected) ": "
                @for (i, c) in r.interpreted.corrected.iter().enumerate() {
                    @if i > 0 { ", " }
                    del { (c.word) } " → " ins { (c.term) }
                }
            }
        }
        @if !chips.is_empty() {
            section.understood aria-label=(t.understood) {
                span.heading { (t.understood) ": " }
                @for (name, value, label) in &chips {
                    @if q.has(name, value) {
                        span.chip.on { (label) }
                    } @else {
                        a.chip href=(q.with(name, value)) title={ (t.filter_by) " " (label) } {
                            (label) span aria-hidden="true" { " +" }
                            span.visually-hidden { " (" (t.filter_by) ")" }
                        }
                    }
                }
            }
        }
    }
}

/// Badges: language, type, countries.
fn badges(
    ui: UiLang,
    engine: &Engine,
    lang: Option<&str>,
    doc_type: &str,
    countries: &[String],
) -> Markup {
    html! {
        @if let Some(l) = lang { span.badge.lang { (l) } }
        span.badge.kind { (doc_type_label(doc_type, ui)) }
        @for c in countries {
            span.badge.country title=(engine.enricher.countries.label(c, ui)) {
                span aria-hidden="true" { (flag(c)) " " } (c)
            }
        }
    }
}

fn hit_card(t: &Text, q: &PageQuery, site: &Site, i: usize, h: &Hit) -> Markup {
    let engine = site.engine;
    let doc_href = {
        let mut params = vec![("ui", q.ui.as_str())];
        if !q.q().is_empty() {
            params.push(("q", q.q()));
        }
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        format!("/doc/{}?{query}", urlencode_path(&h.id))
    };
    // A hit found by meaning alone opens at the passage nearest the search.
    let title_href = match &h.matched {
        Some(m) if m.by == MatchedBy::Meaning => format!("{doc_href}#meaning"),
        _ => doc_href.clone(),
    };
    html! {
        li.hit {
            article aria-labelledby={ "hit-" (i) } {
                h3 id={ "hit-" (i) } lang=[h.lang.as_deref()] { a href=(title_href) { (h.title) } }
                p.meta {
                    span.source { (h.source) }
                    " · "
                    @match &h.published { Some(d) => time datetime=(d) { (d) }, None => span { (t.undated) } }
                    " "
                    (badges(q.ui, engine, h.lang.as_deref(), &h.doc_type, &h.countries))
                }
                @if !h.snippet.is_empty() {
                    // The engine escapes the text and adds only <mark>.
                    p.snippet lang=[h.lang.as_deref()] { (PreEscaped(h.snippet.html())) }
                }
                @if let Some(m) = &h.matched {
                    (why(t, engine, q.ui, m))
                }
                @if !h.versions.is_empty() {
                    (versions(t, q.ui, &h.versions))
                }
                @if !h.languages.is_empty() {
                    (languages(t, q.ui, &h.languages))
                }
                p.links {
                    @if let Some(p) = h.page {
                        a.page href={ (doc_href) "#page-" (p) } { (page_label(t, h.has_slides(), p)) }
                        " "
                    }
                    @if let Some(url) = original_href(&h.id, &h.url, site.originals) {
                        a.original href=(url) rel="noopener noreferrer" { (t.original) }
                    }
                }
            }
        }
    }
}

/// A story's other versions, folded: their source, type and date, each a
/// link to its document page.
fn versions(t: &Text, ui: UiLang, versions: &[Version]) -> Markup {
    let n = versions.len();
    let label = if n == 1 {
        t.other_version
    } else {
        t.other_versions
    };
    html! {
        details.versions {
            summary { (n) " " (label) }
            ul {
                @for v in versions {
                    li {
                        a href={ "/doc/" (urlencode_path(&v.id)) "?ui=" (ui.as_str()) } { (v.title) }
                        " · " (v.source) " · " (doc_type_label(&v.doc_type, ui))
                        @if let Some(d) = &v.published { " · " time datetime=(d) { (d) } }
                    }
                }
            }
        }
    }
}

/// A notice's translations: a link to each, named by its language.
fn languages(t: &Text, ui: UiLang, languages: &[Version]) -> Markup {
    html! {
        p.languages {
            (t.other_languages) ": "
            @for (i, v) in languages.iter().enumerate() {
                @if i > 0 { " · " }
                a href={ "/doc/" (urlencode_path(&v.id)) "?ui=" (ui.as_str()) }
                    hreflang=[v.lang.as_deref()] title=(v.title) {
                    (crate::core::facet::lang_label(v.lang.as_deref().unwrap_or(""), ui))
                }
            }
        }
    }
}

/// Why a hit is there, in a short line: how it matched, the query's words
/// and concepts it has, and whether strongly.
fn why(t: &Text, engine: &Engine, ui: UiLang, m: &Matched) -> Markup {
    let how = match m.by {
        MatchedBy::Words => t.why_words,
        MatchedBy::Concept => t.why_concept,
        MatchedBy::Meaning => t.why_meaning,
        MatchedBy::Both => t.why_both,
    };
    // A concept by its name in the interface language.
    let label = |c: &String| {
        [Facet::Country, Facet::Topic]
            .iter()
            .find_map(|f| (f.spec().label)(&engine.enricher, c, ui))
            .unwrap_or_else(|| c.clone())
    };
    let named: Vec<String> = match m.by {
        MatchedBy::Meaning => Vec::new(),
        _ => m
            .words
            .iter()
            .cloned()
            .chain(m.concepts.iter().map(label))
            .collect(),
    };
    html! {
        p.why data-by=(format!("{:?}", m.by).to_lowercase()) {
            (how)
            @if !named.is_empty() { ": " (named.join(", ")) }
            @if m.strength == Strength::Strong { " · " (t.why_strong) }
        }
    }
}

/// The last result page of `total` hits that the API can serve.
fn last_page(total: usize) -> usize {
    total.div_ceil(PAGE_SIZE).min(MAX_OFFSET / PAGE_SIZE + 1)
}

fn pagination(t: &Text, q: &PageQuery, total: usize) -> Markup {
    let last = last_page(total);
    let current = q.page;
    let window: Vec<usize> = (1..=last)
        .filter(|&p| p == 1 || p == last || p.abs_diff(current) <= 2)
        .collect();
    html! {
        @if last > 1 {
            nav.pages aria-label=(t.pages) {
                @if current > 1 { a rel="prev" href=(q.at_page(current - 1)) { "‹ " (t.previous) } }
                @for (k, p) in window.iter().enumerate() {
                    @if k > 0 && window[k - 1] + 1 < *p { span.gap { "…" } }
                    @if *p == current {
                        span aria-current="page" { (p) }
                    } @else {
                        a href=(q.at_page(*p)) { (p) }
                    }
                }
                @if current < last { a rel="next" href=(q.at_page(current + 1)) { (t.next) " ›" } }
            }
        }
    }
}

/// The search page with its results.
/// What the pages are rendered with: the vocabularies' labels, and where
/// the corpus's own files are (served at `/original/{id}`).
pub struct Site<'a> {
    pub engine: &'a Engine,
    pub originals: Option<&'a std::path::Path>,
}

pub fn results(q: &PageQuery, r: &SearchResponse, site: &Site) -> Markup {
    let engine = site.engine;
    let t = text(q.ui);
    let title = if q.q().is_empty() {
        t.site.to_string()
    } else {
        format!("{} — {}", q.q(), t.site)
    };
    let feed = q.api("/api/feed", None);
    let main = html! {
        main #main {
            (search_form(t, q, q.value("sort"), engine.semantic.is_some()))
            div.columns {
                (filters_aside(t, q, r))
                section #results.results aria-labelledby="results-heading" {
                    h2 #results-heading.count aria-live="polite" {
                        (r.total) " " (t.results)
                        span.took { " (" (r.took_ms) " ms)" }
                    }
                    (understood(t, q, r, engine))
                    (active_filters(t, q, r))
                    (charts::charts(t, q, r))
                    @if r.hits.is_empty() && r.total > 0 {
                        p.empty {
                            (t.past_end) " "
                            a href=(q.at_page(last_page(r.total))) { (t.last_page) }
                        }
                    } @else if r.hits.is_empty() {
                        p.empty { (t.no_results) }
                    } @else {
                        ol.hits start=((q.page - 1) * PAGE_SIZE + 1) {
                            @for (i, h) in r.hits.iter().enumerate() { (hit_card(t, q, site, i, h)) }
                        }
                    }
                    (pagination(t, q, r.total))
                    p.takeaway {
                        a.feed href=(feed) { (t.follow) }
                        " · " (t.export)
                        @for (format, label) in [("csv", "CSV"), ("ris", "RIS"), ("bibtex", "BibTeX"), ("jsonl", "JSON Lines")] {
                            " " a.export href=(q.api("/api/export", Some(("format", format)))) download { (label) }
                        }
                    }
                }
            }
        }
    };
    layout(q.ui, &title, &|ui| q.with_ui(ui), Some(&feed), main)
}

/// A page that says what went wrong, with the search box to go on.
pub fn error(q: &PageQuery, status: u16, message: &str) -> Markup {
    let t = text(q.ui);
    let heading = match status {
        404 => t.not_found,
        400..=499 => t.bad_request,
        _ => t.unavailable,
    };
    let main = html! {
        main #main {
            (search_form(t, q, None, false))
            section #results.error {
                h2 { (heading) }
                p { (message) }
            }
        }
    };
    layout(q.ui, heading, &|ui| q.with_ui(ui), None, main)
}

/// Percent-encoded but for unreserved characters: safe in a URL path and
/// in a header's `filename*=UTF-8''…`.
pub fn urlencode_path(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A document: metadata, a link to the original, its text (page by page for
/// presentations, each page an anchor `#page-N`) and related documents.
/// What the document page shows beside the document itself.
pub struct Around<'a> {
    pub related: &'a [Hit],
    /// The other versions of its story.
    pub versions: &'a [Version],
    /// Its translations.
    pub languages: &'a [Version],
    /// The passage nearest the reader's search by meaning.
    pub meaning: Option<Span>,
    /// The event's label in the interface language, when it has one.
    pub event_label: Option<String>,
    /// The page the document was attached to: its id and title.
    pub parent: Option<(String, String)>,
    /// The server's address as the reader asked for it (for the permalink).
    pub base: String,
    /// The search the reader came from (`?q=`): its terms are marked.
    pub query: String,
}

/// The document's facts: source, date, type, countries, topics, event,
/// the page it was attached to, its file name, its original.
fn facts(ui: UiLang, d: &Document, around: &Around, site: &Site) -> Markup {
    let t = text(ui);
    let engine = site.engine;
    let en = &engine.enricher;
    html! {
        dl.facts {
            dt { (t.source) } dd { (d.source) }
            dt { (t.published) }
            dd { @match d.published { Some(p) => time datetime=(p) { (p) }, None => (t.undated) } }
            dt { (Facet::DocType.title(ui)) }
            dd { (badges(ui, engine, d.lang.as_ref().map(|l| l.as_str()), d.doc_type.as_str(), &[])) }
            @if !d.countries.is_empty() {
                dt { (t.countries) }
                dd { @for c in &d.countries {
                    a.chip href={ "/?country=" (c) "&ui=" (ui.as_str()) } {
                        span aria-hidden="true" { (flag(c)) " " } (en.countries.label(c, ui))
                    } " "
                } }
            }
            @if !d.topics.is_empty() {
                dt { (t.topics) }
                dd { @for s in &d.topics {
                    a.chip href={ "/?topic=" (urlencode_path(s)) "&ui=" (ui.as_str()) } { (en.topics.label(s, ui)) } " "
                } }
            }
            @if let Some(e) = d.event.as_deref() {
                dt { (Facet::Event.title(ui)) }
                dd { a.chip href={ "/?event=" (urlencode_path(e)) "&ui=" (ui.as_str()) } {
                    (around.event_label.as_deref().unwrap_or(e))
                } }
            }
            @if let Some((id, title)) = &around.parent {
                dt { (t.attached_to) }
                dd { a href={ "/doc/" (urlencode_path(id)) "?ui=" (ui.as_str()) } { (title) } }
            }
            @if let Some(name) = &d.file_name {
                dt { (t.file_name) }
                dd { (name) }
            }
            dt { (t.original) }
            dd.url { @match (web_url(&d.url), original_href(&d.id, &d.url, site.originals)) {
                (Some(u), _) => a href=(u) rel="noopener noreferrer" { (u) },
                (None, Some(href)) => a href=(href) { (file_name(&d.url)) },
                // A file outside the corpus: its name, not the
                // server's path.
                (None, None) => code { (file_name(&d.url)) },
            } }
        }
    }
}

/// The document's text, page by page (or slide by slide) when it has pages.
fn body_text(
    t: &Text,
    d: &Document,
    marker: Option<&matches::Marker>,
    meaning: Option<Span>,
) -> Markup {
    let total = marker.map_or(0, |m| m.count(d));
    let para = |text: &str| match marker {
        Some(m) => m.paragraph(t, text, total),
        None => html! { p { (text) } },
    };
    // The paragraphs of a text (a page's, or the body: `page` None), those
    // of the passage nearest by meaning in a block of their own.
    let paragraphs = |text: &str, page: Option<u32>| {
        let near = meaning.filter(|m| m.page == page);
        let mut at = 0usize;
        let mut parts: Vec<(bool, &str)> = Vec::new();
        for part in text.split("\n\n") {
            let (start, end) = (at, at + part.len());
            at = end + 2;
            if part.trim().is_empty() {
                continue;
            }
            let inside = near.is_some_and(|m| start < m.end as usize && (m.start as usize) < end);
            parts.push((inside, part));
        }
        let first = parts.iter().position(|(inside, _)| *inside);
        html! {
            @for (i, (inside, part)) in parts.iter().enumerate() {
                @if Some(i) == first {
                    div.meaning #meaning {
                        p.meaning-label { (t.nearest_meaning) }
                        @for (_, p) in parts[i..].iter().take_while(|(inside, _)| *inside) { (para(p)) }
                    }
                } @else if !inside {
                    (para(part))
                }
            }
        }
    };
    html! {
        section.text aria-label=(t.text) lang=[d.lang.as_ref().map(|l| l.as_str())] {
            @if d.pages.is_empty() {
                (paragraphs(&d.body, None))
            } @else {
                @for (i, page) in d.pages.iter().enumerate() {
                    section.page id={ "page-" (i + 1) } {
                        h2 { (page_label(t, d.has_slides(), i + 1)) }
                        (paragraphs(page, Some(i as u32 + 1)))
                    }
                }
            }
        }
    }
}

pub fn document(ui: UiLang, d: &Document, around: &Around, site: &Site) -> Markup {
    let t = text(ui);
    let marker = matches::Marker::new(site.engine, d, &around.query);
    let related = around.related;
    let main = html! {
        main #main.document {
            p.back { a href={ "/?ui=" (ui.as_str()) } { "‹ " (t.new_search) } }
            article aria-labelledby="doc-title" {
                h1 #doc-title lang=[d.lang.as_ref().map(|l| l.as_str())] { (d.title) }
                (facts(ui, d, around, site))
                @if let Some(m) = &marker {
                    (matches::summary(t, &around.query, m.count(d)))
                }
                @if around.meaning.is_some() {
                    p.matches { a href="#meaning" { (t.nearest_meaning) } }
                }
                @if !around.versions.is_empty() {
                    (versions(t, ui, around.versions))
                }
                @if !around.languages.is_empty() {
                    (languages(t, ui, around.languages))
                }
                (body_text(t, d, marker.as_ref(), around.meaning))
                (cite::cite(t, ui, d, &around.base, chrono::Utc::now().date_naive()))
            }
            @if !related.is_empty() {
                aside.related aria-labelledby="related-heading" {
                    h2 #related-heading { (t.related) }
                    ul {
                        @for h in related {
                            li {
                                a href={ "/doc/" (urlencode_path(&h.id)) "?ui=" (ui.as_str()) } { (h.title) }
                                " "
                                span.meta { (h.published.as_deref().unwrap_or(t.undated)) }
                            }
                        }
                    }
                }
            }
        }
    };
    let id = urlencode_path(&d.id);
    layout(
        ui,
        &d.title,
        &|l| format!("/doc/{id}?ui={}", l.as_str()),
        None,
        main,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &[(&str, &str)]) -> Vec<(String, String)> {
        s.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn form_fields_become_search_parameters() {
        let (q, req) = PageQuery::parse(
            &pairs(&[
                ("q", "registro civil"),
                ("country", "PY"),
                ("country", "bo"),
                ("from", "2016"),
                ("to", ""),
                ("sort", ""),
                ("page", "3"),
                ("ui", "es"),
            ]),
            UiLang::En,
        );
        let req = req.unwrap();
        assert_eq!(q.ui, UiLang::Es);
        assert_eq!(req.filters.values(Facet::Country), ["PY", "BO"]);
        assert_eq!(req.filters.years(), Some((2016, 2100)));
        assert_eq!(req.sort, None);
        assert_eq!((req.offset, req.limit), (20, PAGE_SIZE));
        // Links keep the state, drop paging when the filters change.
        assert_eq!(
            q.without("country", "PY"),
            "/?q=registro+civil&country=BO&year=2016..&ui=es"
        );
        assert!(q.at_page(4).ends_with("&ui=es&page=4"));
        assert!(q.with("year", "2018").contains("year=2018"));
        assert!(!q.with("year", "2018").contains("2016"));
        // A value in another form than the facets list it (`bo`) is
        // ticked and removable as theirs (`BO`).
        assert!(q.has("country", "BO"));
        assert_eq!(
            q.without("country", "BO"),
            "/?q=registro+civil&country=PY&year=2016..&ui=es"
        );
    }

    #[test]
    fn bad_values_are_errors_not_guesses() {
        for bad in [
            ("page", "0"),
            ("page", "x"),
            ("year", "20x8"),
            ("colour", "red"),
        ] {
            let (_, req) = PageQuery::parse(&pairs(&[bad]), UiLang::Ko);
            assert!(req.is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_web_links_are_links() {
        assert_eq!(
            web_url("https://mois.go.kr/x"),
            Some("https://mois.go.kr/x")
        );
        assert_eq!(web_url("javascript:alert(1)"), None);
        assert_eq!(web_url("/home/corpus/file.pdf"), None);
        assert_eq!(flag("PY"), "🇵🇾");
        assert_eq!(flag("p1"), "");
    }
}
