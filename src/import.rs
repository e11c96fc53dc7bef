//! Importing files and folders into the corpus store. Each file's type
//! comes from its bytes: HTML, PPTX, DOCX, HWPX, Markdown and text become
//! one document each (id from the file's path, source `local`); JSON (one
//! document or an array) and JSONL (one a line) in the `Document` format are
//! the bulk-load path, and a record keeps the `id` it carries (one is made
//! from its `url` when it has none). A bad record or file is reported with
//! the reason and skipped; the rest goes on.

use std::path::{Path, PathBuf};

use crate::document::{DocType, Document, Lang};
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
}

impl ImportReport {
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
fn document_of(path: &Path, bytes: &[u8], format: Format) -> Result<Document, String> {
    let x = extract::extract(bytes, format, None).map_err(|e| e.to_string())?;
    if x.body.trim().is_empty() && x.title.trim().is_empty() {
        return Err(format!("no text found in this {} file", format.name()));
    }
    let location = std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string();
    let title = if x.title.trim().is_empty() {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        x.title
    };
    let mut doc = Document::new(location, "local", title);
    doc.body = x.body;
    doc.pages = x.pages;
    doc.lang = x.lang.as_deref().and_then(Lang::parse);
    doc.published = x.published;
    if format == Format::Pptx {
        doc.doc_type = DocType::Presentation;
    }
    doc.validate()?;
    Ok(doc)
}

/// Import files and folders (walked recursively) into the store.
pub fn import(store: &Store, paths: &[PathBuf]) -> ImportReport {
    let mut report = ImportReport::default();
    for path in paths.iter().flat_map(|p| files(p)) {
        let name = path.display().to_string();
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
            Some(format) => match document_of(&path, &bytes, format) {
                Ok(doc) => match store.put(&doc) {
                    Ok(outcome) => report.record(outcome),
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
