//! Importing documents into the corpus store. For now the bulk-load path:
//! JSON (one document or an array) and JSONL (one document a line) in the
//! `Document` format; a record keeps the `id` it carries (one is made from
//! its `url` when it has none). Bad records are reported and skipped.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::document::Document;
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

/// Import JSON and JSONL files (or folders of them) into the store.
pub fn import(store: &Store, paths: &[PathBuf]) -> ImportReport {
    let mut report = ImportReport::default();
    for path in paths.iter().flat_map(|p| files(p)) {
        let name = path.display().to_string();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                report.skipped.push((name, e.to_string()));
                continue;
            }
        };
        match ext.as_str() {
            "jsonl" | "ndjson" => {
                for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
                    let at = format!("{name}:{}", n + 1);
                    let line = match line {
                        Ok(l) => l,
                        Err(e) => {
                            report.skipped.push((at, format!("unreadable line: {e}")));
                            continue;
                        }
                    };
                    if line.trim().is_empty() {
                        continue;
                    }
                    match serde_json::from_str(&line) {
                        Ok(v) => put(store, &mut report, at, v),
                        Err(e) => report.skipped.push((at, format!("not JSON: {e}"))),
                    }
                }
            }
            "json" => {
                match serde_json::from_reader::<_, serde_json::Value>(std::io::BufReader::new(file))
                {
                    Ok(serde_json::Value::Array(items)) => {
                        for (i, v) in items.into_iter().enumerate() {
                            put(store, &mut report, format!("{name}[{i}]"), v);
                        }
                    }
                    Ok(v) => put(store, &mut report, name, v),
                    Err(e) => report.skipped.push((name, format!("not JSON: {e}"))),
                }
            }
            _ => report.skipped.push((
                name,
                "unsupported type (this version imports JSON and JSONL documents)".into(),
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
