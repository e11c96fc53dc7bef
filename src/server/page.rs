//! The web page: server-rendered HTML (maud escapes every spliced string)
//! that works without JavaScript. A search form whose facet checkboxes,
//! year range and sort travel as ordinary URL parameters, result cards,
//! pagination, and a document page with its text and related documents.

mod charts;
mod cite;
mod document;
mod matches;
mod query;
mod results;

use maud::{DOCTYPE, Markup, html};

use super::text::{Text, text};
use crate::core::facet::Facet;
use crate::engine::Engine;
use crate::enrich::UiLang;

pub use document::*;
pub use query::*;
pub use results::*;

/// Results per page.
pub const PAGE_SIZE: usize = 10;

/// Facet values shown before "More".
const FACET_SHOWN: usize = 8;

/// The parameters of the facets the page draws apart: the year (a range
/// of two fields, a chart) and the country (flags, a chart).
const YEAR: &str = Facet::Year.spec().param;

const COUNTRY: &str = Facet::Country.spec().param;

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

/// The search page with its results.
/// What the pages are rendered with: the vocabularies' labels, and where
/// the corpus's own files are (served at `/original/{id}`).
pub struct Site<'a> {
    pub engine: &'a Engine,
    pub originals: Option<&'a std::path::Path>,
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
