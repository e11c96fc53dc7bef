//! Pages and files into documents: the item links of a list page, the
//! hosts a profile allows, an item's document with its profile applied,
//! an attachment's, and the twins (one file in two formats).

use super::canonical::canonical;
use super::fetch::Fetched;
use super::profile::Profile;
use crate::document::{DocType, Document, Lang};
use crate::enrich::Enricher;
use crate::extract::{self, Format, html};

/// Lines of page text that change on every visit ("Read : 16466",
/// "조회수 123"), left out of the document so its hash stays put.
pub(crate) fn volatile() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"(?i)\b(read|views?|hits?|visitas|vistas|lecturas)\s*[:：]?\s*[\d,.]+|(조회수|조회)\s*[:：]?\s*[\d,]+",
        )
        .ok()
    })
    .as_ref()
}

/// Links selected on a list page, as canonical item URLs.
pub(crate) fn item_urls(p: &Profile, page_url: &str, text: &str) -> Option<Vec<String>> {
    let links = html::links(text, &p.items.selector)?;
    let base = url::Url::parse(page_url).ok()?;
    let keep = p
        .items
        .pattern
        .as_deref()
        .and_then(|r| regex::Regex::new(r).ok());
    let js = p
        .items
        .js_capture
        .as_deref()
        .and_then(|r| regex::Regex::new(r).ok());
    let mut out = Vec::new();
    for link in links {
        let href = link.href.unwrap_or_default();
        let href = href.trim();
        let is_script = href.to_ascii_lowercase().starts_with("javascript:");
        let absolute = if is_script || href.is_empty() || href.starts_with('#') {
            // `javascript:fn_view('123')` or an onclick (also beside a
            // `javascript:void(0)` href): capture, fill the template.
            let script = is_script.then(|| href.to_string());
            let codes: Vec<String> = script.into_iter().chain(link.onclick.clone()).collect();
            match (&js, &p.items.js_template) {
                (Some(re), Some(template)) => codes.iter().find_map(|code| {
                    re.captures(code).map(|c| {
                        let mut u = template.clone();
                        for i in 1..c.len() {
                            u = u.replace(&format!("{{{i}}}"), c.get(i).map_or("", |m| m.as_str()));
                        }
                        u
                    })
                }),
                _ => None,
            }
        } else {
            base.join(href).ok().map(|u| u.to_string())
        };
        let Some(absolute) = absolute else { continue };
        if keep.as_ref().is_some_and(|re| !re.is_match(&absolute)) {
            continue;
        }
        if let Some(c) = canonical(&absolute, &p.drop_params)
            && !out.contains(&c)
        {
            out.push(c);
        }
    }
    Some(out)
}

/// Whether `url`'s host is one of `hosts`: a host alone (`example.org`,
/// any port) or with its port (`example.org:8080`, that port only).
pub(crate) fn host_allowed(hosts: &[String], url: &str) -> bool {
    let Some(u) = url::Url::parse(url).ok() else {
        return false;
    };
    let Some(host) = u.host_str().map(str::to_ascii_lowercase) else {
        return false;
    };
    let with_port = u.port_or_known_default().map(|p| format!("{host}:{p}"));
    hosts.iter().any(|h| {
        let h = h.trim().to_ascii_lowercase();
        h == host || with_port.as_deref() == Some(h.as_str())
    })
}

/// The detail page as a document.
pub(crate) fn item_document(
    p: &Profile,
    url: &str,
    f: &Fetched,
) -> Result<(Document, bool), String> {
    let format = extract::detect(&f.body, url).ok_or("unsupported type")?;
    if format != Format::Html {
        return Err(format!("a {} where a page was expected", format.name()));
    }
    let (text, _) = extract::encoding::decode(&f.body, f.charset.as_deref(), true);
    let sel = html::Selectors {
        title: p.detail.title.as_deref(),
        date: p.detail.date.as_deref(),
        body: p.detail.body.as_deref(),
    };
    let (x, matched) = html::extract_with(&text, &sel, &p.date_formats);
    let mut doc = Document::new(url, p.name.clone(), x.title);
    doc.id = Document::id_for(url);
    doc.body = match volatile() {
        Some(re) => re.replace_all(&x.body, "").into_owned(),
        None => x.body,
    };
    if doc.title.trim().is_empty() {
        return Err("no title found".into());
    }
    apply_profile(p, &mut doc, x.lang.as_deref());
    doc.published = x.published;
    Ok((doc, matched))
}

pub(crate) fn apply_profile(p: &Profile, doc: &mut Document, declared: Option<&str>) {
    doc.lang = p.lang.as_deref().or(declared).and_then(Lang::parse);
    if let Some(t) = p.doc_type {
        doc.doc_type = t;
    }
    doc.countries = p.countries.clone();
    doc.event = p.event.clone();
}

