//! Importing files and folders into the corpus store. Each file's type
//! comes from its bytes: HTML, PPTX, DOCX, HWPX, Markdown and text become
//! one document each (id from the file's path, source `local`); JSON (one
//! document or an array) and JSONL (one a line) in the `Document` format are
//! the bulk-load path, and a record keeps the `id` it carries (one is made
//! from its `url` when it has none). A bad record or file is reported with
//! the reason and skipped; the rest goes on.

use std::path::{Path, PathBuf};

use crate::document::{DocType, Document, Lang};
use crate::extract::ocr::OcrReport;
use crate::extract::{self, Format};
use crate::store::{PutOutcome, Store};

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// (where, why) for each record or file that was skipped.
    pub skipped: Vec<(String, String)>,
    /// Scanned pages read by OCR.
    pub ocr_pages: usize,
    /// (where: a file's page, why) for each scanned page left without text.
    pub ocr_unread: Vec<(String, String)>,
}

impl ImportReport {
    fn ocr(&mut self, file: &str, ocr: OcrReport) {
        self.ocr_pages += ocr.read;
        self.ocr_unread.extend(
            ocr.unread
                .into_iter()
                .map(|(page, why)| (format!("{file} page {page}"), why)),
        );
    }

    fn record(&mut self, outcome: PutOutcome) {
        match outcome {
            PutOutcome::Added => self.added += 1,
            PutOutcome::Updated => self.updated += 1,
            PutOutcome::Unchanged => self.unchanged += 1,
        }
    }
}

/// Parse one JSON record; fill an id from the url when missing.
fn record(value: serde_json::Value) -> Result<Document, String> {
    let mut value = value;
    if let Some(obj) = value.as_object_mut()
        && !obj.contains_key("id")
        && let Some(url) = obj.get("url").and_then(|u| u.as_str())
    {
        let id = Document::id_for(url);
        obj.insert("id".into(), serde_json::Value::String(id));
    }
    let doc: Document = serde_json::from_value(value).map_err(|e| e.to_string())?;
    doc.validate()?;
    Ok(doc)
}

fn put(store: &Store, report: &mut ImportReport, at: String, value: serde_json::Value) {
    match record(value) {
        Ok(doc) => match store.put(&doc) {
            Ok(outcome) => report.record(outcome),
            Err(e) => report.skipped.push((at, e.to_string())),
        },
        Err(reason) => report.skipped.push((at, reason)),
    }
}

/// Files to import under `path` (a file, or a folder walked recursively).
fn files(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        let mut out = Vec::new();
        let mut stack = vec![path.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    } else {
        vec![path.to_path_buf()]
    }
}

/// The name of a folder's metadata file (not a document itself).
pub const META_FILE: &str = "meta.toml";

/// What a folder's `meta.toml` says of its files: `[defaults]` for every
/// file in the folder (and below, unless a deeper `meta.toml` says
/// otherwise) and `[files."name"]` for one file. Keys: `doc_type`,
/// `source`, `event`, `countries`, `url`, `url_base` (the url is it plus
/// the file's name), `published` (YYYY-MM-DD), `lang`, and `parent`: the
/// page a file was attached to, as a path from the file's folder.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMeta {
    #[serde(default)]
    pub doc_type: Option<DocType>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub countries: Option<Vec<String>>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub url_base: Option<String>,
    #[serde(default, deserialize_with = "date")]
    pub published: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub parent: Option<String>,
}

