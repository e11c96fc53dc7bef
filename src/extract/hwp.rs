//! HWP 5.x, the Korean word processor's binary format: an OLE compound
//! file whose `FileHeader` says whether the streams are compressed (raw
//! deflate), and whose `BodyText/Section{n}` streams are records; the text
//! is in the PARA_TEXT records, UTF-16LE with inline control codes. Files
//! with a password or in "distribution" form (their text encrypted) are
//! reported as such.

use std::io::{Cursor, Read};

use super::{ExtractError, Extracted};

/// The record that holds a paragraph's text (HWPTAG_BEGIN + 51).
const HWPTAG_PARA_TEXT: u32 = 67;
const SIGNATURE: &[u8] = b"HWP Document File";
/// Largest stream read (after decompression).
const MAX_STREAM_BYTES: u64 = 64 * 1024 * 1024;

fn malformed(what: impl std::fmt::Display) -> ExtractError {
    ExtractError::Malformed(format!("HWP: {what}"))
}

fn read_stream<F: Read + std::io::Seek>(
    cf: &mut cfb::CompoundFile<F>,
    path: &str,
    compressed: bool,
) -> Result<Vec<u8>, ExtractError> {
    let mut raw = Vec::new();
    cf.open_stream(path)
        .map_err(|e| malformed(format!("{path}: {e}")))?
        .take(MAX_STREAM_BYTES)
        .read_to_end(&mut raw)
        .map_err(|e| malformed(format!("{path}: {e}")))?;
    if !compressed {
        return Ok(raw);
    }
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(raw.as_slice())
        .take(MAX_STREAM_BYTES)
        .read_to_end(&mut out)
        .map_err(|e| malformed(format!("{path}: not deflate data: {e}")))?;
    Ok(out)
}

/// The text of a PARA_TEXT record. Codes below 32 are controls: some stand
/// alone (line and paragraph breaks, special spaces), the others take
/// eight code units in all (their code, six of data, their code again).
fn para_text(data: &[u8]) -> String {
    let units: Vec<u16> = data
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let mut out = Vec::with_capacity(units.len());
    let mut i = 0;
    while i < units.len() {
        let u = units[i];
        match u {
            10 | 13 => out.push(u16::from(b'\n')),
            24 => out.push(u16::from(b'-')),
            25..=31 => out.push(u16::from(b' ')),
            0 => {}
            // Tab: an inline control, shown as a space.
            9 => {
                out.push(u16::from(b' '));
                i += 7;
            }
            1..=8 | 11 | 12 | 14..=23 => i += 7,
            _ => out.push(u),
        }
        i += 1;
    }
    String::from_utf16_lossy(&out)
}

/// Paragraph texts of a section stream.
fn section_paragraphs(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut r = Cursor::new(data);
    let mut word = [0u8; 4];
    while r.read_exact(&mut word).is_ok() {
        let header = u32::from_le_bytes(word);
        let tag = header & 0x3FF;
        let mut size = (header >> 20) as usize;
        if size == 0xFFF {
            if r.read_exact(&mut word).is_err() {
                break;
            }
            size = u32::from_le_bytes(word) as usize;
        }
        let start = r.position() as usize;
        let Some(body) = data.get(start..start.saturating_add(size)) else {
            break; // truncated: keep what came before
        };
        if tag == HWPTAG_PARA_TEXT {
            for line in para_text(body).split('\n') {
                let t = line.split_whitespace().collect::<Vec<_>>().join(" ");
                if !t.is_empty() {
                    out.push(t);
                }
            }
        }
        r.set_position((start + size) as u64);
    }
    out
}

/// Most bytes of all body text sections of one file, decompressed.
const MAX_SECTIONS_BYTES: usize = 256 * 1024 * 1024;

pub fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let mut cf = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| malformed(format!("not an OLE compound file: {e}")))?;
    let header = read_stream(&mut cf, "/FileHeader", false)?;
    if header.len() < 40 || !header.starts_with(SIGNATURE) {
        return Err(malformed("no HWP file header"));
    }
    let flags = u32::from_le_bytes([header[36], header[37], header[38], header[39]]);
    if flags & 0b10 != 0 {
        return Err(ExtractError::Unsupported("HWP with a password".into()));
    }
    if flags & 0b100 != 0 {
        return Err(ExtractError::Unsupported(
            "HWP in distribution form (its text is encrypted)".into(),
        ));
    }
    let compressed = flags & 1 != 0;
    let mut paragraphs = Vec::new();
    let mut total = 0usize;
    for n in 0.. {
        let path = format!("/BodyText/Section{n}");
        if !cf.exists(&path) {
            break;
        }
        let data = read_stream(&mut cf, &path, compressed)?;
        // Each section is capped; so are all of them together.
        total += data.len();
        if total > MAX_SECTIONS_BYTES {
            return Err(malformed(format!(
                "over {} MB of body text streams",
                MAX_SECTIONS_BYTES >> 20
            )));
        }
        paragraphs.extend(section_paragraphs(&data));
    }
    if paragraphs.is_empty() && !cf.exists("/BodyText/Section0") {
        return Err(malformed("no BodyText/Section0"));
    }
    Ok(Extracted {
        title: paragraphs.first().cloned().unwrap_or_default(),
        body: paragraphs.join("\n\n"),
        ..Extracted::default()
    })
}

/// Write a record (for tests that build HWP files).
#[doc(hidden)]
pub fn record(tag: u32, level: u32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if data.len() < 0xFFF {
        out.extend((tag | (level << 10) | ((data.len() as u32) << 20)).to_le_bytes());
    } else {
        out.extend((tag | (level << 10) | (0xFFF << 20)).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
    }
    out.extend(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn controls_are_skipped_and_breaks_kept() {
        // "표" preceded by an extended control (a table: 8 units), a tab,
        // text, a line break, text, the paragraph end.
        let mut data = Vec::new();
        data.extend(
            [11u16, 0x6274, 0x6C62, 0, 0, 0, 0, 11]
                .iter()
                .flat_map(|u| u.to_le_bytes()),
        );
        data.extend(utf16("주민등록"));
        data.extend(
            [9u16, 0, 0, 0, 0, 0, 0, 9]
                .iter()
                .flat_map(|u| u.to_le_bytes()),
        );
        data.extend(utf16("제도\n협력\r"));
        assert_eq!(para_text(&data), "주민등록 제도\n협력\n");
    }

    #[test]
    fn records_and_long_records_and_truncation() {
        let long = "가".repeat(3000);
        let mut section = record(66, 0, &[0; 22]);
        section.extend(record(HWPTAG_PARA_TEXT, 1, &utf16("첫 문단\r")));
        section.extend(record(HWPTAG_PARA_TEXT, 1, &utf16(&format!("{long}\r"))));
        section.extend(record(HWPTAG_PARA_TEXT, 1, &utf16("잘린")));
        section.truncate(section.len() - 2);
        let paras = section_paragraphs(&section);
        assert_eq!(paras.len(), 2);
        assert_eq!(paras[0], "첫 문단");
        assert_eq!(paras[1].chars().count(), 3000);
    }

    #[test]
    fn not_hwp_is_an_error() {
        assert!(matches!(
            extract(b"not ole"),
            Err(ExtractError::Malformed(_))
        ));
    }
}
