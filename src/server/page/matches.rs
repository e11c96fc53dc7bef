//! Reading a document at its matches: the query's terms marked in the
//! document page's text (as the search's snippets mark them), each mark
//! with links to the previous and the next, and a link to the first.

use std::cell::Cell;
use std::collections::HashSet;

use maud::{Markup, PreEscaped, html};

use super::super::text::Text;
use crate::analysis::AnalyzerName;
use crate::core::snippet::{self, escape_html};
use crate::document::Document;
use crate::engine::Engine;

/// The query's terms in a document, and the count of marks drawn so far.
pub struct Marker {
    terms: HashSet<String>,
    korean: bool,
    drawn: Cell<usize>,
}

impl Marker {
    /// For `query` in `d` (none for an empty query, or without an analyzer
    /// for its language).
    pub fn new(engine: &Engine, d: &Document, query: &str) -> Option<Self> {
        if query.trim().is_empty() {
            return None;
        }
        let name = AnalyzerName::for_lang(d.lang.as_ref().map_or("", |l| l.as_str()));
        let analyzer = engine.analyzers.get(name).ok()?;
        let terms = snippet::query_terms(analyzer.as_ref(), query);
        (!terms.is_empty()).then_some(Self {
            terms,
            korean: name == AnalyzerName::Korean,
            drawn: Cell::new(0),
        })
    }

    /// How many marks the document's text has.
    pub fn count(&self, d: &Document) -> usize {
        let texts: Box<dyn Iterator<Item = &String>> = if d.pages.is_empty() {
            Box::new(std::iter::once(&d.body))
        } else {
            Box::new(d.pages.iter())
        };
        texts
            .map(|t| snippet::mark_all(t, &self.terms, self.korean).marks.len())
            .sum()
    }

    /// A paragraph, its matches marked and numbered on from the last one
    /// drawn: `<mark id="m3">`, with links to `#m2` and `#m4`.
    pub fn paragraph(&self, t: &Text, text: &str, total: usize) -> Markup {
        let h = snippet::mark_all(text, &self.terms, self.korean);
        let mut out = String::new();
        let mut at = 0;
        for &(s, e) in &h.marks {
            let n = self.drawn.get() + 1;
            self.drawn.set(n);
            out.push_str(&escape_html(&text[at..s]));
            out.push_str(&format!(
                "<mark id=\"m{n}\">{}</mark>",
                escape_html(&text[s..e])
            ));
            if n > 1 {
                out.push_str(&format!(
                    "<a class=\"to-match\" href=\"#m{}\" title=\"{}\">‹</a>",
                    n - 1,
                    escape_html(t.previous_match)
                ));
            }
            if n < total {
                out.push_str(&format!(
                    "<a class=\"to-match\" href=\"#m{}\" title=\"{}\">›</a>",
                    n + 1,
                    escape_html(t.next_match)
                ));
            }
            at = e;
        }
        out.push_str(&escape_html(&text[at..]));
        html! { p { (PreEscaped(out)) } }
    }
}

/// The line above the text: how many matches, and a link to the first.
pub fn summary(t: &Text, query: &str, total: usize) -> Markup {
    html! {
        p.matches {
            (total) " " (t.matches_of) " «" (query) "»"
            @if total > 0 { " · " a href="#m1" { (t.first_match) } }
        }
    }
}
