//! Bytes to text: what a file is (from its bytes, not its name), its text
//! decoded, and what a `Document` needs from it: title, body, the text of
//! each page or slide, and the language and date the file declares.

pub mod board;
pub mod encoding;
pub mod html;
pub mod hwp;
pub mod ocr;
pub mod office;
pub mod pdf;

use chrono::NaiveDate;

/// The formats egovkb reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Pdf,
    Pptx,
    Docx,
    Hwpx,
    Hwp,
    Markdown,
    Text,
    /// JSON (a document or an array) or JSONL of `Document` records.
    Documents,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Self::Html => "HTML",
            Self::Pdf => "PDF",
            Self::Pptx => "PPTX",
            Self::Docx => "DOCX",
            Self::Hwpx => "HWPX",
            Self::Hwp => "HWP",
            Self::Markdown => "Markdown",
            Self::Text => "text",
            Self::Documents => "JSON documents",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ExtractError {
    /// A format egovkb does not read (yet); the message says which.
    #[error("unsupported type: {0}")]
    Unsupported(String),
    /// The file is damaged or not what it claims to be.
    #[error("malformed: {0}")]
    Malformed(String),
}

/// Whether a file's pages are slides (a PowerPoint file), by its name.
pub fn is_slides(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".pptx") || n.ends_with(".ppt")
}

/// Whether a document's pages are slides: its file is a PPTX, by the name
/// its server gave it or by its URL.
pub fn has_slides(file_name: Option<&str>, url: &str) -> bool {
    file_name.is_some_and(is_slides) || is_slides(url)
}

/// What a file tells about the document it holds.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Extracted {
    pub title: String,
    /// Paragraphs separated by blank lines.
    pub body: String,
    /// For slides and pages: the text of each (page 1 first).
    pub pages: Vec<String>,
    /// The language the file declares (`<html lang>`), ISO 639-1.
    pub lang: Option<String>,
    pub published: Option<NaiveDate>,
    /// Scanned pages read by OCR, and those left without text.
    pub ocr: ocr::OcrReport,
}

impl Extracted {
    /// A paged document: the body is its pages' text, page after page.
    pub fn of_pages(title: String, pages: Vec<String>) -> Self {
        let body = pages
            .iter()
            .filter(|p| !p.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n");
        Self {
            title,
            body,
            pages,
            ..Self::default()
        }
    }
}

/// Titles that tools write by default and that say nothing.
pub fn is_default_title(t: &str) -> bool {
    let t = t.trim().to_lowercase();
    t.is_empty()
        || [
            "presentación de powerpoint",
            "presentación de microsoft powerpoint",
            "powerpoint presentation",
            "microsoft powerpoint presentation",
            "powerpoint 프레젠테이션",
            "powerpoint-präsentation",
            "untitled",
            "sin título",
            "제목 없음",
            "documento de word",
            "document",
            "slide 1",
            "diapositiva 1",
        ]
        .contains(&t.as_str())
        || t.starts_with("microsoft word - ")
        || t.ends_with(".pptx")
        || t.ends_with(".docx")
        || t.ends_with(".doc")
        || t.ends_with(".ppt")
        || t.ends_with(".pdf")
        || t.ends_with(".hwp")
}

const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// What `bytes` are. `name` (a file name or URL path) only breaks ties the
/// bytes leave open: Markdown or plain text. `None`: not a format egovkb
/// reads (an image, an executable, a spreadsheet).
pub fn detect(bytes: &[u8], name: &str) -> Option<Format> {
    let head = &bytes[..bytes.len().min(1024)];
    if head.starts_with(b"%PDF-") || find(head, b"%PDF-").is_some_and(|i| i < 1024) {
        return Some(Format::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let pkg = office::Package::open(std::io::Cursor::new(bytes)).ok()?;
        let names = pkg.names();
        let has = |n: &str| names.iter().any(|x| x == n);
        return if has("ppt/presentation.xml") {
            Some(Format::Pptx)
        } else if has("word/document.xml") {
            Some(Format::Docx)
        } else if names.iter().any(|n| n.starts_with("Contents/section")) {
            Some(Format::Hwpx)
        } else {
            None
        };
    }
    if bytes.starts_with(OLE_MAGIC) {
        // HWP 5 is an OLE compound file whose FileHeader says so.
        return find(bytes, b"HWP Document File").map(|_| Format::Hwp);
    }
    // Text of some kind: binary files have NUL bytes early on (UTF-16 text
    // has them too, but starts with a byte-order mark).
    let has_bom = bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF");
    if !has_bom && head.contains(&0) {
        return None;
    }
    let (text, _) = encoding::decode(head, None, false);
    let start = text.trim_start_matches('\u{FEFF}').trim_start();
    let lower: String = start.chars().take(512).collect::<String>().to_lowercase();
    if lower.starts_with('{') || lower.starts_with('[') {
        return Some(Format::Documents);
    }
    if lower.starts_with("<!doctype html")
        || lower.starts_with("<html")
        || lower.starts_with("<?xml") && lower.contains("<html")
        || (lower.starts_with('<')
            && ["<head", "<body", "<p>", "<div", "<meta", "<title"]
                .iter()
                .any(|t| lower.contains(t)))
    {
        return Some(Format::Html);
    }
    let lname = name.to_lowercase();
    if lname.ends_with(".md") || lname.ends_with(".markdown") {
        return Some(Format::Markdown);
    }
    Some(Format::Text)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Paragraphs of plain text: blank lines separate them, lines within one
/// are joined.
pub(crate) fn text_paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(current.join(" "));
                current.clear();
            }
        } else {
            current.push(line.trim());
        }
    }
    if !current.is_empty() {
        out.push(current.join(" "));
    }
    out
}