/// A date as TOML writes it (`2018-06-26`) or as a string.
fn date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<chrono::NaiveDate>, D::Error> {
    use serde::Deserialize;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Toml(toml::value::Datetime),
        Text(String),
    }
    let bad = || serde::de::Error::custom("a date is written 2018-06-26");
    match Value::deserialize(d)? {
        Value::Toml(dt) => {
            let day = dt.date.ok_or_else(bad)?;
            chrono::NaiveDate::from_ymd_opt(
                i32::from(day.year),
                u32::from(day.month),
                u32::from(day.day),
            )
            .map(Some)
            .ok_or_else(bad)
        }
        Value::Text(s) => chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(Some)
            .map_err(|_| bad()),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaFile {
    #[serde(default)]
    defaults: FileMeta,
    #[serde(default)]
    files: std::collections::HashMap<String, FileMeta>,
}

impl FileMeta {
    /// `self`, with what `over` says instead.
    fn overlay(&self, over: &FileMeta) -> FileMeta {
        FileMeta {
            doc_type: over.doc_type.or(self.doc_type),
            source: over.source.clone().or_else(|| self.source.clone()),
            event: over.event.clone().or_else(|| self.event.clone()),
            countries: over.countries.clone().or_else(|| self.countries.clone()),
            url: over.url.clone().or_else(|| self.url.clone()),
            url_base: over.url_base.clone().or_else(|| self.url_base.clone()),
            published: over.published.or(self.published),
            lang: over.lang.clone().or_else(|| self.lang.clone()),
            parent: over.parent.clone().or_else(|| self.parent.clone()),
        }
    }

    fn apply(&self, doc: &mut Document) {
        if let Some(t) = self.doc_type {
            doc.doc_type = t;
        }
        if let Some(s) = &self.source {
            doc.source = s.clone();
        }
        if let Some(e) = &self.event {
            doc.event = Some(e.clone());
        }
        if let Some(c) = &self.countries {
            doc.countries = c.clone();
        }

        if let Some(p) = self.published {
            doc.published = Some(p);
        }
        if let Some(l) = self.lang.as_deref().and_then(Lang::parse) {
            doc.lang = Some(l);
        }
    }
}

/// The URL a file's document gets: its metadata's `url`, or `url_base`
/// and its name, or its absolute path.
fn url_of(file: &Path, meta: &FileMeta) -> String {
    if let Some(u) = &meta.url {
        return u.clone();
    }
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(base) = &meta.url_base {
        return format!("{base}{name}");
    }
    std::fs::canonicalize(file)
        .unwrap_or_else(|_| file.to_path_buf())
        .display()
        .to_string()
}

/// What a file's document id is made from when its URL is its path: for a
/// file inside the corpus directory `corpus`, its path relative to it
/// (`corpus:originals/en/x.html`), so that the corpus can move without its
/// documents being imported twice; elsewhere, the URL.
fn identity_of(url: &str, file: &Path, meta: &FileMeta, corpus: Option<&Path>) -> String {
    if meta.url.is_some() || meta.url_base.is_some() {
        return url.to_string();
    }
    let relative = corpus.and_then(|root| {
        let file = std::fs::canonicalize(file).ok()?;
        let rel = file.strip_prefix(root).ok()?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Some(format!("corpus:{}", parts.join("/")))
    });
    relative.unwrap_or_else(|| url.to_string())
}

/// The metadata that applies to `file`: every `meta.toml` from `root` down
/// to the file's folder, deeper ones winning, then the file's own entry.
fn meta_for(root: &Path, file: &Path) -> Result<FileMeta, String> {
    let mut folders = Vec::new();
    let mut dir = file.parent();
    while let Some(d) = dir {
        folders.push(d.to_path_buf());
        // A file imported alone: its own folder's metadata only.
        if d == root || !root.is_dir() {
            break;
        }
        dir = d.parent();
    }
    let mut meta = FileMeta::default();
    for folder in folders.iter().rev() {
        let path = folder.join(META_FILE);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let m: MetaFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        meta = meta.overlay(&m.defaults);
        if folder.as_path() == file.parent().unwrap_or(folder)
            && let Some(name) = file.file_name().and_then(|n| n.to_str())
            && let Some(own) = m.files.get(name)
        {
            meta = meta.overlay(own);
        }
    }
    Ok(meta)
}

/// Largest file imported.
const MAX_FILE_BYTES: u64 = 200 * 1024 * 1024;

/// Import JSON and JSONL records, one per line (a JSON array or object
/// when the whole file parses as one).
fn import_records(store: &Store, report: &mut ImportReport, name: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{FEFF}');
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        match value {
            serde_json::Value::Array(items) => {
                for (i, v) in items.into_iter().enumerate() {
                    put(store, report, format!("{name}[{i}]"), v);
                }
            }
            v => put(store, report, name.to_string(), v),
        }
        return;
    }
    for (n, line) in text.lines().enumerate() {
        let at = format!("{name}:{}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(v) => put(store, report, at, v),
            Err(e) => report.skipped.push((at, format!("not JSON: {e}"))),
        }
    }
}

