//! Bytes to text: the byte-order mark first, then the charset the server
//! declared, then (for HTML) the page's own `<meta charset>`, then UTF-8 if
//! the bytes are valid UTF-8, then detection (`chardetng`). `EUC-KR` is
//! decoded as CP949 (Windows-949), its superset that Korean sites really
//! send: encoding_rs's EUC-KR is that superset, as the WHATWG standard says.

use encoding_rs::Encoding;

/// Bytes of an HTML page read for a `<meta charset>`.
const META_SNIFF_BYTES: usize = 4096;

/// Decoded text and the name of the encoding it was decoded from.
pub fn decode(bytes: &[u8], declared: Option<&str>, html: bool) -> (String, &'static str) {
    let encoding = choose(bytes, declared, html);
    let (text, _, _) = encoding.decode(bytes);
    (text.into_owned(), encoding.name())
}

fn choose(bytes: &[u8], declared: Option<&str>, html: bool) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return enc;
    }
    if let Some(enc) = declared.and_then(|l| Encoding::for_label(l.trim().as_bytes())) {
        return enc;
    }
    if html && let Some(enc) = meta_charset(&bytes[..bytes.len().min(META_SNIFF_BYTES)]) {
        return enc;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return encoding_rs::UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    detector.guess(None, true)
}

/// `<meta charset="euc-kr">` or `<meta http-equiv="Content-Type"
/// content="text/html; charset=euc-kr">`, in the bytes of the page's head.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    // The head of an HTML page is ASCII-compatible whatever its charset.
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(i) = find(&lower[from..], b"<meta") {
        let start = from + i;
        let end = find(&lower[start..], b">").map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = find(tag, b"charset=") {
            let rest = &tag[c + b"charset=".len()..];
            let rest = rest
                .strip_prefix(b"\"")
                .or_else(|| rest.strip_prefix(b"'"))
                .unwrap_or(rest);
            let label: Vec<u8> = rest
                .iter()
                .copied()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
                .collect();
            if let Some(enc) = Encoding::for_label(&label) {
                // A page that says UTF-16 in ASCII is not UTF-16.
                return Some(
                    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                        encoding_rs::UTF_8
                    } else {
                        enc
                    },
                );
            }
        }
        from = end;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_pages_in_euc_kr_decode_as_cp949() {
        // 행정안전부 and 똠방각하 (똠 is outside EUC-KR proper: CP949 only).
        let (bytes, _, _) = encoding_rs::EUC_KR.encode("행정안전부 똠방각하");
        let page = [
            b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=euc-kr\"></head><body>".as_slice(),
            &bytes,
            b"</body></html>",
        ]
        .concat();
        let (text, name) = decode(&page, None, true);
        assert_eq!(name, "EUC-KR");
        assert!(text.contains("행정안전부 똠방각하"), "{text}");
        // Without any declaration, detection finds it.
        let (bytes, _, _) = encoding_rs::EUC_KR
            .encode("파라과이 공무원들이 주민등록 제도를 배웠다. 행정안전부는 협력을 논의했다.");
        let (text, _) = decode(&bytes, None, false);
        assert!(text.contains("주민등록 제도"), "{text}");
    }

    #[test]
    fn bom_then_declared_then_meta_then_utf8() {
        let (t, n) = decode(b"\xEF\xBB\xBFcaf\xC3\xA9", Some("iso-8859-1"), false);
        assert_eq!((t.as_str(), n), ("café", "UTF-8"));
        let (t, n) = decode(b"caf\xE9", Some("ISO-8859-1"), false);
        assert_eq!((t.as_str(), n), ("café", "windows-1252"));
        let (t, _) = decode(b"<meta charset='windows-1252'><p>Peru\xFA", None, true);
        assert!(t.ends_with("Peruú"));
        let (t, n) = decode("señal".as_bytes(), None, true);
        assert_eq!((t.as_str(), n), ("señal", "UTF-8"));
    }
}
