//! The corpus store: the source of truth for every document, one
//! human-readable JSON file per document under `<corpus>/documents/`,
//! written atomically (temporary file, fsync, rename), so that a crash never
//! leaves half a record. The index can always be rebuilt from it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::document::Document;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("document {id}: {reason}")]
    Invalid { id: String, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What [`Store::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Added,
    Updated,
    Unchanged,
}

/// A record that could not be read, and why; reading goes on without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// The documents of a corpus directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// Open (creating if needed) the store of the corpus at `corpus`.
    pub fn open(corpus: &Path) -> Result<Self, StoreError> {
        let dir = corpus.join("documents");
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(Self { dir })
    }

    /// The folder holding the records.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a document id. Ids that are safe file names are used as
    /// they are (readable); any other id is hashed.
    pub fn path_of(&self, id: &str) -> PathBuf {
        let safe = !id.is_empty()
            && id.len() <= 100
            && !id.starts_with('.')
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        let name = if safe {
            id.to_string()
        } else {
            format!("h-{}", hex::encode(&Sha256::digest(id.as_bytes())[..16]))
        };
        let shard: String = name
            .trim_start_matches("h-")
            .chars()
            .take(2)
            .collect::<String>()
            .to_ascii_lowercase();
        self.dir.join(shard).join(format!("{name}.json"))
    }

    /// Store a document, replacing any record with the same id.
    pub fn put(&self, doc: &Document) -> Result<PutOutcome, StoreError> {
        doc.validate().map_err(|reason| StoreError::Invalid {
            id: doc.id.clone(),
            reason,
        })?;
        let path = self.path_of(&doc.id);
        let mut json = serde_json::to_vec_pretty(doc).map_err(|e| StoreError::Invalid {
            id: doc.id.clone(),
            reason: e.to_string(),
        })?;
        json.push(b'\n');
        let outcome = match fs::read(&path) {
            Ok(old) if old == json => return Ok(PutOutcome::Unchanged),
            Ok(_) => PutOutcome::Updated,
            Err(_) => PutOutcome::Added,
        };
        let parent = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(parent).map_err(io(parent))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .suffix(".json")
            .tempfile_in(parent)
            .map_err(io(parent))?;
        tmp.write_all(&json).map_err(io(&path))?;
        tmp.as_file().sync_all().map_err(io(&path))?;
        tmp.persist(&path).map_err(|e| StoreError::Io {
            path: path.clone(),
            source: e.error,
        })?;
        Ok(outcome)
    }

    /// Read one document; `None` when the store has no record of that id.
    pub fn get(&self, id: &str) -> Result<Option<Document>, Skipped> {
        let path = self.path_of(id);
        if !path.exists() {
            return Ok(None);
        }
        read_record(&path).map(Some)
    }

    /// Delete a document; `false` when there was none.
    pub fn remove(&self, id: &str) -> Result<bool, StoreError> {
        let path = self.path_of(id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::Io { path, source: e }),
        }
    }

    /// Every record file, sorted (so reads are in a stable order).
    pub fn record_paths(&self) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        let Ok(shards) = fs::read_dir(&self.dir) else {
            return paths;
        };
        for shard in shards.flatten() {
            let Ok(files) = fs::read_dir(shard.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name();
                let name = name.to_string_lossy();
                if name.ends_with(".json") && !name.starts_with(".tmp-") {
                    paths.push(f.path());
                }
            }
        }
        paths.sort();
        paths
    }

    /// Read one record file (one of [`Store::record_paths`]). A record that
    /// cannot be read is logged and reported, not fatal.
    pub fn read(&self, path: &Path) -> Result<Document, Skipped> {
        read_record(path).inspect_err(|s| {
            tracing::warn!(path = %s.path.display(), reason = %s.reason, "skipping a corrupt record");
        })
    }

    /// Every record, read one at a time (memory for one document, whatever
    /// the size of the corpus).
    pub fn records(&self) -> impl Iterator<Item = Result<Document, Skipped>> + '_ {
        self.record_paths().into_iter().map(|p| self.read(&p))
    }

    /// Every document; records that cannot be read are reported, not fatal.
    pub fn load_all(&self) -> (Vec<Document>, Vec<Skipped>) {
        let mut docs = Vec::new();
        let mut skipped = Vec::new();
        for r in self.records() {
            match r {
                Ok(d) => docs.push(d),
                Err(s) => skipped.push(s),
            }
        }
        (docs, skipped)
    }

    /// Number of record files (readable or not).
    pub fn len(&self) -> usize {
        self.record_paths().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn read_record(path: &Path) -> Result<Document, Skipped> {
    let skipped = |reason: String| Skipped {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = fs::read(path).map_err(|e| skipped(e.to_string()))?;
    let doc: Document = serde_json::from_slice(&bytes)
        .map_err(|e| skipped(format!("not a document record: {e}")))?;
    doc.validate().map_err(skipped)?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Lang;

    fn doc(url: &str, title: &str) -> Document {
        let mut d = Document::new(url, "test", title);
        d.lang = Some(Lang::en());
        d.body = "Body text.".into();
        d
    }

    #[test]
    fn put_get_update_remove() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut d = doc("https://a.example/1", "One");
        assert_eq!(store.put(&d).unwrap(), PutOutcome::Added);
        assert_eq!(store.put(&d).unwrap(), PutOutcome::Unchanged);
        d.title = "One, revised".into();
        assert_eq!(store.put(&d).unwrap(), PutOutcome::Updated);
        assert_eq!(store.get(&d.id).unwrap().unwrap().title, "One, revised");
        assert_eq!(store.len(), 1);
        assert!(store.remove(&d.id).unwrap());
        assert!(!store.remove(&d.id).unwrap());
        assert!(store.get(&d.id).unwrap().is_none());
    }

    #[test]
    fn records_are_readable_json_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let d = doc("https://a.example/2", "Two");
        store.put(&d).unwrap();
        let text = fs::read_to_string(store.path_of(&d.id)).unwrap();
        assert!(text.contains("\"title\": \"Two\""), "{text}");
        // no temporary files left behind
        let parent = store.path_of(&d.id).parent().unwrap().to_path_buf();
        assert_eq!(fs::read_dir(parent).unwrap().count(), 1);
    }

    #[test]
    fn unsafe_ids_are_hashed_into_file_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut d = doc("u", "Odd id");
        d.id = "../../etc/passwd".into();
        store.put(&d).unwrap();
        let p = store.path_of(&d.id);
        assert!(p.starts_with(store.dir()));
        assert!(p.file_name().unwrap().to_string_lossy().starts_with("h-"));
        assert_eq!(store.get(&d.id).unwrap().unwrap().id, "../../etc/passwd");
    }

    #[test]
    fn corrupt_records_are_reported_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for i in 0..3 {
            store
                .put(&doc(&format!("https://a.example/{i}"), "Fine"))
                .unwrap();
        }
        let bad = store.dir().join("zz").join("broken.json");
        fs::create_dir_all(bad.parent().unwrap()).unwrap();
        fs::write(&bad, b"{\"id\": \"broken\", \"title\": ").unwrap();
        let (docs, skipped) = store.load_all();
        assert_eq!(docs.len(), 3);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].path, bad);
        assert!(skipped[0].reason.contains("not a document record"));
    }

    #[test]
    fn invalid_documents_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut d = doc("u", "t");
        d.countries = vec!["paraguay".into()];
        assert!(matches!(store.put(&d), Err(StoreError::Invalid { .. })));
        assert!(store.is_empty());
    }
}
