//! What a researcher takes away from a search: an Atom feed of its newest
//! documents (`/api/feed`), and every hit it counts as CSV, JSON Lines, RIS
//! or BibTeX (`/api/export`), written as it is read, a page of hits at a
//! time, never held whole.

use std::fmt::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::core::snippet::escape_html;
use crate::index::search::{Backend, Hit, SearchError, SearchRequest, Sort};

/// The most hits an export holds.
pub const EXPORT_CAP: usize = 10_000;
/// Entries in a feed.
pub const FEED_ENTRIES: usize = 50;
/// Hits read per search while exporting.
const CHUNK: usize = 100;

/// An export's format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Csv,
    Jsonl,
    Ris,
    Bibtex,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(Self::Csv),
            "jsonl" => Some(Self::Jsonl),
            "ris" => Some(Self::Ris),
            "bibtex" => Some(Self::Bibtex),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Jsonl => "application/jsonl; charset=utf-8",
            Self::Ris => "application/x-research-info-systems; charset=utf-8",
            Self::Bibtex => "application/x-bibtex; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
            Self::Ris => "ris",
            Self::Bibtex => "bib",
        }
    }

    /// What comes before the first hit: for CSV a byte-order mark (so that
    /// a spreadsheet reads UTF-8) and the header row.
    pub fn head(self) -> String {
        match self {
            Self::Csv => format!("\u{FEFF}{}\r\n", csv_row(&COLUMNS.map(String::from))),
            _ => String::new(),
        }
    }

    /// One hit. `base`: the server's address for permalinks.
    pub fn row(self, hit: &Hit, base: &str) -> String {
        let r = Row::of(hit, base);
        match self {
            Self::Csv => format!("{}\r\n", csv_row(&r.cells())),
            Self::Jsonl => {
                let mut line = serde_json::to_string(&r.json()).unwrap_or_default();
                line.push('\n');
                line
            }
            Self::Ris => r.ris(),
            Self::Bibtex => r.bibtex(),
        }
    }
}

const COLUMNS: [&str; 10] = [
    "title",
    "date",
    "type",
    "language",
    "countries",
    "topics",
    "url",
    "permalink",
    "page",
    "id",
];

/// A hit as an export writes it.
struct Row<'a> {
    hit: &'a Hit,
    permalink: String,
}

impl<'a> Row<'a> {
    fn of(hit: &'a Hit, base: &str) -> Self {
        let mut permalink = format!("{base}/doc/{}", super::page::urlencode_path(&hit.id));
        if let Some(p) = hit.page {
            let _ = write!(permalink, "#page-{p}");
        }
        Self { hit, permalink }
    }

    fn cells(&self) -> [String; 10] {
        let h = self.hit;
        [
            h.title.clone(),
            h.published.clone().unwrap_or_default(),
            h.doc_type.clone(),
            h.lang.clone().unwrap_or_default(),
            h.countries.join("; "),
            h.topics.join("; "),
            h.url.clone(),
            self.permalink.clone(),
            h.page.map(|p| p.to_string()).unwrap_or_default(),
            h.id.clone(),
        ]
    }

    fn json(&self) -> serde_json::Value {
        let h = self.hit;
        serde_json::json!({
            "id": h.id, "title": h.title, "date": h.published, "type": h.doc_type,
            "language": h.lang, "countries": h.countries, "topics": h.topics,
            "url": h.url, "permalink": self.permalink, "page": h.page,
        })
    }

    /// RIS: `TY` first, `ER` last, one tag a line.
    fn ris(&self) -> String {
        let h = self.hit;
        let kind = match h.doc_type.as_str() {
            "press_release" => "PRESS",
            "presentation" | "course_material" => "SLIDE",
            "report" => "RPRT",
            _ => "GEN",
        };
        let mut out = format!("TY  - {kind}\r\n");
        let mut tag = |t: &str, v: &str| {
            let v = one_line(v);
            if !v.is_empty() {
                let _ = write!(out, "{t}  - {v}\r\n");
            }
        };
        tag("TI", &h.title);
        if let Some(d) = &h.published {
            tag("DA", &d.replace('-', "/"));
            tag("PY", d.get(..4).unwrap_or(d));
        }
        tag("LA", h.lang.as_deref().unwrap_or(""));
        for k in h.countries.iter().chain(&h.topics) {
            tag("KW", k);
        }
        tag("UR", &self.permalink);
        tag("L2", &h.url);
        if let Some(p) = h.page {
            tag("SP", &p.to_string());
        }
        tag("ID", &h.id);
        out.push_str("ER  - \r\n");
        out
    }

    /// BibTeX: `@misc` (or `@techreport`), its key from the id.
    fn bibtex(&self) -> String {
        let h = self.hit;
        let kind = if h.doc_type == "report" {
            "techreport"
        } else {
            "misc"
        };
        let key: String =
            h.id.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
        let mut out = format!("@{kind}{{egovkb_{key},\n");
        let mut field = |name: &str, v: &str| {
            let v = one_line(v);
            if !v.is_empty() {
                let _ = writeln!(out, "  {name} = {{{}}},", bibtex_text(&v));
            }
        };
        field("title", &h.title);
        if let Some(d) = &h.published {
            field("year", d.get(..4).unwrap_or(d));
            field("date", d);
        }
        field("language", h.lang.as_deref().unwrap_or(""));
        field(
            "keywords",
            &h.countries
                .iter()
                .chain(&h.topics)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        );
        field("url", &self.permalink);
        field("howpublished", &h.url);
        field(
            "note",
            &h.page.map(|p| format!("page {p}")).unwrap_or_default(),
        );
        if kind == "techreport" {
            field("institution", &h.source);
        }
        out.push_str("}\n\n");
        out
    }
}

