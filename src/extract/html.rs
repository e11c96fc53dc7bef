//! HTML: the main content without navigation, headers, footers, scripts,
//! comments and repeated blocks. The content root is the first of `<main>`,
//! `<article>`, `[role=main]` and the usual board-view containers that holds
//! real text, else `<body>`; inside it, page furniture (navigation, menus,
//! share buttons, forms) is skipped by element and by class or id; block
//! elements become paragraphs; a paragraph seen before (a mobile copy of
//! the body, a repeated notice) is dropped.

use scraper::{ElementRef, Html, Node, Selector};

use super::Extracted;

/// Content roots, most specific first.
const ROOTS: &[&str] = &[
    "main",
    "article",
    "[role=main]",
    ".board_view",
    ".bbs_view",
    ".view_cont",
    ".view_content",
    ".board-view",
    ".entry-content",
    ".post-content",
    "#content",
    "#contents",
    ".content",
    ".contents",
];
/// A root must hold at least this much text to be taken for the content.
const MIN_ROOT_CHARS: usize = 80;

/// Elements that are never content.
const SKIP_ELEMENTS: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "iframe", "svg", "button", "select", "option", "textarea", "input", "object", "embed",
    "canvas", "map", "dialog", "menu",
];
/// Class or id words that mark page furniture.
const SKIP_MARKS: &[&str] = &[
    "nav",
    "gnb",
    "lnb",
    "snb",
    "menu",
    "breadcrumb",
    "footer",
    "header",
    "sns",
    "share",
    "skip",
    "banner",
    "sidebar",
    "quick",
    "util",
    "pagination",
    "paging",
    "comment",
    "related",
    "print",
    "blind",
    "sr-only",
    "visually-hidden",
    "cookie",
];
/// Elements that end a paragraph.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "section",
    "article",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "dl",
    "figure",
    "figcaption",
    "address",
    "main",
    "hr",
    "tbody",
    "thead",
];

fn selector(s: &str) -> Option<Selector> {
    Selector::parse(s).ok()
}

/// Whether an element is furniture by its name, class or id.
fn skipped(e: &ElementRef) -> bool {
    let v = e.value();
    if SKIP_ELEMENTS.contains(&v.name()) || v.attr("hidden").is_some() {
        return true;
    }
    if v.attr("aria-hidden") == Some("true") {
        return true;
    }
    let marks = v
        .attr("class")
        .into_iter()
        .chain(v.attr("id"))
        .flat_map(|s| s.split(|c: char| c.is_whitespace() || c == '_' || c == '-'))
        .map(str::to_ascii_lowercase);
    for m in marks {
        if SKIP_MARKS.contains(&m.as_str()) {
            return true;
        }
    }
    false
}

/// Text of an element as paragraphs.
fn paragraphs(root: ElementRef) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    walk(root, &mut out, &mut current, 0);
    flush(&mut out, &mut current);
    out
}

/// Elements nested deeper than this are read as plain text: a page of
/// 100,000 nested `<span>`s must not overflow the stack.
const MAX_DEPTH: usize = 200;

fn flush(out: &mut Vec<String>, current: &mut String) {
    let p = current.split_whitespace().collect::<Vec<_>>().join(" ");
    if !p.is_empty() {
        out.push(p);
    }
    current.clear();
}

fn walk(e: ElementRef, out: &mut Vec<String>, current: &mut String, depth: usize) {
    if depth >= MAX_DEPTH {
        // The tree's own traversal, without recursion.
        for t in e.text() {
            current.push_str(t);
        }
        return;
    }
    for child in e.children() {
        match child.value() {
            Node::Text(t) => current.push_str(t),
            Node::Element(el) => {
                let Some(child_el) = ElementRef::wrap(child) else {
                    continue;
                };
                if skipped(&child_el) {
                    continue;
                }
                let name = el.name();
                if name == "br" {
                    flush(out, current);
                    continue;
                }
                let block = BLOCKS.contains(&name);
                if block {
                    flush(out, current);
                } else if matches!(name, "td" | "th") {
                    current.push(' ');
                }
                walk(child_el, out, current, depth + 1);
                if block {
                    flush(out, current);
                } else if matches!(name, "td" | "th" | "span" | "a") {
                    current.push(' ');
                }
            }
            // Comments (editors hide kilobytes of JSON in them), doctype,
            // processing instructions: never text.
            _ => {}
        }
    }
}

/// Drop paragraphs seen before (a mobile copy of the body, a repeated
/// block), keeping the first.
fn dedupe(paragraphs: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    paragraphs
        .into_iter()
        .filter(|p| p.chars().count() < 20 || seen.insert(p.clone()))
        .collect()
}

