//! The index: tantivy generations under the index directory, a pointer file
//! naming the current one, and what each generation was built with.
//!
//! ```text
//! index/CURRENT            the name of the generation searches use
//! index/gen-000007/        a tantivy index + egovkb-index.json
//! ```
//!
//! `egovkb index` updates the current generation in place (tantivy commits
//! are atomic); `egovkb reindex` builds a new generation beside it, checks
//! it, then replaces `CURRENT` by a rename. A kill at any moment leaves the
//! last good generation in service.

// The facets, the query grammar and snippets are the core's (both
// engines use them); their old paths stay valid.
pub use crate::core::{facet, query, snippet};

pub mod bits;
pub mod bitset;
pub mod build;
pub mod languages;
pub mod matching;
pub mod schema;
pub mod search;
pub mod snapshot;
pub mod stats;
pub mod terms;
pub mod typos;
pub mod versions;

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::Engine;

const CURRENT: &str = "CURRENT";
const META: &str = "egovkb-index.json";

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("no index in {0} yet: run `egovkb index`")]
    NoIndex(PathBuf),
    #[error(
        "the index in {path} was built with other analysis ({built}); this egovkb analyses with \
         {now}: run `egovkb reindex`"
    )]
    Stale {
        path: PathBuf,
        built: String,
        now: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("index {path}: {source}")]
    Tantivy {
        path: PathBuf,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error(
        "the new generation has {indexed} documents but the corpus has {expected}; it was not put into service"
    )]
    Check { indexed: u64, expected: u64 },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Vectors(#[from] crate::semantic::vectors::VectorError),
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IndexError + '_ {
    move |source| IndexError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn tv(path: &Path) -> impl FnOnce(tantivy::TantivyError) -> IndexError + '_ {
    move |source| IndexError::Tantivy {
        path: path.to_path_buf(),
        source,
    }
}

/// What a generation was built with and holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexMeta {
    pub generation: String,
    /// Analyzer version, dictionary, vocabularies: must equal the running
    /// egovkb's, or the index needs a reindex.
    pub analysis: String,
    pub documents: u64,
    pub updated: String,
    /// The index's commit (tantivy's opstamp) that the passage vectors
    /// were made for: `index` finding nothing changed leaves a generation
    /// alone only when its vectors are of its last commit (not so after a
    /// kill between the two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed: Option<u64>,
}

/// Everything that decides the terms of the index and how it keeps them:
/// the analysis, the vocabularies and the schema; recorded with each
/// generation, so that one built otherwise asks for `egovkb reindex`.
pub fn fingerprint(engine: &Engine) -> String {
    format!(
        "{}/vocab-{}/schema-v{}",
        crate::analysis::fingerprint(),
        engine.enricher.fingerprint(),
        schema::SCHEMA_VERSION
    )
}

/// The index directory.
#[derive(Debug, Clone)]
pub struct IndexDir {
    root: PathBuf,
}

impl IndexDir {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The generation in service, if any.
    pub fn current(&self) -> Option<String> {
        let name = fs::read_to_string(self.root.join(CURRENT)).ok()?;
        let name = name.trim().to_string();
        self.path_of(&name).join(META).is_file().then_some(name)
    }

    /// The generation in service and its record, if it was built with
    /// `analysis`; otherwise the error that says to reindex.
    pub fn in_service(&self, analysis: &str) -> Result<(String, IndexMeta), IndexError> {
        let no_index = || IndexError::NoIndex(self.root.clone());
        let generation = self.current().ok_or_else(no_index)?;
        let meta = self.meta(&generation).ok_or_else(no_index)?;
        if meta.analysis != analysis {
            return Err(IndexError::Stale {
                path: self.path_of(&generation),
                built: meta.analysis,
                now: analysis.to_string(),
            });
        }
        Ok((generation, meta))
    }

    pub fn path_of(&self, generation: &str) -> PathBuf {
        self.root.join(generation)
    }

    pub fn meta(&self, generation: &str) -> Option<IndexMeta> {
        let text = fs::read_to_string(self.path_of(generation).join(META)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub(crate) fn write_meta(&self, meta: &IndexMeta) -> Result<(), IndexError> {
        let path = self.path_of(&meta.generation).join(META);
        let json = serde_json::to_vec_pretty(meta).unwrap_or_default();
        write_atomic(&path, &json)
    }

    /// Generation directories, oldest first.
    fn generations(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().to_string();
                (n.starts_with("gen-") && e.path().is_dir()).then_some(n)
            })
            .collect();
        names.sort();
        names
    }

    /// A fresh generation name, after every existing one.
    pub(crate) fn next_generation(&self) -> String {
        let last = self
            .generations()
            .iter()
            .filter_map(|g| g.trim_start_matches("gen-").parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        format!("gen-{:06}", last + 1)
    }

    /// Put a generation in service: `CURRENT` is replaced by a rename.
    pub(crate) fn set_current(&self, generation: &str) -> Result<(), IndexError> {
        write_atomic(
            &self.root.join(CURRENT),
            format!("{generation}\n").as_bytes(),
        )
    }

    /// Delete every generation but `keep` (old ones, and unfinished builds).
    pub(crate) fn prune(&self, keep: &str) {
        for g in self.generations() {
            if g != keep {
                let _ = fs::remove_dir_all(self.path_of(&g));
            }
        }
    }

    /// The writers' lock: one `index` or `reindex` at a time.
    pub(crate) fn lock(&self) -> Result<File, IndexError> {
        fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let path = self.root.join(".lock");
        let f = File::create(&path).map_err(io(&path))?;
        fs2::FileExt::lock_exclusive(&f).map_err(io(&path))?;
        Ok(f)
    }
}

/// Write a file by temporary file, fsync and rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IndexError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    tmp.write_all(bytes).map_err(io(path))?;
    tmp.as_file().sync_all().map_err(io(path))?;
    tmp.persist(path).map_err(|e| IndexError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