/// Markdown to plain text: headings, emphasis, code marks, links and
/// images reduced to their words.
fn markdown_to_text(md: &str) -> String {
    let link = regex::Regex::new(r"!?\[([^\]]*)\]\([^)]*\)").ok();
    md.lines()
        .map(|line| {
            let l = line.trim_start();
            let l = l.trim_start_matches('#').trim_start();
            let l = l
                .strip_prefix("- ")
                .or_else(|| l.strip_prefix("* "))
                .or_else(|| l.strip_prefix("> "))
                .unwrap_or(l);
            let l = match &link {
                Some(re) => re.replace_all(l, "$1").into_owned(),
                None => l.to_string(),
            };
            l.replace("**", "").replace("__", "").replace('`', "")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Extract a file of `format` (not `Documents`, which are records, not a
/// document). `charset`: what the server declared, when it did.
pub fn extract(
    bytes: &[u8],
    format: Format,
    charset: Option<&str>,
) -> Result<Extracted, ExtractError> {
    match format {
        Format::Html => {
            let (text, _) = encoding::decode(bytes, charset, true);
            Ok(html::extract(&text))
        }
        Format::Text | Format::Markdown => {
            let (text, _) = encoding::decode(bytes, charset, false);
            let text = text.trim_start_matches('\u{FEFF}');
            let text = if format == Format::Markdown {
                markdown_to_text(text)
            } else {
                text.to_string()
            };
            let paras = text_paragraphs(&text);
            let title = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect();
            Ok(Extracted {
                title,
                body: paras.join("\n\n"),
                ..Extracted::default()
            })
        }
        Format::Pptx => office::pptx(office::Package::open(std::io::Cursor::new(bytes))?),
        Format::Docx => office::docx(office::Package::open(std::io::Cursor::new(bytes))?),
        Format::Hwpx => office::hwpx(office::Package::open(std::io::Cursor::new(bytes))?),
        Format::Pdf => pdf::extract(bytes),
        Format::Hwp => hwp::extract(bytes),
        Format::Documents => Err(ExtractError::Unsupported(
            "JSON documents are records, not one document".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(detect(b"%PDF-1.7\n...", "x.html"), Some(Format::Pdf));
        assert_eq!(
            detect(b"<!DOCTYPE html><html>", "notes.txt"),
            Some(Format::Html)
        );
        assert_eq!(detect(b"  <div><p>hola</p></div>", "x"), Some(Format::Html));
        assert_eq!(detect(br#"{"id": "a"}"#, "x.txt"), Some(Format::Documents));
        assert_eq!(
            detect(b"# Title\n\ntext", "README.md"),
            Some(Format::Markdown)
        );
        assert_eq!(detect(b"Just text.", "x.pdf"), Some(Format::Text));
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n\0\0\0IHDR", "x.pdf"), None);
        assert_eq!(detect(b"PK\x03\x04 not a zip", "x.pptx"), None);
        assert_eq!(detect(b"", "empty"), Some(Format::Text));
    }

    #[test]
    fn default_titles_are_recognised() {
        for t in [
            "Presentación de PowerPoint",
            "PowerPoint Presentation",
            "Untitled",
            " ",
            "informe.pdf",
            "Microsoft Word - plan.doc",
        ] {
            assert!(is_default_title(t), "{t}");
        }
        assert!(!is_default_title("Gobierno digital en Paraguay"));
    }

    #[test]
    fn text_and_markdown() {
        let x = extract(
            "Informe anual\n\nEl registro civil\nde Paraguay.\n\n\nFin".as_bytes(),
            Format::Text,
            None,
        )
        .unwrap();
        assert_eq!(x.title, "Informe anual");
        assert_eq!(
            x.body,
            "Informe anual\n\nEl registro civil de Paraguay.\n\nFin"
        );
        let x = extract(
            b"# E-procurement in **Peru**\n\nSee [the portal](https://example.org) and `KONEPS`.",
            Format::Markdown,
            None,
        )
        .unwrap();
        assert_eq!(x.title, "E-procurement in Peru");
        assert_eq!(
            x.body,
            "E-procurement in Peru\n\nSee the portal and KONEPS."
        );
        assert!(matches!(
            extract(b"HWP", Format::Hwp, None),
            Err(ExtractError::Malformed(_))
        ));
    }
}