fn meta(doc: &Html, css: &str) -> Option<String> {
    let sel = selector(css)?;
    doc.select(&sel)
        .filter_map(|e| e.value().attr("content"))
        .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|c| !c.is_empty())
}

fn first_text(doc: &Html, root: Option<ElementRef>, css: &str) -> Option<String> {
    let sel = selector(css)?;
    let found = match root {
        Some(r) => r.select(&sel).next(),
        None => doc.select(&sel).next(),
    }?;
    let t = found.text().collect::<Vec<_>>().join(" ");
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

/// The content root: the first candidate holding real text, else `<body>`.
fn content_root(doc: &Html) -> Option<ElementRef<'_>> {
    for css in ROOTS {
        let Some(sel) = selector(css) else { continue };
        for e in doc.select(&sel) {
            if skipped(&e) {
                continue;
            }
            let chars: usize = paragraphs(e).iter().map(|p| p.chars().count()).sum();
            if chars >= MIN_ROOT_CHARS {
                return Some(e);
            }
        }
    }
    selector("body").and_then(|s| doc.select(&s).next())
}

/// Extract an HTML page (already decoded).
pub fn extract(text: &str) -> Extracted {
    let doc = Html::parse_document(text);
    let root = content_root(&doc);
    let body = root.map(|r| dedupe(paragraphs(r))).unwrap_or_default();
    // A page title like "Title | Site" names the site too: a heading of
    // the content is then the better title.
    let page_title = first_text(&doc, None, "title");
    let names_site = page_title.as_deref().is_some_and(|t| {
        [" | ", " - ", " :: ", " < ", " > "]
            .iter()
            .any(|s| t.contains(s))
    });
    let title = meta(&doc, r#"meta[property="og:title"]"#)
        .or_else(|| first_text(&doc, root, "h1"))
        .or_else(|| {
            names_site
                .then(|| first_text(&doc, root, "h2, h3, h4"))
                .flatten()
        })
        .or(page_title)
        .or_else(|| first_text(&doc, root, "h2, h3, h4"))
        .unwrap_or_default();
    let lang = selector("html")
        .and_then(|s| doc.select(&s).next())
        .and_then(|h| h.value().attr("lang"))
        .and_then(|l| l.split(['-', '_']).next())
        .map(|l| l.trim().to_ascii_lowercase())
        .filter(|l| matches!(l.len(), 2 | 3) && l.bytes().all(|b| b.is_ascii_alphabetic()));
    let published = meta(&doc, r#"meta[property="article:published_time"]"#)
        .or_else(|| meta(&doc, r#"meta[name="date"]"#))
        .or_else(|| meta(&doc, r#"meta[name="DC.date"]"#))
        .and_then(|d| {
            // ISO 8601 (`2019-09-23T10:00:00-03:00`), else any written date.
            d.get(..10)
                .and_then(|day| chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
                .or_else(|| crate::dates::find_date(&d))
        });
    // The title often opens the body too: keep the body as written.
    Extracted {
        title,
        body: body.join("\n\n"),
        pages: Vec::new(),
        lang,
        published,
    }
}

/// Selectors a source profile gives for its detail pages.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selectors<'a> {
    pub title: Option<&'a str>,
    pub date: Option<&'a str>,
    pub body: Option<&'a str>,
}

/// Extract with a profile's selectors where they match, the generic rules
/// where they do not. `date_formats`: chrono formats tried on the date
/// element's text before the general date finder. The second value says
/// whether the body selector matched (a profile whose selectors stop
/// matching means the site changed).
pub fn extract_with(text: &str, sel: &Selectors, date_formats: &[String]) -> (Extracted, bool) {
    let mut x = extract(text);
    let doc = Html::parse_document(text);
    let text_of = |css: &str| -> Option<String> {
        let s = selector(css)?;
        let e = doc.select(&s).next()?;
        let t = e.text().collect::<Vec<_>>().join(" ");
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        (!t.is_empty()).then_some(t)
    };
    if let Some(t) = sel.title.and_then(text_of) {
        x.title = t;
    }
    if let Some(d) = sel.date.and_then(text_of) {
        let parsed = date_formats
            .iter()
            .find_map(|f| chrono::NaiveDate::parse_from_str(d.trim().trim_end_matches('.'), f).ok())
            .or_else(|| crate::dates::find_date(&d));
        if parsed.is_some() {
            x.published = parsed;
        }
    }
    let mut matched = sel.body.is_none();
    if let Some(css) = sel.body
        && let Some(s) = selector(css)
    {
        let paras: Vec<String> = doc.select(&s).flat_map(paragraphs).collect();
        if !paras.is_empty() {
            x.body = dedupe(paras).join("\n\n");
            matched = true;
        }
    }
    (x, matched)
}

/// A link found by a selector: its `href` and `onclick`, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub href: Option<String>,
    pub onclick: Option<String>,
    pub text: String,
}

/// The links (or any elements) `css` selects. `None`: the selector is not
/// valid CSS.
pub fn links(text: &str, css: &str) -> Option<Vec<Link>> {
    let s = selector(css)?;
    let doc = Html::parse_document(text);
    Some(
        doc.select(&s)
            .map(|e| Link {
                href: e.value().attr("href").map(str::to_string),
                onclick: e.value().attr("onclick").map(str::to_string),
                text: e
                    .text()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_content_without_furniture_comments_or_repeats() {
        let page = r#"<!DOCTYPE html><html lang="ko-KR"><head><title>보도자료 | 행정안전부</title>
            <script>var x = 1;</script><style>p{}</style></head><body>
            <header><ul class="gnb"><li>메뉴</li></ul></header>
            <nav>Home &gt; News</nav>
            <div id="container"><div class="board_view">
              <h3 class="title">행정안전부, 파라과이와 주민등록 협력</h3>
              <!-- {"editor": "junk", "data": [1,2,3,4,5,6,7,8,9]} -->
              <div class="view_cont">
                <p>행정안전부는 파라과이 정부와 주민등록 제도 협력을 논의했다.</p>
                <p>양국은 전자정부 분야에서 협력하기로 했다.<br>자세한 내용은 첨부 파일을 참고.</p>
                <table><tr><td>담당</td><td>국제협력과</td></tr></table>
              </div>
              <div class="mobile_view">
                <p>행정안전부는 파라과이 정부와 주민등록 제도 협력을 논의했다.</p>
                <p>양국은 전자정부 분야에서 협력하기로 했다.</p>
              </div>
              <div class="sns_share"><a href="/share">Facebook</a></div>
            </div></div>
            <footer>Copyright MOIS</footer></body></html>"#;
        let x = extract(page);
        assert_eq!(x.lang.as_deref(), Some("ko"));
        assert_eq!(x.title, "행정안전부, 파라과이와 주민등록 협력");
        assert!(x.body.contains("파라과이 정부와 주민등록"), "{}", x.body);
        assert_eq!(x.body.matches("파라과이 정부와").count(), 1, "{}", x.body);
        assert!(x.body.contains("담당 국제협력과"), "{}", x.body);
        for junk in ["메뉴", "Home", "Copyright", "Facebook", "editor", "var x"] {
            assert!(!x.body.contains(junk), "{junk} in {}", x.body);
        }
        assert!(
            x.body.contains("협력하기로 했다.\n\n자세한 내용은"),
            "{}",
            x.body
        );
    }

    #[test]
    fn title_from_og_then_h1_and_dates_from_meta() {
        let page = r#"<html><head><title>Noticias - Ministerio</title>
            <meta property="og:title" content="Paraguay  presentó su cédula electrónica">
            <meta property="article:published_time" content="2019-09-23T10:00:00-03:00">
            </head><body><main><h1>Otro</h1><p>El registro civil de Paraguay presentó la cédula de identidad electrónica en Asunción.</p></main></body></html>"#;
        let x = extract(page);
        assert_eq!(x.title, "Paraguay presentó su cédula electrónica");
        assert_eq!(
            x.published.map(|d| d.to_string()).as_deref(),
            Some("2019-09-23")
        );
        assert!(
            x.body.starts_with("Otro\n\nEl registro civil"),
            "{}",
            x.body
        );
    }

    #[test]
    fn deep_nesting_is_read_without_overflowing_the_stack() {
        let depth = 100_000;
        let page = format!(
            "<html><body><p>Intro.</p>{}deep text{}</body></html>",
            "<span>".repeat(depth),
            "</span>".repeat(depth)
        );
        let x = extract(&page);
        assert!(x.body.contains("Intro."), "{}", x.body);
        assert!(x.body.contains("deep text"), "{}", x.body);
    }

    #[test]
    fn broken_html_still_gives_text() {
        let x = extract("<p>Resident registration <b>in <i>Peru</p><div><td>cell");
        assert!(
            x.body.contains("Resident registration in Peru"),
            "{}",
            x.body
        );
        let x = extract("");
        assert!(x.body.is_empty() && x.title.is_empty());
    }
}
