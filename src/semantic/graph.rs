//! The approximate index over a generation's passage vectors: an HNSW
//! graph (usearch), built by `egovkb index` when the passages are many
//! and saved beside the vectors, so that the swap covers it and a search
//! process only reads it.
//!
//! ```text
//! index/gen-000007/vectors.hnsw   usearch's graph, its length (8 bytes), the SHA-256 of
//!                                 the passages' values it was built from (32), its own
//!                                 SHA-256 (32), "EGH2"
//! ```
//!
//! The graph's key of a passage is its place in the generation's vector
//! file. Cosine over the 8-bit values is the metric: each passage's own
//! scale does not change its direction. The graph only proposes
//! candidates; their similarity is then computed exactly.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use super::vectors::VectorError;
use crate::progress::Progress;

/// The file of a generation.
pub const FILE_NAME: &str = "vectors.hnsw";
const MAGIC: &[u8; 4] = b"EGH2";
/// Passages from which `index` builds a graph (below, every passage is
/// compared; BENCHMARKS.md, "Vectors").
pub const GRAPH_FROM: usize = 60_000;
/// Overrides [`GRAPH_FROM`] (a number of passages).
pub const GRAPH_FROM_VAR: &str = "EGOVKB_GRAPH_FROM";
/// Neighbours a node keeps (HNSW's M; twice on the lowest layer).
const CONNECTIVITY: usize = 16;
/// Candidates kept while a passage is linked.
const EXPANSION_ADD: usize = 128;
/// Candidates kept while a search walks the graph (at least the count
/// asked for).
const EXPANSION_SEARCH: usize = 128;

/// Passages from which a graph is built: [`GRAPH_FROM`] unless the
/// environment says otherwise.
pub fn graph_from() -> usize {
    std::env::var(GRAPH_FROM_VAR)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(GRAPH_FROM)
}

/// The SHA-256 of passages' values, in order: what ties a graph to the
/// vectors it was built from.
pub fn rows_digest<'a>(rows: impl IntoIterator<Item = &'a [i8]>) -> [u8; 32] {
    let mut h = Sha256::new();
    for row in rows {
        let bytes: Vec<u8> = row.iter().map(|&v| v as u8).collect();
        h.update(&bytes);
    }
    h.finalize().into()
}

/// A generation's graph, loaded.
pub struct Graph {
    index: Index,
}

fn options(dim: usize) -> IndexOptions {
    IndexOptions {
        dimensions: dim,
        metric: MetricKind::Cos,
        quantization: ScalarKind::I8,
        connectivity: CONNECTIVITY,
        expansion_add: EXPANSION_ADD,
        expansion_search: EXPANSION_SEARCH,
        multi: false,
    }
}

/// Searches that may walk one graph at once (each needs its own context).
fn contexts() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) * 4 + 8
}

fn failed<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> VectorError + '_ {
    move |e| VectorError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("graph: {e}"),
    }
}

/// Link the passages `rows` (each `dim` values; key = place) into a graph
/// on every core and save it at `path` (by temporary file and rename).
pub fn build(
    path: &Path,
    dim: usize,
    rows: &[&[i8]],
    progress: &dyn Progress,
) -> Result<(), VectorError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    build_on(path, dim, rows, progress, threads)
}