/// One file as one document.
fn document_of(
    (root, corpus): (&Path, Option<&Path>),
    path: &Path,
    bytes: &[u8],
    format: Format,
    meta: &FileMeta,
) -> Result<(Document, OcrReport), String> {
    let mut x = extract::extract(bytes, format, None).map_err(|e| e.to_string())?;
    if x.body.trim().is_empty() && x.title.trim().is_empty() {
        // A scanned file: say why OCR did not read it.
        let why = x
            .ocr
            .unread
            .first()
            .map(|(page, why)| format!(" (page {page}: {why})"));
        return Err(format!(
            "no text found in this {} file{}",
            format.name(),
            why.unwrap_or_default()
        ));
    }
    let ocr = std::mem::take(&mut x.ocr);
    let location = url_of(path, meta);
    let title = if x.title.trim().is_empty() {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        x.title
    };
    let mut doc = Document::new(location, "local", title);
    doc.id = Document::id_for(&identity_of(&doc.url, path, meta, corpus));
    doc.body = x.body;
    doc.pages = x.pages;
    doc.lang = x.lang.as_deref().and_then(Lang::parse);
    doc.published = x.published;
    if format == Format::Pptx {
        doc.doc_type = DocType::Presentation;
    }
    meta.apply(&mut doc);
    if let Some(parent) = &meta.parent {
        // The page it was attached to: that file's document.
        let page = path.parent().unwrap_or(Path::new(".")).join(parent);
        if !page.is_file() {
            return Err(format!("parent `{parent}`: no such file next to it"));
        }
        let page_meta = meta_for(root, &page)?;
        let page_url = url_of(&page, &page_meta);
        doc.parent = Some(Document::id_for(&identity_of(
            &page_url, &page, &page_meta, corpus,
        )));
    }
    doc.validate()?;
    Ok((doc, ocr))
}

/// Import files and folders (walked recursively) into the store.
pub fn import(store: &Store, paths: &[PathBuf]) -> ImportReport {
    let mut report = ImportReport::default();
    let corpus = store
        .dir()
        .parent()
        .and_then(|c| std::fs::canonicalize(c).ok());
    for (root, path) in paths
        .iter()
        .flat_map(|p| files(p).into_iter().map(move |f| (p.clone(), f)))
    {
        let name = path.display().to_string();
        if path.file_name().is_some_and(|n| n == META_FILE) {
            continue;
        }
        let bytes = match std::fs::metadata(&path) {
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                report
                    .skipped
                    .push((name, format!("too big ({} MB)", m.len() / 1_000_000)));
                continue;
            }
            _ => match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    report.skipped.push((name, e.to_string()));
                    continue;
                }
            },
        };
        match extract::detect(&bytes, &name) {
            Some(Format::Documents) => import_records(store, &mut report, &name, &bytes),
            Some(format) => match meta_for(&root, &path).and_then(|meta| {
                document_of((&root, corpus.as_deref()), &path, &bytes, format, &meta)
            }) {
                Ok((doc, ocr)) => match store.put(&doc) {
                    Ok(outcome) => {
                        report.record(outcome);
                        report.ocr(&name, ocr);
                        // Stored by earlier versions under an id from its
                        // absolute path: that copy goes.
                        let old = Document::id_for(&doc.url);
                        if old != doc.id {
                            let _ = store.remove(&old);
                        }
                    }
                    Err(e) => report.skipped.push((name, e.to_string())),
                },
                Err(reason) => report.skipped.push((name, reason)),
            },
            None => report.skipped.push((
                name,
                "unsupported type (not HTML, PDF, PPTX, DOCX, HWP, HWPX, text or JSON)".into(),
            )),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_jsonl_keeping_ids_and_skipping_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("corpus")).unwrap();
        let file = dir.path().join("docs.jsonl");
        std::fs::write(
            &file,
            concat!(
                r#"{"id": "eval-1", "url": "eval:1", "source": "eval", "lang": "en", "title": "One", "body": "Text"}"#,
                "\n\n",
                r#"{"url": "https://example.org/2", "source": "x", "title": "Two", "lang": "es"}"#,
                "\n",
                "not json\n",
                r#"{"id": "bad", "url": "u", "source": "s", "title": "t", "countries": ["Paraguay"]}"#,
                "\n"
            ),
        )
        .unwrap();
        let r = import(&store, std::slice::from_ref(&file));
        assert_eq!(r.added, 2);
        assert_eq!(r.skipped.len(), 2, "{:?}", r.skipped);
        assert!(r.skipped[0].0.ends_with(":4"));
        assert!(store.get("eval-1").unwrap().is_some());
        assert!(
            store
                .get(&Document::id_for("https://example.org/2"))
                .unwrap()
                .is_some()
        );
        let again = import(&store, &[file]);
        assert_eq!(again.unchanged, 2);
    }
}
