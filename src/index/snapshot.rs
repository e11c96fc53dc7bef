//! `egovkb snapshot` and `egovkb restore`: a consistent, checksummed copy of
//! the index generation in service and of the corpus store, and the way
//! back.
//!
//! A snapshot is one tar file: `index/<files of the generation>`,
//! `corpus/documents/<records>`, then `manifest.json` (the format, the
//! egovkb version, the generation and its analysis, and each file's size
//! and SHA-256). It is taken under the index writers' lock (an `index` or
//! `reindex` waits for it; the server goes on answering), written to
//! `PATH.partial` and renamed to `PATH` once complete and synced: a
//! snapshot killed half-way leaves only the `.partial` file, which has no
//! manifest and is refused.
//!
//! A restore reads the whole snapshot into a staging generation (and a
//! staging corpus store) first, checking every file against the manifest;
//! a corrupt, truncated or foreign snapshot is refused and nothing changes.
//! Only then is the staged generation put in service (one rename, as a
//! reindex does: a running server switches to it) and the corpus store
//! replaced.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{IndexDir, IndexMeta, META};

/// The snapshot format this egovkb writes and reads.
pub const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("there is no index in service in {0} to take a snapshot of")]
    NoIndex(PathBuf),
    #[error("{path} is not a usable snapshot: {reason}; nothing was restored")]
    Refused { path: PathBuf, reason: String },
    #[error("{0}")]
    Index(#[from] super::IndexError),
}

/// What a snapshot holds, written last in it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub egovkb: String,
    pub generation: String,
    pub analysis: String,
    pub documents: u64,
    /// Path in the snapshot → (size, SHA-256 in hex).
    pub files: BTreeMap<String, (u64, String)>,
}

/// What a snapshot or a restore did.
#[derive(Debug)]
pub struct Summary {
    pub generation: String,
    pub files: usize,
    pub bytes: u64,
    pub records: usize,
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Every file under `root`, as paths relative to it, sorted.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Take a snapshot of the generation in service of `index` and the corpus
/// store of `corpus` into `out`.
pub fn snapshot(index: &IndexDir, corpus: &Path, out: &Path) -> Result<Summary, SnapshotError> {
    let _lock = index.lock()?;
    let generation = index
        .current()
        .ok_or_else(|| SnapshotError::NoIndex(index.root().to_path_buf()))?;
    let meta = index
        .meta(&generation)
        .ok_or_else(|| SnapshotError::NoIndex(index.root().to_path_buf()))?;
    let partial = partial_path(out);
    let file = File::create(&partial).map_err(io_at(&partial))?;
    let mut tar = tar::Builder::new(io::BufWriter::new(file));
    let mut files = BTreeMap::new();
    let mut bytes = 0;
    let sources = [
        ("index", index.path_of(&generation)),
        ("corpus/documents", corpus.join("documents")),
    ];
    for (prefix, root) in &sources {
        for rel in files_under(root) {
            let path = root.join(&rel);
            let data = fs::read(&path).map_err(io_at(&path))?;
            let name = format!("{prefix}/{}", rel.to_string_lossy());
            append(&mut tar, &name, &data).map_err(io_at(&partial))?;
            bytes += data.len() as u64;
            files.insert(
                name,
                (data.len() as u64, hex::encode(Sha256::digest(&data))),
            );
        }
    }
    let records = files.keys().filter(|k| k.starts_with("corpus/")).count();
    let manifest = Manifest {
        format: FORMAT,
        egovkb: env!("CARGO_PKG_VERSION").to_string(),
        generation: generation.clone(),
        analysis: meta.analysis,
        documents: meta.documents,
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    append(&mut tar, MANIFEST, &json).map_err(io_at(&partial))?;
    let file = tar
        .into_inner()
        .and_then(|w| w.into_inner().map_err(io::IntoInnerError::into_error))
        .map_err(io_at(&partial))?;
    file.sync_all().map_err(io_at(&partial))?;
    fs::rename(&partial, out).map_err(io_at(out))?;
    Ok(Summary {
        generation,
        files: manifest.files.len(),
        bytes,
        records,
    })
}

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

fn append<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, name, data)
}