/// An attachment as a document of its own, `parent` set.
pub(crate) fn attachment_document(
    p: &Profile,
    url: &str,
    f: &Fetched,
    parent: &Document,
    enricher: Option<&Enricher>,
) -> Result<Document, String> {
    let name = f
        .filename
        .clone()
        .unwrap_or_else(|| url.rsplit('/').next().unwrap_or(url).to_string());
    let format = extract::detect(&f.body, &name).ok_or_else(|| {
        format!(
            "unsupported type ({})",
            f.content_type.as_deref().unwrap_or("no content type")
        )
    })?;
    // A server that says PDF but sends an error page: not the file.
    let says_pdf = f.content_type.as_deref().is_some_and(|t| t.contains("pdf"))
        || name.to_ascii_lowercase().ends_with(".pdf");
    if says_pdf && format != Format::Pdf {
        return Err("announced as a PDF, but it is not one".into());
    }
    let x = extract::extract(&f.body, format, f.charset.as_deref())
        .map_err(|e| format!("extraction failed: {e}"))?;
    if x.body.trim().is_empty() {
        return Err("no text in the file".into());
    }
    let title = if x.title.trim().is_empty() {
        name.clone()
    } else {
        x.title
    };
    let mut doc = Document::new(url, p.name.clone(), title);
    doc.id = Document::id_for(url);
    // What the file says about itself wins over the profile: the language
    // it declares, else the one its text is in (a Spanish PDF attached to
    // an English notice is Spanish), else the profile's.
    let own_lang = x
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .or_else(|| crate::enrich::lang::detect(&x.body));
    doc.body = x.body;
    doc.pages = x.pages;
    apply_profile(p, &mut doc, None);
    if own_lang.is_some() {
        doc.lang = own_lang;
    }
    // The countries the file names, else the profile's.
    if let Some(e) = enricher {
        let named = e.countries_named(&doc.title, &crate::enrich::searchable_text(&doc));
        if !named.is_empty() {
            doc.countries = named;
        }
    }
    doc.doc_type = if format == Format::Pptx {
        DocType::Presentation
    } else {
        p.doc_type.unwrap_or_default()
    };
    doc.published = x.published.or(parent.published);
    doc.parent = Some(parent.id.clone());
    doc.file_name = f.filename.clone();
    Ok(doc)
}

/// The file name without its extension: HWP, HWPX and PDF twins of one
/// release share it.
pub(crate) fn stem(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.rsplit_once('.')
        .map_or(base, |(s, _)| s)
        .trim()
        .to_lowercase()
}

/// What twins share: the stem of their file name. A download URL without
/// a file name (`FileDown.do?atchFileId=…&fileSn=2`, the name in a header
/// we could not read) is its own group: its path is every attachment's.
pub(crate) fn twin_key(url: &str, f: &Fetched) -> String {
    match &f.filename {
        Some(name) => stem(name),
        None if url.contains('?') => url.to_string(),
        None => stem(url.split('#').next().unwrap_or(url)),
    }
}

/// Preference among twins: the one whose text comes out best.
pub(crate) fn twin_rank(format: Option<Format>) -> u8 {
    match format {
        Some(Format::Hwpx) => 0,
        Some(Format::Pdf) => 1,
        Some(Format::Docx) => 2,
        Some(Format::Hwp) => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_counts_are_removed() {
        let re = volatile().unwrap();
        assert_eq!(
            re.replace_all("Date : 2018.06.26 Read : 16466", "").trim(),
            "Date : 2018.06.26"
        );
        assert_eq!(
            re.replace_all("등록일 2019-03-20 조회수 1,234", "").trim(),
            "등록일 2019-03-20"
        );
        assert_eq!(re.replace_all("Visitas: 77 hoy", "").trim(), "hoy");
    }

    #[test]
    fn item_links_in_scripts_and_onclicks_become_urls() {
        let toml = r#"
[[source]]
name = "board"
[source.list]
url = "http://127.0.0.1:9/list.do?page={page}"
[source.items]
selector = "td a"
pattern = "view\\.do"
js_capture = "fn_view\\('(\\d+)'\\)"
js_template = "http://127.0.0.1:9/view.do?id={1}"
"#;
        let file: super::super::profile::SourcesFile = toml::from_str(toml).unwrap();
        let page = r##"<table><tr>
            <td><a href="javascript:fn_view('1')">one</a></td>
            <td><a href="#" onclick="fn_view('2'); return false;">two</a></td>
            <td><a href="javascript:void(0)" onclick="fn_view('3')">three</a></td>
            <td><a href="javascript:void(0)">nothing to capture</a></td>
            <td><a href="/view.do?id=4">four</a></td>
            <td><a href="/elsewhere.do">not an item</a></td>
        </tr></table>"##;
        let urls = item_urls(&file.sources[0], "http://127.0.0.1:9/list.do?page=1", page).unwrap();
        let ids: Vec<&str> = urls.iter().filter_map(|u| u.rsplit('=').next()).collect();
        assert_eq!(ids, ["1", "2", "3", "4"], "{urls:?}");
    }

    #[test]
    fn allowed_hosts_may_name_a_port() {
        let hosts = vec![
            "example.org".to_string(),
            "Board.example.org:8080".to_string(),
        ];
        assert!(host_allowed(&hosts, "https://example.org/a"));
        assert!(host_allowed(&hosts, "http://example.org:9000/a"));
        assert!(host_allowed(&hosts, "http://board.example.org:8080/list"));
        assert!(!host_allowed(&hosts, "http://board.example.org:8081/list"));
        assert!(!host_allowed(&hosts, "http://board.example.org/list"));
        assert!(!host_allowed(&hosts, "http://other.example.org/"));
        assert!(!host_allowed(&hosts, "not a url"));
    }

    #[test]
    fn twins_share_a_stem() {
        assert_eq!(
            stem("보도자료(파라과이).hwp"),
            stem("보도자료(파라과이).PDF")
        );
        assert!(twin_rank(Some(Format::Hwpx)) < twin_rank(Some(Format::Hwp)));
    }
}
