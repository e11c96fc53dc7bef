//! The zip-of-XML formats: PPTX (text per slide, speaker notes with their
//! slide, in presentation order), DOCX (paragraphs) and HWPX (the Korean
//! word processor's open format: paragraphs of every section). Titles come
//! from the document's metadata unless it is a default one, then from the
//! first slide's title or the first paragraph.

use std::collections::HashMap;
use std::io::Read;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{ExtractError, Extracted, is_default_title};

/// Largest XML part read (a slide of text is kilobytes).
const MAX_PART_BYTES: u64 = 32 * 1024 * 1024;

/// Most XML read from one package, all parts together: a few parts of
/// 32 MB each compressed to almost nothing (a zip bomb, or one slide
/// listed a million times) must not take all memory.
const MAX_PACKAGE_BYTES: u64 = 256 * 1024 * 1024;

pub struct Package<R: Read + std::io::Seek> {
    zip: zip::ZipArchive<R>,
    /// XML bytes read so far.
    read: u64,
}

impl<R: Read + std::io::Seek> Package<R> {
    pub fn open(reader: R) -> Result<Self, ExtractError> {
        let zip = zip::ZipArchive::new(reader)
            .map_err(|e| ExtractError::Malformed(format!("not a readable zip: {e}")))?;
        Ok(Self { zip, read: 0 })
    }

    pub fn names(&self) -> Vec<String> {
        self.zip.file_names().map(str::to_string).collect()
    }

    /// The parts `{prefix}{n}{suffix}` (slide1.xml, section0.xml), by n.
    pub fn numbered(&self, prefix: &str, suffix: &str) -> Vec<String> {
        let mut found: Vec<(u32, String)> = self
            .zip
            .file_names()
            .filter_map(|n| {
                let num = n.strip_prefix(prefix)?.strip_suffix(suffix)?;
                Some((num.parse().ok()?, n.to_string()))
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, n)| n).collect()
    }

    /// A part as text; `None` when absent.
    pub fn part(&mut self, name: &str) -> Result<Option<String>, ExtractError> {
        let mut file = match self.zip.by_name(name) {
            Ok(f) => f,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(ExtractError::Malformed(format!("{name}: {e}"))),
        };
        let mut bytes = Vec::new();
        let budget = MAX_PART_BYTES.min(MAX_PACKAGE_BYTES.saturating_sub(self.read));
        file.by_ref()
            .take(budget)
            .read_to_end(&mut bytes)
            .map_err(|e| ExtractError::Malformed(format!("{name}: {e}")))?;
        self.read += bytes.len() as u64;
        if self.read >= MAX_PACKAGE_BYTES {
            return Err(ExtractError::Malformed(format!(
                "over {} MB of XML in one file",
                MAX_PACKAGE_BYTES >> 20
            )));
        }
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// Paragraphs of an XML part: the text of `text` elements inside each
/// `para` element (local names), line breaks and tabs as spaces.
pub fn paragraphs(xml: &str, para: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut reader = Reader::from_str(xml);
    let mut current = String::new();
    let mut in_text = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name();
                if name.as_ref() == text.as_bytes() {
                    in_text += 1;
                }
            }
            Ok(Event::Empty(e)) => {
                let name = e.local_name();
                if matches!(name.as_ref(), b"br" | b"tab" | b"lineBreak" | b"lineseg") {
                    current.push(' ');
                }
            }
            Ok(Event::Text(t)) if in_text > 0 => {
                if let Ok(s) = t.unescape() {
                    current.push_str(&s);
                }
            }
            Ok(Event::CData(t)) if in_text > 0 => {
                current.push_str(&String::from_utf8_lossy(&t));
            }
            Ok(Event::End(e)) => {
                let name = e.local_name();
                if name.as_ref() == text.as_bytes() {
                    in_text = in_text.saturating_sub(1);
                } else if name.as_ref() == para.as_bytes() {
                    let p = current.split_whitespace().collect::<Vec<_>>().join(" ");
                    if !p.is_empty() {
                        out.push(p);
                    }
                    current.clear();
                }
            }
            Ok(Event::Eof) => break,
            // A broken part: keep what was read.
            Err(_) => break,
            _ => {}
        }
    }
    let p = current.split_whitespace().collect::<Vec<_>>().join(" ");
    if !p.is_empty() {
        out.push(p);
    }
    out
}

/// The first `local` element's text anywhere in `xml`.
fn element_text(xml: &str, local: &str) -> Option<String> {
    paragraphs(xml, local, local)
        .into_iter()
        .next()
        .filter(|t| !t.is_empty())
}