/// Restore `snapshot` into `index` and the corpus store of `corpus`. The
/// snapshot's index must have been built with `analysis` (this egovkb's).
pub fn restore(
    snapshot: &Path,
    index: &IndexDir,
    corpus: &Path,
    analysis: &str,
) -> Result<Summary, SnapshotError> {
    let refused = |reason: String| SnapshotError::Refused {
        path: snapshot.to_path_buf(),
        reason,
    };
    if snapshot.extension().is_some_and(|e| e == "partial") {
        return Err(refused(
            "it is a snapshot being written or interrupted (`egovkb snapshot` renames it \
             without .partial once it is whole)"
                .into(),
        ));
    }
    let _lock = index.lock()?;
    let stage = Stage::new(index, corpus)?;
    let (seen, manifest) = stage.unpack(snapshot).map_err(|e| match e {
        SnapshotError::Io { source, .. } => refused(format!("it cannot be read whole ({source})")),
        other => other,
    })?;
    let manifest = manifest.ok_or_else(|| refused("it has no manifest (cut short?)".into()))?;
    if manifest.format != FORMAT {
        return Err(refused(format!(
            "it is in snapshot format {} (egovkb {}); this egovkb reads format {FORMAT}",
            manifest.format, manifest.egovkb
        )));
    }
    if manifest.analysis != analysis {
        return Err(refused(format!(
            "its index was built with other analysis ({}); restore it with the egovkb that \
             made it, or import its documents and reindex",
            manifest.analysis
        )));
    }
    if seen != manifest.files {
        let missing = manifest.files.keys().find(|k| !seen.contains_key(*k));
        let wrong = seen.iter().find(|(k, v)| manifest.files.get(*k) != Some(v));
        return Err(refused(match (missing, wrong) {
            (Some(m), _) => format!("{m} is missing"),
            (_, Some((w, _))) => format!("{w} does not match its checksum"),
            _ => "its files differ from its manifest".into(),
        }));
    }
    let meta: IndexMeta = fs::read(stage.index.join(META))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| refused(format!("it has no readable {META}")))?;
    let generation = stage.put_in_service(index, corpus, meta)?;
    Ok(Summary {
        generation,
        files: seen.len(),
        bytes: seen.values().map(|(n, _)| n).sum(),
        records: seen.keys().filter(|k| k.starts_with("corpus/")).count(),
    })
}

/// Where a restore unpacks before anything is replaced; removed unless
/// put in service.
struct Stage {
    index: PathBuf,
    documents: PathBuf,
}

impl Stage {
    fn new(index: &IndexDir, corpus: &Path) -> Result<Self, SnapshotError> {
        let tag = format!(".restore-{}", std::process::id());
        let stage = Self {
            index: index.root().join(&tag),
            documents: corpus.join(format!("documents{tag}")),
        };
        for dir in [&stage.index, &stage.documents] {
            let _ = fs::remove_dir_all(dir);
            fs::create_dir_all(dir).map_err(io_at(dir))?;
        }
        Ok(stage)
    }

    /// Unpack every file, hashing it; the manifest if there is one.
    #[allow(clippy::type_complexity)]
    fn unpack(
        &self,
        snapshot: &Path,
    ) -> Result<(BTreeMap<String, (u64, String)>, Option<Manifest>), SnapshotError> {
        let file = File::open(snapshot).map_err(io_at(snapshot))?;
        let mut archive = tar::Archive::new(io::BufReader::new(file));
        let mut seen = BTreeMap::new();
        let mut manifest = None;
        let refused = |reason: String| SnapshotError::Refused {
            path: snapshot.to_path_buf(),
            reason,
        };
        for entry in archive.entries().map_err(io_at(snapshot))? {
            let mut entry = entry.map_err(io_at(snapshot))?;
            let name = entry
                .path()
                .map_err(io_at(snapshot))?
                .to_string_lossy()
                .into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).map_err(io_at(snapshot))?;
            if name == MANIFEST {
                manifest = Some(
                    serde_json::from_slice(&data)
                        .map_err(|e| refused(format!("its manifest is not readable ({e})")))?,
                );
                continue;
            }
            let target = self
                .target(&name)
                .ok_or_else(|| refused(format!("it holds a file outside its folders: {name}")))?;
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(io_at(parent))?;
            }
            fs::write(&target, &data).map_err(io_at(&target))?;
            seen.insert(
                name,
                (data.len() as u64, hex::encode(Sha256::digest(&data))),
            );
        }
        Ok((seen, manifest))
    }

    /// Where a snapshot's file goes in the stage: only plain relative
    /// paths under `index/` and `corpus/documents/`.
    fn target(&self, name: &str) -> Option<PathBuf> {
        let (root, rest) = if let Some(rest) = name.strip_prefix("index/") {
            (&self.index, rest)
        } else {
            (&self.documents, name.strip_prefix("corpus/documents/")?)
        };
        let rel = Path::new(rest);
        let plain = rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        (plain && !rest.is_empty()).then(|| root.join(rel))
    }

    /// The staged generation in service under a new name, and the staged
    /// documents in place of the corpus store's.
    fn put_in_service(
        self,
        index: &IndexDir,
        corpus: &Path,
        mut meta: IndexMeta,
    ) -> Result<String, SnapshotError> {
        let generation = index.next_generation();
        let dir = index.path_of(&generation);
        fs::rename(&self.index, &dir).map_err(io_at(&dir))?;
        meta.generation = generation.clone();
        index.write_meta(&meta)?;
        let documents = corpus.join("documents");
        let old = corpus.join(format!("documents.before-restore-{}", std::process::id()));
        if documents.exists() {
            fs::rename(&documents, &old).map_err(io_at(&documents))?;
        }
        fs::rename(&self.documents, &documents).map_err(io_at(&documents))?;
        index.set_current(&generation)?;
        index.prune(&generation);
        let _ = fs::remove_dir_all(&old);
        Ok(generation)
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.index);
        let _ = fs::remove_dir_all(&self.documents);
    }
}
