//! The document page's "Cite" box: a reference in the interface language
//! and a BibTeX entry (as `/api/export` writes one), each with the
//! document's permalink and the date it was read.

use chrono::NaiveDate;
use maud::{Markup, html};

use super::super::export::Format;
use super::super::text::Text;
use super::urlencode_path;
use crate::core::snippet::Highlighted;
use crate::document::Document;
use crate::enrich::UiLang;
use crate::index::search::Hit;

/// The box for `d`, its permalink under `base`, read on `today`.
pub fn cite(t: &Text, ui: UiLang, d: &Document, base: &str, today: NaiveDate) -> Markup {
    let permalink = format!("{base}/doc/{}", urlencode_path(&d.id));
    let date = d
        .published
        .map_or_else(|| t.undated.to_string(), |p| p.to_string());
    let reference = match ui {
        UiLang::En => format!("{}. {date}. {permalink} (accessed {today}).", d.title),
        UiLang::Es => format!("{}. {date}. {permalink} (consultado el {today}).", d.title),
        UiLang::Ko => format!("{}. {date}. {permalink} (접속일: {today}).", d.title),
    };
    let mut bibtex = Format::Bibtex.row(&as_hit(d), base);
    // The date it was read, as biblatex names it.
    if let Some(end) = bibtex.rfind("\n}") {
        bibtex.insert_str(end + 1, &format!("  urldate = {{{today}}},\n"));
    }
    html! {
        section.cite aria-labelledby="cite-heading" {
            h2 #cite-heading { (t.cite) }
            p.reference { (reference) }
            pre.bibtex { (bibtex.trim_end()) }
        }
    }
}

/// A document as a hit (what an export writes).
fn as_hit(d: &Document) -> Hit {
    Hit {
        id: d.id.clone(),
        title: d.title.clone(),
        url: d.url.clone(),
        original: None,
        file_name: d.file_name.clone(),
        source: d.source.clone(),
        doc_type: d.doc_type.as_str().to_string(),
        lang: d.lang.as_ref().map(|l| l.as_str().to_string()),
        published: d.published.map(|p| p.to_string()),
        countries: d.countries.clone(),
        topics: d.topics.clone(),
        event: d.event.clone(),
        parent: d.parent.clone(),
        score: 0.0,
        snippet: Highlighted::default(),
        page: None,
        matched: None,
        versions: Vec::new(),
        languages: Vec::new(),
    }
}
