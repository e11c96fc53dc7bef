//! The search page: the form, the facets and charts, what the query
//! was understood as, the result cards and the pages.

use maud::{Markup, PreEscaped, html};

use crate::core::facet::{Facet, Kind, doc_type_label};
use crate::core::relevance::{Matched, MatchedBy, Strength};
use crate::engine::Engine;
use crate::enrich::UiLang;
use crate::index::search::{FacetValue, Hit, MAX_OFFSET, SearchResponse, Version};
use crate::server::text::{Text, text};

use super::*;

/// The search box and its options; the match select (words and meaning,
/// words, meaning) only when the engine has an embedding model.
pub(super) fn search_form(t: &Text, q: &PageQuery, sort: Option<&str>, meaning: bool) -> Markup {
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

pub(super) fn facet_group(t: &Text, q: &PageQuery, facet: Facet, values: &[FacetValue]) -> Markup {
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
pub(super) fn year_group(t: &Text, q: &PageQuery, values: &[FacetValue]) -> Markup {
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

pub(super) fn filters_aside(t: &Text, q: &PageQuery, r: &SearchResponse) -> Markup {
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
pub(super) fn filter_label(r: &SearchResponse, name: &str, value: &str) -> String {
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

pub(super) fn active_filters(t: &Text, q: &PageQuery, r: &SearchResponse) -> Markup {
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

pub(super) fn understood(t: &Text, q: &PageQuery, r: &SearchResponse, engine: &Engine) -> Markup {
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
pub(super) fn badges(
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

pub(super) fn hit_card(t: &Text, q: &PageQuery, site: &Site, i: usize, h: &Hit) -> Markup {
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
pub(super) fn versions(t: &Text, ui: UiLang, versions: &[Version]) -> Markup {
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
pub(super) fn languages(t: &Text, ui: UiLang, languages: &[Version]) -> Markup {
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
pub(super) fn why(t: &Text, engine: &Engine, ui: UiLang, m: &Matched) -> Markup {
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
pub(super) fn last_page(total: usize) -> usize {
    total.div_ceil(PAGE_SIZE).min(MAX_OFFSET / PAGE_SIZE + 1)
}

pub(super) fn pagination(t: &Text, q: &PageQuery, total: usize) -> Markup {
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
