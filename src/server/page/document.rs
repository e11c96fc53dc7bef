//! A document's page: its facts, its text read at the matches, its
//! other versions and languages, the Cite box, related documents.

use maud::{Markup, html};

use crate::core::facet::Facet;
use crate::document::Document;
use crate::enrich::UiLang;
use crate::index::search::{Hit, Version};
use crate::semantic::passages::Span;
use crate::server::text::{Text, text};

use super::*;

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
pub(super) fn facts(ui: UiLang, d: &Document, around: &Around, site: &Site) -> Markup {
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
pub(super) fn body_text(
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