/// A line of text: line breaks and control characters as spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Text inside BibTeX braces: the characters that would end or change it
/// escaped.
fn bibtex_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '{' | '}' | '\\' | '%' | '&' | '$' | '#' | '_' | '^' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// One CSV row (RFC 4180): every cell quoted, a cell a spreadsheet would
/// read as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first)
/// prefixed with `'`.
fn csv_row(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| {
            let c = if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{c}")
            } else {
                c.clone()
            };
            format!("\"{}\"", c.replace('"', "\"\""))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Every hit of a search, in chunks of text, a search of `CHUNK` hits at a
/// time (the request's own `offset`/`limit` ignored), up to
/// `EXPORT_CAP`.
pub struct Export {
    backend: Arc<dyn Backend>,
    req: SearchRequest,
    format: Format,
    base: String,
    sent: usize,
    head: bool,
    done: bool,
}

impl Export {
    pub fn new(
        backend: Arc<dyn Backend>,
        mut req: SearchRequest,
        format: Format,
        base: String,
    ) -> Self {
        req.offset = 0;
        req.limit = CHUNK;
        Self {
            backend,
            req,
            format,
            base,
            sent: 0,
            head: false,
            done: false,
        }
    }

    /// The next piece of the export; `None` at its end.
    pub fn next_chunk(&mut self) -> Option<Result<String, SearchError>> {
        if !self.head {
            self.head = true;
            let head = self.format.head();
            if !head.is_empty() {
                return Some(Ok(head));
            }
        }
        if self.done {
            return None;
        }
        self.req.offset = self.sent;
        self.req.limit = CHUNK.min(EXPORT_CAP - self.sent);
        let response = match self.backend.search(&self.req) {
            Ok(r) => r,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let mut out = String::new();
        for hit in &response.hits {
            out.push_str(&self.format.row(hit, &self.base));
        }
        self.sent += response.hits.len();
        if response.hits.len() < self.req.limit || self.sent >= response.total.min(EXPORT_CAP) {
            self.done = true;
        }
        if out.is_empty() {
            self.next_chunk()
        } else {
            Some(Ok(out))
        }
    }
}

impl futures_core::Stream for Export {
    type Item = Result<String, SearchError>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.get_mut().next_chunk())
    }
}

/// An Atom feed (RFC 4287) of a search's newest documents: `id` stable for
/// one search (its normal form), each entry's `id` stable for one
/// document.
pub fn atom(
    backend: &dyn Backend,
    mut req: SearchRequest,
    base: &str,
    self_path: &str,
) -> Result<String, SearchError> {
    req.sort = Some(Sort::Date);
    req.offset = 0;
    req.limit = FEED_ENTRIES;
    let r = backend.search(&req)?;
    let updated = r
        .hits
        .iter()
        .filter_map(|h| h.published.as_deref())
        .max()
        .map_or_else(
            || "1970-01-01T00:00:00Z".to_string(),
            |d| format!("{d}T00:00:00Z"),
        );
    let title = if req.q.trim().is_empty() {
        "egovkb: newest documents".to_string()
    } else {
        format!("egovkb: {}", req.q.trim())
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(
        out,
        "  <id>{}</id>",
        escape_html(&format!("{base}{self_path}"))
    );
    let _ = writeln!(out, "  <title>{}</title>", escape_html(&title));
    let _ = writeln!(out, "  <updated>{updated}</updated>");
    out.push_str("  <author><name>egovkb</name></author>\n");
    let _ = writeln!(
        out,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        escape_html(&format!("{base}{self_path}"))
    );
    for h in &r.hits {
        let link = format!("{base}/doc/{}", super::page::urlencode_path(&h.id));
        let date = h
            .published
            .as_deref()
            .map_or_else(|| updated.clone(), |d| format!("{d}T00:00:00Z"));
        out.push_str("  <entry>\n");
        let _ = writeln!(out, "    <id>{}</id>", escape_html(&link));
        let _ = writeln!(
            out,
            "    <title>{}</title>",
            escape_html(&one_line(&h.title))
        );
        let _ = writeln!(out, "    <updated>{date}</updated>");
        let _ = writeln!(
            out,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            escape_html(&link)
        );
        for c in h.countries.iter().chain(&h.topics) {
            let _ = writeln!(out, "    <category term=\"{}\"/>", escape_html(c));
        }
        let _ = writeln!(
            out,
            "    <summary>{}</summary>",
            escape_html(&one_line(&h.snippet.text))
        );
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_its_parameter_value() {
        for name in super::super::params::EXPORT_FORMATS {
            assert!(Format::parse(name).is_some(), "{name}");
        }
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        let row = csv_row(&[
            "=HYPERLINK(\"x\")".into(),
            "a, \"b\"".into(),
            "-1".into(),
            "ok".into(),
        ]);
        assert_eq!(
            row,
            "\"'=HYPERLINK(\"\"x\"\")\",\"a, \"\"b\"\"\",\"'-1\",\"ok\""
        );
    }

    #[test]
    fn bibtex_text_cannot_close_its_braces() {
        assert_eq!(bibtex_text("a}b{c%"), "a\\}b\\{c\\%");
    }
}