/// Attribute values of `element` elements, in document order, keyed by
/// attribute name as written (`Id`, `r:id`).
fn elements(xml: &str, element: &str) -> Vec<HashMap<String, String>> {
    let mut out = Vec::new();
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e))
                if e.local_name().as_ref() == element.as_bytes() =>
            {
                let mut attrs = HashMap::new();
                for a in e.attributes().flatten() {
                    let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                    if let Ok(v) = a.unescape_value() {
                        attrs.insert(key, v.into_owned());
                    }
                }
                out.push(attrs);
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// `docProps/core.xml`'s title, unless it is a default one.
fn core_title<R: Read + std::io::Seek>(
    pkg: &mut Package<R>,
) -> Result<Option<String>, ExtractError> {
    Ok(pkg
        .part("docProps/core.xml")?
        .and_then(|x| element_text(&x, "title"))
        .filter(|t| !is_default_title(t)))
}

/// Resolve a relationship target against the folder of the part it is in.
fn resolve(base_dir: &str, target: &str) -> String {
    if let Some(abs) = target.strip_prefix('/') {
        return abs.to_string();
    }
    let mut parts: Vec<&str> = base_dir.split('/').filter(|p| !p.is_empty()).collect();
    for seg in target.split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// The relationships of a part: id → (type, resolved target).
fn relationships<R: Read + std::io::Seek>(
    pkg: &mut Package<R>,
    part: &str,
) -> Result<HashMap<String, (String, String)>, ExtractError> {
    let (dir, file) = part.rsplit_once('/').unwrap_or(("", part));
    let rels_name = if dir.is_empty() {
        format!("_rels/{file}.rels")
    } else {
        format!("{dir}/_rels/{file}.rels")
    };
    let Some(xml) = pkg.part(&rels_name)? else {
        return Ok(HashMap::new());
    };
    Ok(elements(&xml, "Relationship")
        .into_iter()
        .filter_map(|a| {
            let id = a.get("Id")?.clone();
            let kind = a.get("Type").cloned().unwrap_or_default();
            let target = resolve(dir, a.get("Target")?);
            Some((id, (kind, target)))
        })
        .collect())
}

/// A slide's title placeholder text (`<p:ph type="title"/>` or `ctrTitle`).
fn slide_title(xml: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    let mut depth_in_shape = 0usize;
    let mut shape_start = 0usize;
    let mut is_title = false;
    let mut text = String::new();
    let mut in_t = false;
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                match e.local_name().as_ref() {
                    b"sp" => {
                        depth_in_shape = 1;
                        shape_start = depth;
                        is_title = false;
                        text.clear();
                    }
                    b"t" if depth_in_shape > 0 => in_t = true,
                    _ => {}
                }
            }
            Ok(Event::Empty(e)) if depth_in_shape > 0 && e.local_name().as_ref() == b"ph" => {
                is_title = e.attributes().flatten().any(|a| {
                    a.key.local_name().as_ref() == b"type"
                        && matches!(a.value.as_ref(), b"title" | b"ctrTitle")
                });
            }
            Ok(Event::Text(t)) if in_t => {
                if let Ok(s) = t.unescape() {
                    text.push_str(&s);
                    text.push(' ');
                }
            }
            Ok(Event::End(e)) => {
                if e.local_name().as_ref() == b"t" {
                    in_t = false;
                }
                if e.local_name().as_ref() == b"sp" && depth == shape_start {
                    depth_in_shape = 0;
                    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
                    if is_title && !t.is_empty() {
                        return Some(t);
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

/// PPTX: one page per slide in presentation order, its notes after it.
pub fn pptx<R: Read + std::io::Seek>(mut pkg: Package<R>) -> Result<Extracted, ExtractError> {
    let presentation = pkg
        .part("ppt/presentation.xml")?
        .ok_or_else(|| ExtractError::Malformed("no ppt/presentation.xml".into()))?;
    let rels = relationships(&mut pkg, "ppt/presentation.xml")?;
    let mut slides: Vec<String> = elements(&presentation, "sldId")
        .into_iter()
        .filter_map(|a| {
            // The relationship id is the namespaced `r:id` (not `id`).
            let rel = a.iter().find(|(k, _)| k.ends_with(":id")).map(|(_, v)| v)?;
            rels.get(rel).map(|(_, t)| t.clone())
        })
        .collect();
    // A slide listed twice is read once.
    let mut listed = std::collections::HashSet::new();
    slides.retain(|s| listed.insert(s.clone()));
    if slides.is_empty() {
        // No list: the slide parts by number.
        slides = pkg.numbered("ppt/slides/slide", ".xml");
    }
    let mut pages = Vec::new();
    let mut first_title = None;
    for slide in &slides {
        let Some(xml) = pkg.part(slide)? else {
            pages.push(String::new());
            continue;
        };
        if first_title.is_none() {
            first_title = slide_title(&xml);
        }
        let mut text = paragraphs(&xml, "p", "t");
        let notes = relationships(&mut pkg, slide)?
            .into_values()
            .find(|(kind, _)| kind.ends_with("/notesSlide"))
            .map(|(_, target)| target);
        if let Some(notes) = notes
            && let Some(nx) = pkg.part(&notes)?
        {
            // The notes part repeats the slide number in a placeholder.
            text.extend(
                paragraphs(&nx, "p", "t")
                    .into_iter()
                    .filter(|p| p.parse::<u32>().is_err()),
            );
        }
        pages.push(text.join("\n\n"));
    }
    let title = core_title(&mut pkg)?
        .or(first_title)
        .or_else(|| {
            pages
                .iter()
                .find_map(|p| p.lines().find(|l| !l.trim().is_empty()).map(str::to_string))
        })
        .unwrap_or_default();
    Ok(Extracted::of_pages(title, pages))
}

/// DOCX: the paragraphs of the main document.
pub fn docx<R: Read + std::io::Seek>(mut pkg: Package<R>) -> Result<Extracted, ExtractError> {
    let xml = pkg
        .part("word/document.xml")?
        .ok_or_else(|| ExtractError::Malformed("no word/document.xml".into()))?;
    let paras = paragraphs(&xml, "p", "t");
    let title = core_title(&mut pkg)?
        .or_else(|| paras.first().cloned())
        .unwrap_or_default();
    Ok(Extracted {
        title,
        body: paras.join("\n\n"),
        ..Extracted::default()
    })
}

/// HWPX: the paragraphs of every section, in order.
pub fn hwpx<R: Read + std::io::Seek>(mut pkg: Package<R>) -> Result<Extracted, ExtractError> {
    let sections = pkg.numbered("Contents/section", ".xml");
    if sections.is_empty() {
        return Err(ExtractError::Malformed("no Contents/section*.xml".into()));
    }
    let mut paras = Vec::new();
    for name in &sections {
        if let Some(xml) = pkg.part(name)? {
            paras.extend(paragraphs(&xml, "p", "t"));
        }
    }
    let meta_title = pkg
        .part("Contents/content.hpf")?
        .and_then(|x| element_text(&x, "title"))
        .filter(|t| !is_default_title(t));
    let title = meta_title
        .or_else(|| paras.first().cloned())
        .unwrap_or_default();
    Ok(Extracted {
        title,
        body: paras.join("\n\n"),
        ..Extracted::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_join_runs_and_unescape() {
        let xml = r#"<w:document xmlns:w="x"><w:body>
            <w:p><w:r><w:t>Registro </w:t></w:r><w:r><w:t xml:space="preserve">civil &amp; cédula</w:t></w:r></w:p>
            <w:p><w:r><w:t>Segunda</w:t><w:br/><w:t>línea</w:t></w:r></w:p>
            <w:p></w:p></w:body></w:document>"#;
        assert_eq!(
            paragraphs(xml, "p", "t"),
            ["Registro civil & cédula", "Segunda línea"]
        );
        // Broken XML: what was read before the break.
        assert_eq!(
            paragraphs("<p><t>uno</t></p><p><t>dos", "p", "t"),
            ["uno", "dos"]
        );
    }

    fn package(parts: &[(&str, &[u8])]) -> Package<std::io::Cursor<Vec<u8>>> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in parts {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        Package::open(zip.finish().unwrap()).unwrap()
    }

    #[test]
    fn a_slide_listed_many_times_is_read_once() {
        let ids: String = (0..1000)
            .map(|i| format!(r#"<p:sldId id="{i}" r:id="rId1"/>"#))
            .collect();
        let presentation = format!(
            r#"<p:presentation xmlns:p="p" xmlns:r="r"><p:sldIdLst>{ids}</p:sldIdLst></p:presentation>"#
        );
        let rels = br#"<Relationships><Relationship Id="rId1" Type="x/slide" Target="slides/slide1.xml"/></Relationships>"#;
        let slide = br#"<p:sld xmlns:p="p" xmlns:a="a"><a:p><a:t>Hola</a:t></a:p></p:sld>"#;
        let x = pptx(package(&[
            ("ppt/presentation.xml", presentation.as_bytes()),
            ("ppt/_rels/presentation.xml.rels", rels),
            ("ppt/slides/slide1.xml", slide),
        ]))
        .unwrap();
        assert_eq!(x.pages, ["Hola"]);
    }

    #[test]
    fn a_package_of_too_much_xml_is_refused() {
        // Nine parts of 32 MB each, compressed to kilobytes.
        let big = vec![b' '; 32 * 1024 * 1024];
        let names: Vec<String> = (0..9).map(|i| format!("word/part{i}.xml")).collect();
        let parts: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &big[..])).collect();
        let mut pkg = package(&parts);
        let read: Vec<_> = names.iter().map(|n| pkg.part(n)).collect();
        assert!(read[..7].iter().all(|r| r.is_ok()));
        assert!(
            matches!(&read[7], Err(ExtractError::Malformed(m)) if m.contains("MB of XML")),
            "{:?}",
            read[7].as_ref().err()
        );
    }

    #[test]
    fn relationship_targets_resolve() {
        assert_eq!(resolve("ppt", "slides/slide1.xml"), "ppt/slides/slide1.xml");
        assert_eq!(
            resolve("ppt/slides", "../notesSlides/notesSlide1.xml"),
            "ppt/notesSlides/notesSlide1.xml"
        );
        assert_eq!(
            resolve("ppt", "/ppt/slides/slide2.xml"),
            "ppt/slides/slide2.xml"
        );
    }
}
