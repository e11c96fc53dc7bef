//! HTML: the main content without navigation, headers, footers, scripts,
//! comments and repeated blocks. The content root is the first of `<main>`,
//! `<article>`, `[role=main]` and the usual board-view containers that holds
//! real text, else `<body>`; inside it, page furniture (navigation, menus,
//! share buttons, forms, hidden copies) is skipped by element and by class
//! or id; block elements become paragraphs; a paragraph seen before (a
//! mobile copy of the body, a repeated notice) is dropped, and so are the
//! lines `board` knows as furniture and what precedes the headline.
//!
//! Boards need no profile: the title and the date are looked for where
//! boards put them (labelled cells and lines, headings, title-marked
//! elements, the lines around the headline), never taking the board's or
//! the site's name for the item's (docs/importing.md).

use scraper::{ElementRef, Html, Node, Selector};

use super::{Extracted, board};

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
    if v.attr("style").is_some_and(|st| {
        let st: String = st.chars().filter(|c| !c.is_whitespace()).collect();
        st.to_ascii_lowercase().contains("display:none")
    }) {
        return true;
    }
    class_words(e)
        .any(|m| SKIP_MARKS.contains(&m.as_str()) || SKIP_INSIDE.iter().any(|s| m.contains(s)))
}

/// The words of an element's class and id, lower case (`board_view` and
/// `view-cont` are two words each).
fn class_words<'a>(e: &ElementRef<'a>) -> impl Iterator<Item = String> + 'a {
    let v = e.value();
    v.attr("class")
        .into_iter()
        .chain(v.attr("id"))
        .flat_map(|s| s.split(|c: char| c.is_whitespace() || c == '_' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
}

/// Class or id words that mark furniture inside a longer word too
/// (`leftmenu`, `topnavi`, `sub_location`).
const SKIP_INSIDE: &[&str] = &[
    "menu",
    "navi",
    "breadcrumb",
    "sidebar",
    "footer",
    "location",
];

/// Class or id words of an element that holds an item's title
/// (`<p class="subject">`, `<div class="view_tit">`, `.entry-title`).
const TITLE_MARKS: &[&str] = &[
    "subject", "title", "tit", "headline", "heading", "titulo", "titular", "subj",
];

/// Headings (h1-h4) and elements marked as titles, in document order,
/// outside the page's furniture; at most [`MAX_DEPTH`] deep.
fn title_candidates(root: ElementRef) -> Vec<String> {
    let mut out = Vec::new();
    // (element, depth, inside an article or the main content)
    let mut stack = vec![(root, 0usize, false)];
    while let Some((e, depth, in_content)) = stack.pop() {
        let v = e.value();
        // An article's own header holds its headline: only the page's is
        // furniture.
        let article_header = in_content
            && (v.name() == "header" || v.attr("class").is_some_and(|c| c.contains("header")));
        if skipped(&e) && !article_header {
            continue;
        }
        let heading = matches!(v.name(), "h1" | "h2" | "h3" | "h4");
        let marked = !heading && class_words(&e).any(|w| TITLE_MARKS.contains(&w.as_str()));
        // A marked container of a heading (`<header class="post-title">`
        // around the h1 and the date line) is looked into instead.
        let container = marked
            && e.descendants()
                .take(65)
                .filter_map(ElementRef::wrap)
                .any(|d| matches!(d.value().name(), "h1" | "h2" | "h3" | "h4"));
        if (heading || (marked && !container))
            && let Some(t) = short_text(e).filter(|t| !t.is_empty())
        {
            out.push(t);
            continue;
        }
        if depth < MAX_DEPTH {
            let inside = in_content || matches!(v.name(), "article" | "main");
            let children: Vec<ElementRef> = e.children().filter_map(ElementRef::wrap).collect();
            stack.extend(children.into_iter().rev().map(|c| (c, depth + 1, inside)));
        }
    }
    out
}

/// Text of an element as paragraphs. A paragraph that is mostly link text
/// (a menu, a list of other news) is not content and is left out.
fn paragraphs(root: ElementRef) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = Para::default();
    walk(root, &mut out, &mut current, 0);
    flush(&mut out, &mut current);
    out
}