/// [`build`] on `threads` threads (one links the passages in their order,
/// as a test wants the same graph every run).
pub fn build_on(
    path: &Path,
    dim: usize,
    rows: &[&[i8]],
    progress: &dyn Progress,
    threads: usize,
) -> Result<(), VectorError> {
    let threads = threads.max(1);
    let index = Index::new(&options(dim)).map_err(failed(path))?;
    index
        .reserve_capacity_and_threads(rows.len(), threads)
        .map_err(failed(path))?;
    progress.begin("linking passages", Some(rows.len() as u64));
    let chunk = rows.len().div_ceil(threads).max(1);
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .chunks(chunk)
            .enumerate()
            .map(|(part, chunk_rows)| {
                let index = &index;
                scope.spawn(move || {
                    for (i, row) in chunk_rows.iter().enumerate() {
                        index
                            .add((part * chunk + i) as u64, row)
                            .map_err(|e| e.to_string())?;
                        if i % 256 == 255 {
                            progress.advance(256);
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a linking thread failed".to_string()))
            })
            .collect()
    });
    for r in results {
        r.map_err(failed(path))?;
    }
    let mut bytes = vec![0u8; index.serialized_length()];
    index.save_to_buffer(&mut bytes).map_err(failed(path))?;
    bytes.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&rows_digest(rows.iter().copied()));
    let digest = Sha256::digest(&bytes);
    let dir = path.parent().unwrap_or(Path::new("."));
    let io = |source| VectorError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(&bytes).map_err(io)?;
    tmp.write_all(&digest).map_err(io)?;
    tmp.write_all(MAGIC).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

impl Graph {
    /// Read the graph at `path`, checked whole (length and SHA-256) before
    /// usearch sees it; `Ok(None)` when there is none, an error when it is
    /// damaged or was not built from `passages` vectors of `dim` values
    /// whose [`rows_digest`] is `rows`.
    pub fn open(
        path: &Path,
        dim: usize,
        passages: usize,
        rows: &[u8; 32],
    ) -> Result<Option<Self>, VectorError> {
        let mut bytes = Vec::new();
        match File::open(path) {
            Ok(mut f) => f
                .read_to_end(&mut bytes)
                .map_err(|source| VectorError::Io {
                    path: path.to_path_buf(),
                    source,
                })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(VectorError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let corrupt = |reason: &str| VectorError::Corrupt {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let trailer = 8 + 32 + 32 + MAGIC.len();
        if bytes.len() < trailer || !bytes.ends_with(MAGIC) {
            return Err(corrupt("not a graph file, or truncated"));
        }
        let body = bytes.len() - trailer;
        let checked = body + 8 + 32;
        if Sha256::digest(&bytes[..checked]).as_slice() != &bytes[checked..checked + 32] {
            return Err(corrupt("graph checksum mismatch"));
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&bytes[body..body + 8]);
        if u64::from_le_bytes(len) != body as u64 {
            return Err(corrupt("truncated graph"));
        }
        if &bytes[body + 8..checked] != rows.as_slice() {
            return Err(corrupt("graph of other vectors"));
        }
        let index = Index::new(&options(dim)).map_err(failed(path))?;
        index
            .load_from_buffer(&bytes[..body])
            .map_err(failed(path))?;
        if index.dimensions() != dim || index.size() != passages {
            return Err(corrupt("graph of other vectors"));
        }
        index
            .reserve_capacity_and_threads(index.size(), contexts())
            .map_err(failed(path))?;
        index.change_expansion_search(EXPANSION_SEARCH);
        Ok(Some(Self { index }))
    }

    /// The keys of up to `count` passages nearest `query`, nearest first;
    /// `None` when the graph cannot search now (the caller compares every
    /// passage instead).
    pub fn search(&self, query: &[i8], count: usize) -> Option<Vec<u64>> {
        self.index.search(query, count).ok().map(|m| m.keys)
    }

    /// Bytes the graph holds in memory (its own copy of the values and
    /// the links).
    pub fn memory(&self) -> usize {
        self.index.memory_usage()
    }
}

/// Remove a generation's graph (when it no longer has enough passages).
pub fn remove(path: &Path) -> Result<(), VectorError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(VectorError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<Vec<i8>> {
        let mut seed = 3u64;
        (0..n)
            .map(|_| {
                (0..16)
                    .map(|_| {
                        seed = seed
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        (seed >> 56) as i8
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_graph_saved_is_read_back_and_a_damaged_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let values = rows(500);
        let refs: Vec<&[i8]> = values.iter().map(Vec::as_slice).collect();
        build(&path, 16, &refs, &crate::progress::Quiet).unwrap();
        let digest = rows_digest(refs.iter().copied());
        let graph = Graph::open(&path, 16, 500, &digest).unwrap().unwrap();
        // A passage's own vector finds itself first.
        let keys = graph.search(&values[42], 5).unwrap();
        assert_eq!(keys.first(), Some(&42));
        assert_eq!(keys.len(), 5);
        assert!(graph.memory() > 500 * 16);

        // Of other vectors (another count, or other values): refused.
        assert!(matches!(
            Graph::open(&path, 16, 499, &digest),
            Err(VectorError::Corrupt { .. })
        ));
        let other = rows_digest(refs[1..].iter().copied());
        let err = Graph::open(&path, 16, 500, &other)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("other vectors"), "{err}");
        // A byte changed, or the file cut short: refused before usearch
        // reads it.
        let bytes = fs::read(&path).unwrap();
        let mut changed = bytes.clone();
        changed[100] ^= 1;
        fs::write(&path, &changed).unwrap();
        let err = Graph::open(&path, 16, 500, &digest)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("checksum"), "{err}");
        fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(Graph::open(&path, 16, 500, &digest).is_err());
        fs::write(&path, b"").unwrap();
        assert!(Graph::open(&path, 16, 500, &digest).is_err());
        // None at all: no graph, no error; removing it twice is fine.
        remove(&path).unwrap();
        remove(&path).unwrap();
        assert!(Graph::open(&path, 16, 500, &digest).unwrap().is_none());
    }
}
