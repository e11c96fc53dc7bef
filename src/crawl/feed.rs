//! RSS and Atom feeds: the item links a source's feed lists, for updates
//! between crawls of its board.

use quick_xml::Reader;
use quick_xml::events::Event;

/// The links of a feed's items (RSS `<item><link>`, Atom `<entry><link
/// href>` with `rel` alternate or none), in feed order.
pub fn links(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut reader = Reader::from_str(xml);
    let mut in_entry = false;
    let mut in_link = false;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e))
                if matches!(e.local_name().as_ref(), b"item" | b"entry") =>
            {
                in_entry = true;
            }
            Ok(Event::Start(e)) if in_entry && e.local_name().as_ref() == b"link" => {
                if let Some(href) = atom_href(&e) {
                    out.push(href);
                } else {
                    in_link = true;
                    text.clear();
                }
            }
            Ok(Event::Empty(e)) if in_entry && e.local_name().as_ref() == b"link" => {
                if let Some(href) = atom_href(&e) {
                    out.push(href);
                }
            }
            Ok(Event::Text(t)) if in_link => {
                if let Ok(s) = t.unescape() {
                    text.push_str(&s);
                }
            }
            Ok(Event::CData(t)) if in_link => text.push_str(&String::from_utf8_lossy(&t)),
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                b"link" if in_link => {
                    in_link = false;
                    let t = text.trim();
                    if !t.is_empty() {
                        out.push(t.to_string());
                    }
                }
                b"item" | b"entry" => in_entry = false,
                _ => {}
            },
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

fn atom_href(e: &quick_xml::events::BytesStart) -> Option<String> {
    let mut href = None;
    let mut rel = None;
    for a in e.attributes().flatten() {
        let v = a.unescape_value().ok()?.into_owned();
        match a.key.local_name().as_ref() {
            b"href" => href = Some(v),
            b"rel" => rel = Some(v),
            _ => {}
        }
    }
    match rel.as_deref() {
        None | Some("alternate") => href,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_and_atom() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Noticias</title>
            <link>https://example.org/</link>
            <item><title>Uno</title><link>https://example.org/n/1?a=1&amp;b=2</link></item>
            <item><title>Dos</title><link><![CDATA[https://example.org/n/2]]></link></item>
            </channel></rss>"#;
        assert_eq!(
            links(rss),
            ["https://example.org/n/1?a=1&b=2", "https://example.org/n/2"]
        );
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><link href="https://example.org/"/>
            <entry><link rel="edit" href="https://example.org/edit/1"/><link rel="alternate" href="https://example.org/p/1"/></entry>
            <entry><link href="https://example.org/p/2"/></entry></feed>"#;
        assert_eq!(
            links(atom),
            ["https://example.org/p/1", "https://example.org/p/2"]
        );
        assert!(links("not xml <<").is_empty());
    }
}