/// Elements nested deeper than this are read as plain text: a page of
/// 100,000 nested `<span>`s must not overflow the stack.
const MAX_DEPTH: usize = 200;

/// A paragraph being read, and how much of it is inside links.
#[derive(Default)]
struct Para {
    text: String,
    linked: usize,
}

fn flush(out: &mut Vec<String>, current: &mut Para) {
    let p = board::normalise(&current.text);
    let chars = p.chars().count();
    // Link text: bytes of it, against the paragraph's without its spaces.
    let own: usize = current.text.split_whitespace().map(str::len).sum();
    let links = own > 0 && current.linked * 10 >= own * 7;
    if !(p.is_empty() || links && chars < 300) {
        out.push(p);
    }
    current.text.clear();
    current.linked = 0;
}

fn walk(e: ElementRef, out: &mut Vec<String>, current: &mut Para, depth: usize) {
    if depth >= MAX_DEPTH {
        // The tree's own traversal, without recursion.
        for t in e.text() {
            current.text.push_str(t);
        }
        return;
    }
    for child in e.children() {
        match child.value() {
            Node::Text(t) => current.text.push_str(t),
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
                    current.text.push(' ');
                }
                if name == "a" {
                    let before = current.text.len();
                    walk(child_el, out, current, depth + 1);
                    let added = current.text.get(before..).unwrap_or("");
                    current.linked += added.split_whitespace().map(str::len).sum::<usize>();
                } else {
                    walk(child_el, out, current, depth + 1);
                }
                if block {
                    flush(out, current);
                } else if matches!(name, "td" | "th" | "span" | "a") {
                    current.text.push(' ');
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
        .map(board::normalise)
        .find(|c| !c.is_empty())
}

fn first_text(doc: &Html, root: Option<ElementRef>, css: &str) -> Option<String> {
    let sel = selector(css)?;
    let found = match root {
        Some(r) => r.select(&sel).next(),
        None => doc.select(&sel).next(),
    }?;
    let t = board::normalise(&found.text().collect::<Vec<_>>().join(" "));
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
    let lang = selector("html")
        .and_then(|s| doc.select(&s).next())
        .and_then(|h| h.value().attr("lang"))
        .and_then(|l| l.split(['-', '_']).next())
        .map(|l| l.trim().to_ascii_lowercase())
        .filter(|l| matches!(l.len(), 2 | 3) && l.bytes().all(|b| b.is_ascii_alphabetic()));
    let fields = labelled_fields(&doc);
    // The whole page's paragraphs, read once if a fallback needs them.
    let body = selector("body").and_then(|b| doc.select(&b).next());
    let all = std::cell::OnceCell::new();
    let page = || -> &[String] { all.get_or_init(|| body.map(paragraphs).unwrap_or_default()) };
    let title = title(&doc, body, &fields, &page);
    let published = published(&doc, root, &fields, lang.as_deref())
        .or_else(|| date_near_title(page(), &title, lang.as_deref()));
    let body = root
        .map(|r| content(dedupe(paragraphs(r)), &title))
        .unwrap_or_default();
    Extracted {
        title,
        body: body.join("\n\n"),
        lang,
        published,
        ..Extracted::default()
    }
}

/// The content's paragraphs: furniture out (`board`), and what comes
/// before the headline when the content opens with it (the board's name,
/// a breadcrumb, the date line), the headline too.
fn content(paragraphs: Vec<String>, title: &str) -> Vec<String> {
    let title = board::normalise(title);
    // What precedes the headline is furniture when it is short: a board's
    // name, a breadcrumb, a date line; not a body.
    let start = paragraphs
        .iter()
        .take(12)
        .position(|p| !title.is_empty() && *p == title)
        .filter(|&i| {
            paragraphs[..i]
                .iter()
                .map(|p| p.chars().count())
                .sum::<usize>()
                < 400
        })
        .map_or(0, |i| i + 1);
    paragraphs
        .into_iter()
        .skip(start)
        .filter(|p| !board::is_furniture(p) && !board::is_board_name(p) && *p != title)
        .collect()
}

/// Elements looked at for labels, at most.
const MAX_LABELLED: usize = 5_000;

/// An element's text, whitespace collapsed, when it is small (a label, a
/// cell): `None` past 64 nodes.
fn short_text(e: ElementRef) -> Option<String> {
    let mut out = String::new();
    for (i, n) in e.descendants().enumerate() {
        if i > 64 {
            return None;
        }
        if let Node::Text(t) = n.value() {
            out.push_str(t);
        }
    }
    Some(board::normalise(&out))
}

/// Labelled fields of the page, in order: a `th`/`dt` label and the cell
/// after it, an element holding only a label and the element after it,
/// and a short element that opens with a label (`Date : 2019.05.14`).
/// Each as (label's text lower-cased, value).
fn labelled_fields(doc: &Html) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(all) = selector("th, dt, li, span, p, div, em, strong, td, dd, b, label") else {
        return out;
    };
    let labels: Vec<&str> = board::DATE_LABELS
        .iter()
        .chain(board::TITLE_LABELS)
        .copied()
        .collect();
    // Labels sit in small elements: a few thousand of them, of a few
    // dozen nodes each, bound the work on any page.
    for e in doc.select(&all).take(MAX_LABELLED) {
        let Some(text) = short_text(e) else {
            continue;
        };
        if text.is_empty() || text.chars().count() > 160 {
            continue;
        }
        // One element may hold several fields: `작성자 : 홍보실 | 등록일 :
        // 2014-06-25 | 조회 : 1024`.
        let segments: Vec<&str> = text.split(['|', '│', '·']).map(str::trim).collect();
        let whole = segments.len() == 1;
        for segment in segments {
            let Some((head, rest)) = board::after_label(segment, &labels) else {
                continue;
            };
            let label = head.trim_end_matches([':', '：', ' ']).to_lowercase();
            // "Title IX reforms" is a heading, not a label: a title label
            // is a cell of its own or followed by a colon.
            let cell = matches!(
                e.value().name(),
                "th" | "td" | "dt" | "label" | "strong" | "b" | "span" | "em"
            );
            if board::TITLE_LABELS.contains(&label.as_str())
                && !head.contains([':', '：'])
                && !(rest.is_empty() && cell && whole)
            {
                continue;
            }
            let value = if rest.is_empty() && whole {
                // The label alone: its value is the next element.
                e.next_siblings()
                    .find_map(ElementRef::wrap)
                    .and_then(short_text)
                    .unwrap_or_default()
            } else {
                rest.to_string()
            };
            if !value.is_empty() {
                out.push((label, value));
            }
        }
    }
    out
}

/// The item's title, from the most to the least telling place: a
/// labelled title cell (제목, Title, Asunto); `og:title` when the page
/// shows it as a heading; the first heading or title-marked element
/// (`.subject`, `.view_tit`) of a headline's length; `og:title` of a
/// headline's length; the block just before the date line; any heading;
/// the first part of `<title>`. Never the board's or the site's name,
/// which `og:title` and `<title>` lose when they carry them too.
fn title<'p>(
    doc: &Html,
    body: Option<ElementRef>,
    fields: &[(String, String)],
    page: &dyn Fn() -> &'p [String],
) -> String {
    let page_title = first_text(doc, None, "title").unwrap_or_default();
    let parts: Vec<String> = split_title(&page_title);
    let site = meta(doc, r#"meta[property="og:site_name"]"#);
    let menus = menu_texts(doc);
    // The board's or the site's name, not an item's.
    let furniture = |t: &str| {
        let t = board::normalise(t);
        t.is_empty()
            || board::is_board_name(&t)
            || board::is_furniture(&t)
            || site.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(&t))
            || menus.contains(&t.to_lowercase())
            || (parts.len() > 1 && parts[1..].iter().any(|p| p.eq_ignore_ascii_case(&t)))
    };
    // "Headline - Site": the parts that are not furniture, the first.
    let own_part = |t: &str| -> Option<String> {
        let kept: Vec<String> = split_title(t)
            .into_iter()
            .filter(|p| !furniture(p))
            .collect();
        kept.into_iter().next()
    };
    let headline = |t: &&String| t.split_whitespace().count() >= 3 || t.chars().count() >= 15;
    let labelled = fields.iter().find_map(|(label, value)| {
        board::TITLE_LABELS
            .contains(&label.as_str())
            .then(|| value.clone())
    });
    let candidates: Vec<String> = body
        .map(title_candidates)
        .unwrap_or_default()
        .into_iter()
        .filter(|t| !furniture(t))
        .collect();
    let og = meta(doc, r#"meta[property="og:title"]"#).and_then(|t| own_part(&t));
    let shown = og.clone().filter(|t| candidates.contains(t));
    labelled
        .filter(|t| !furniture(t))
        .or(shown)
        .or_else(|| candidates.iter().find(headline).cloned())
        .or_else(|| og.filter(|t| headline(&t)))
        .or_else(|| before_date_line(page(), &furniture))
        .or_else(|| candidates.first().cloned())
        .or_else(|| own_part(&page_title))
        .unwrap_or(page_title)
}

/// The block just before the page's date line (`작성자 : … | 등록일
/// 2019.05.14 | 조회 57`): where boards that mark nothing put the
/// headline.
fn before_date_line(paras: &[String], furniture: &dyn Fn(&str) -> bool) -> Option<String> {
    let line = paras.iter().position(|p| {
        board::is_furniture(p)
            && board::DATE_LABELS
                .iter()
                .any(|l| p.to_lowercase().contains(l))
            && crate::dates::find_date(p).is_some()
    })?;
    paras[line.saturating_sub(3)..line]
        .iter()
        .rev()
        .find(|p| !furniture(p) && (8..=200).contains(&p.chars().count()))
        .cloned()
}

/// `<title>` split at the separators sites put between the item, the
/// board and the site: "보도자료 | 행정안전부", "Título - Noticias - Ministerio".
fn split_title(t: &str) -> Vec<String> {
    let mut parts = vec![board::normalise(t)];
    for sep in [" | ", " - ", " – ", " — ", " :: ", " < ", " > ", " : "] {
        parts = parts
            .iter()
            .flat_map(|p| p.split(sep).map(str::to_string).collect::<Vec<_>>())
            .collect();
    }
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The texts of the page's menus (lower case): a heading that repeats one
/// is the board's name.
fn menu_texts(doc: &Html) -> std::collections::HashSet<String> {
    let Some(sel) = selector(
        "nav a, header a, [class*=menu] a, [class*=gnb] a, [class*=lnb] a, [id*=menu] a, [class*=nav] a",
    ) else {
        return Default::default();
    };
    doc.select(&sel)
        .map(|a| board::normalise(&a.text().collect::<String>()).to_lowercase())
        .filter(|t| !t.is_empty() && t.chars().count() <= 40)
        .collect()
}

/// A date alone in a short line just after (or before) the headline
/// ("Lunes 14 de junio de 2021", "Panamá, 28 de abril de 2022"): where
/// boards that label nothing put the date.
fn date_near_title(paras: &[String], title: &str, lang: Option<&str>) -> Option<chrono::NaiveDate> {
    let title = board::normalise(title);
    let at = paras.iter().position(|p| *p == title)?;
    let after = paras[at + 1..].iter().take(4);
    let before = paras[at.saturating_sub(3)..at].iter().rev();
    after
        .chain(before)
        .filter(|p| p.chars().count() <= 80)
        .find_map(|p| board::labelled_date(p, lang))
}

/// The item's date: the page's metadata, else a labelled date (등록일,
/// Date, Fecha, Posted on), else the first `<time datetime>` of the
/// content, else of the page.
fn published(
    doc: &Html,
    root: Option<ElementRef>,
    fields: &[(String, String)],
    lang: Option<&str>,
) -> Option<chrono::NaiveDate> {
    let iso = |d: &str| {
        d.get(..10)
            .and_then(|day| chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
            .filter(|d| crate::dates::plausible(chrono::Datelike::year(d)))
    };
    let time = |scope: Option<ElementRef>| {
        let sel = selector("time[datetime]")?;
        let mut found = match scope {
            Some(r) => r.select(&sel).collect::<Vec<_>>(),
            None => doc.select(&sel).collect(),
        };
        found.retain(|t| t.value().attr("datetime").and_then(iso).is_some());
        found
            .first()
            .and_then(|t| t.value().attr("datetime"))
            .and_then(iso)
    };
    meta(doc, r#"meta[property="article:published_time"]"#)
        .or_else(|| meta(doc, r#"meta[name="date"]"#))
        .or_else(|| meta(doc, r#"meta[name="DC.date"]"#))
        .and_then(|d| iso(&d).or_else(|| crate::dates::find_date(&d)))
        .or_else(|| {
            fields.iter().find_map(|(label, value)| {
                board::DATE_LABELS
                    .contains(&label.as_str())
                    .then(|| board::labelled_date(value, lang))
                    .flatten()
            })
        })
        .or_else(|| time(root))
        .or_else(|| time(None))
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
    let text_of = |css: &str| first_text(&doc, None, css);
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

/// File extensions of attachments worth reading.
const FILE_EXTENSIONS: &[&str] = &[".pdf", ".hwp", ".hwpx", ".pptx", ".docx"];
/// Download handlers boards use instead of file URLs (`FileDown.do?…`),
/// lower case.
const DOWNLOAD_MARKS: &[&str] = &[
    "filedown",
    "file_down",
    "download.do",
    "downloadfile",
    "/download/",
    "atchfileid",
    "fileid=",
    "wp-content/uploads/",
];

/// Links to files on a page, found without a selector: an `href` that
/// names a file (`.pdf`, `.hwp`, `.hwpx`, `.pptx`, `.docx`, before any
/// query), a download handler (`FileDown.do?atchFileId=…`), or a link
/// whose text is such a file's name. Links in the page's furniture (menus,
/// headers, footers, sidebars, related lists: what the body leaves out)
/// are left out.
pub fn file_links(text: &str) -> Vec<Link> {
    let doc = Html::parse_document(text);
    let Some(sel) = selector("a[href]") else {
        return Vec::new();
    };
    let names_file = |s: &str| {
        let s = s.to_ascii_lowercase();
        let path = s.split(['?', '#']).next().unwrap_or(&s);
        FILE_EXTENSIONS.iter().any(|e| path.ends_with(e))
    };
    doc.select(&sel)
        .filter(|a| {
            !a.ancestors()
                .filter_map(ElementRef::wrap)
                .any(|p| skipped(&p))
        })
        .filter_map(|a| {
            let href = a.value().attr("href")?.trim().to_string();
            let lower = href.to_ascii_lowercase();
            let link_text = board::normalise(&a.text().collect::<String>());
            let wanted = !lower.starts_with("javascript:")
                && !lower.starts_with("mailto:")
                && (names_file(&href)
                    || DOWNLOAD_MARKS.iter().any(|m| lower.contains(m))
                    || names_file(&link_text));
            wanted.then(|| Link {
                href: Some(href),
                onclick: a.value().attr("onclick").map(str::to_string),
                text: link_text,
            })
        })
        .collect()
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
                text: board::normalise(&e.text().collect::<Vec<_>>().join(" ")),
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
        // The department's cell is the board's furniture, not content.
        for junk in [
            "메뉴",
            "Home",
            "Copyright",
            "Facebook",
            "editor",
            "var x",
            "국제협력과",
        ] {
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
