//! PDF: the text of each page (pdf-extract, which reads embedded and subset
//! fonts through their ToUnicode maps), the title from the document's
//! metadata unless it is a default one ("Presentación de PowerPoint"),
//! else the first line of the first page. A PDF the parser gives up on is
//! reported as malformed, never a crash.

use super::{ExtractError, Extracted, is_default_title};

/// A PDF text string: UTF-16BE with a byte-order mark, else PDFDocEncoding
/// (Latin-1 for the characters titles use).
fn text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Ok(s) =
        std::str::from_utf8(bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes))
    {
        s.to_string()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}

/// The Title of the document information dictionary.
fn info_title(bytes: &[u8]) -> Option<String> {
    let doc = lopdf::Document::load_mem(bytes).ok()?;
    let info = doc.trailer.get(b"Info").ok()?;
    let dict = match info.as_reference() {
        Ok(id) => doc.get_dictionary(id).ok()?,
        Err(_) => info.as_dict().ok()?,
    };
    let title = text_string(dict.get(b"Title").ok()?.as_str().ok()?);
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!is_default_title(&title)).then_some(title)
}

/// Text of a page as paragraphs: lines joined, blank lines kept.
fn page_text(raw: &str) -> String {
    let mut paras: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in raw.lines() {
        let l = line.trim();
        if l.is_empty() {
            if !current.is_empty() {
                paras.push(current.join(" "));
                current.clear();
            }
        } else {
            current.push(l);
        }
    }
    if !current.is_empty() {
        paras.push(current.join(" "));
    }
    paras.join("\n\n")
}

pub fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    // The parser panics on some damaged files: contain it.
    let pages = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes))
        .map_err(|_| ExtractError::Malformed("the PDF parser gave up on this file".into()))?
        .map_err(|e| ExtractError::Malformed(format!("not a readable PDF: {e}")))?;
    let pages: Vec<String> = pages.iter().map(|p| page_text(p)).collect();
    let first_line = pages
        .iter()
        .flat_map(|p| p.lines())
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(300).collect::<String>());
    let title = info_title(bytes).or(first_line).unwrap_or_default();
    Ok(Extracted::of_pages(title, pages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_strings_decode() {
        assert_eq!(text_string(b"\xFE\xFF\x00P\x00e\x00r\x00\xFA"), "Perú");
        assert_eq!(text_string(b"Per\xFA"), "Perú");
        assert_eq!(text_string("Perú".as_bytes()), "Perú");
    }

    #[test]
    fn damaged_pdfs_are_errors() {
        for bad in [
            &b"%PDF-1.4\n%%EOF"[..],
            b"%PDF-1.7\n1 0 obj << /Type /Catalog",
            b"not a pdf",
        ] {
            assert!(
                matches!(extract(bad), Err(ExtractError::Malformed(_))),
                "{bad:?}"
            );
        }
    }
}
