//! Search by meaning over a generation's passage vectors, each document
//! scored by its best passage.
//!
//! A small generation has every passage compared with the query (8-bit
//! dot products). From [`graph::GRAPH_FROM`] passages, `egovkb index`
//! links them into an HNSW graph ([`graph`]) saved with the generation: a
//! search walks it for the passages nearest the query, unfiltered, and
//! filters what it finds ([`VectorIndex::nearest`] says what follows when
//! too few pass); each passage found is compared exactly, and a document
//! counts by the best of its passages found. Walks are kept by query.
//! [`VectorIndex::hits`] compares every passage of given documents (the
//! lexical hits fused). Recall and time: BENCHMARKS.md, "Vectors" and
//! "Hybrid throughput".

use std::path::Path;
use std::sync::Arc;

use tantivy::DocAddress;

use super::graph::{self, Graph};
use super::passages::Span;
use super::recent::Recent;
use super::vectors::{self, Quantised, VectorError};

/// Passages asked of the graph per document wanted, at most (fewer when
/// the generation's documents have fewer on average). A document counts
/// by its best passage, and the nearest passages are often of one
/// document; but asking 8 a document rather than 2 found the same 10
/// nearest documents in 13 of 14 queries at 100,000 documents (11
/// passages each; the 14th: 9 either way), for three times the walk
/// (BENCHMARKS.md, "Hybrid throughput").
const PASSAGES_PER_DOCUMENT: usize = 2;
/// Walks of the graph, each asking twice as many passages, before every
/// passage is compared instead.
const WALKS: usize = 3;
/// Documents ahead whose values a scan asks of memory...
const PREFETCH_AHEAD: usize = 4;
/// ...their first passages at most.
const PREFETCH_ROWS: usize = 4;
/// A second walk asks for at most this many times the passages of the
/// first, to find enough documents that pass the filters (else the
/// passages of the documents that pass are compared).
const WIDER: usize = 16;
/// Walks kept for queries asked again (a page's next page, a facet
/// clicked): the walk depends on the query alone (and on how many
/// passages are asked), its filtering does not.
const WALK_CACHE: usize = 256;

/// The distinct documents of `found`.
fn distinct(found: &[Found]) -> usize {
    let mut docs: Vec<DocAddress> = found.iter().map(|f| f.0).collect();
    docs.sort_unstable();
    docs.dedup();
    docs.len()
}

/// A generation's vectors in memory, row by row, each row a passage of a
/// live document of the opened tantivy searcher, in document order.
pub struct VectorIndex {
    pub model: String,
    dim: usize,
    values: Vec<i8>,
    scales: Vec<f32>,
    rows: Vec<(DocAddress, Span)>,
    /// The documents, in order...
    docs: Vec<DocAddress>,
    /// ...the first row of each, and the number of rows last...
    starts: Vec<u32>,
    /// ...and the place in `docs` of each document, by segment and id
    /// (`u32::MAX` for one without vectors).
    places: Vec<Vec<u32>>,
    /// The generation's graph, when it has one.
    graph: Option<Graph>,
    /// The row of each graph key (a passage's place in the vector file;
    /// `u32::MAX` for a document no longer live).
    key_rows: Vec<u32>,
    /// The latest walks, by the query's values and scale and the passages
    /// first asked: those found, and the passages asked at last.
    walks: Recent<WalkKey, (Arc<[Found]>, usize)>,
}

/// A document found by meaning: its best passage and that passage's
/// similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SemanticHit {
    pub addr: DocAddress,
    pub similarity: f32,
    pub span: Span,
}

/// A query ready to be compared: its 8-bit vector.
pub struct QueryVector {
    quantised: Quantised,
}

/// The nearest documents of one search, nearest first.
#[derive(Debug, Default)]
pub struct Nearest {
    /// Among the documents that pass the filters.
    pub filtered: Vec<SemanticHit>,
    /// Among every document considered.
    pub all: Vec<SemanticHit>,
}

impl VectorIndex {
    /// Read the generation's vectors (and its graph, when it has one) and
    /// attach them to the documents of `searcher` (by the `id` fast field);
    /// `Ok(None)` without vectors. A damaged graph is reported and left
    /// out: every passage is compared instead.
    pub fn open(
        generation: &Path,
        searcher: &tantivy::Searcher,
    ) -> Result<Option<Self>, VectorError> {
        let path = generation.join(vectors::FILE_NAME);
        let Some((header, docs)) = vectors::read(&path)? else {
            return Ok(None);
        };
        // Each document's first key: its first passage's place in the file.
        let mut first_key = Vec::with_capacity(docs.len());
        let mut keys = 0usize;
        for d in &docs {
            first_key.push(keys);
            keys += d.passages.len();
        }
        let by_id: std::collections::HashMap<&str, usize> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.as_str(), i))
            .collect();
        let mut index = Self {
            model: header.model,
            dim: header.dim,
            values: Vec::new(),
            scales: Vec::new(),
            rows: Vec::new(),
            docs: Vec::new(),
            starts: Vec::new(),
            places: Vec::new(),
            graph: None,
            key_rows: vec![u32::MAX; keys],
            walks: Recent::new(WALK_CACHE),
        };
        let mut id = String::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let Ok(Some(ids)) = segment.fast_fields().str("id") else {
                continue;
            };
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                let Some(o) = ids.term_ords(doc).next() else {
                    continue;
                };
                if !ids.ord_to_str(o, &mut id).unwrap_or(false) {
                    continue;
                }
                let Some(&i) = by_id.get(id.as_str()) else {
                    continue;
                };
                for (j, (span, v)) in docs[i].passages.iter().enumerate() {
                    index.key_rows[first_key[i] + j] = index.rows.len() as u32;
                    index.values.extend_from_slice(&v.values);
                    index.scales.push(v.scale);
                    index.rows.push((DocAddress::new(ord as u32, doc), *span));
                }
            }
        }
        (index.docs, index.starts) = starts(&index.rows);
        index.places = places(&index.docs);
        let graph = generation.join(graph::FILE_NAME);
        if !graph.exists() {
            return Ok(Some(index));
        }
        // What ties the graph to these vectors: read only when there is one
        // (hashing every passage is not free).
        let digest = graph::rows_digest(
            docs.iter()
                .flat_map(|d| d.passages.iter().map(|(_, v)| v.values.as_slice())),
        );
        Ok(Some(index.with_graph(&graph, &digest).unwrap_or_else(
            |(index, e)| {
                tracing::warn!(error = %e, "the vectors' graph is not used; every passage is compared");
                index
            },
        )))
    }

    /// Walk the graph at `path` when it exists and was built from vectors
    /// whose [`graph::rows_digest`] (in the file's order) is `rows`; an
    /// error (and the index as it was) when it is damaged or of others.
    #[allow(clippy::result_large_err)]
    pub fn with_graph(mut self, path: &Path, rows: &[u8; 32]) -> Result<Self, (Self, VectorError)> {
        match Graph::open(path, self.dim, self.key_rows.len(), rows) {
            Ok(g) => {
                self.graph = g;
                Ok(self)
            }
            Err(e) => Err((self, e)),
        }
    }

    /// Compare every passage, the graph left aside.
    pub fn without_graph(mut self) -> Self {
        self.graph = None;
        self
    }

    /// Whether searches walk a graph (else every passage is compared).
    pub fn has_graph(&self) -> bool {
        self.graph.is_some()
    }

    /// Bytes of the graph in memory (0 without one).
    pub fn graph_memory(&self) -> usize {
        self.graph.as_ref().map_or(0, Graph::memory)
    }

    /// Passages held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The query prepared for [`Self::nearest`] and [`Self::hit`]; `None`
    /// when its dimension is not the vectors'.
    pub fn prepare(&self, query: &[f32]) -> Option<QueryVector> {
        (query.len() == self.dim).then(|| QueryVector {
            quantised: Quantised::new(query),
        })
    }

    fn row(&self, r: usize) -> &[i8] {
        &self.values[r * self.dim..(r + 1) * self.dim]
    }

    /// The `k` documents nearest the query among those `keep` accepts, and
    /// among those `passes` accepts too, each by its best passage.
    ///
    /// With a graph, the walk is never filtered (a walk that may step only
    /// on accepted passages wanders far when they are few or lie away from
    /// the query: such searches took 15-31 ms at 100,000 documents); what
    /// it finds is filtered after. When too few pass, a walk for enough
    /// passages at the share that passed (at most [`WIDER`] times as many)
    /// is tried, and otherwise the passages of the documents that pass are
    /// compared. Walks are kept by query, so a facet clicked or a next
    /// page walks no more.
    pub fn nearest(
        &self,
        query: &QueryVector,
        keep: &dyn Fn(DocAddress) -> bool,
        passes: &dyn Fn(DocAddress) -> bool,
        k: usize,
    ) -> Nearest {
        let both = |a| keep(a) && passes(a);
        let first = self.walk_size(k);
        let (mut considered, mut filtered) = match self.walk(query, k, first) {
            None => self.scan(query, keep, passes),
            Some((found, asked)) => {
                let (considered, filtered) = per_document(&found, keep, passes);
                if considered.len() < k {
                    // Few documents kept (a required phrase): compare them.
                    self.scan(query, keep, passes)
                } else if filtered.len() >= k {
                    (considered, filtered)
                } else {
                    // As many passages as make `k` at the share of those
                    // asked that passed, and half as many again.
                    let count = (3 * k * asked).div_ceil(2 * filtered.len().max(1));
                    let wider = (!filtered.is_empty() && count <= WIDER * first)
                        .then(|| self.walk(query, k, count))
                        .flatten()
                        .map(|(found, _)| per_document(&found, &both, &|_| true).0)
                        .filter(|f| f.len() >= k);
                    let filtered = wider.unwrap_or_else(|| self.scan(query, &both, &|_| false).0);
                    (considered, filtered)
                }
            }
        };
        Nearest {
            filtered: self.best(&mut filtered, k),
            all: self.best(&mut considered, k),
        }
    }

    /// Every passage of the documents kept compared: per document, its
    /// best passage's similarity and row; and those that pass.
    fn scan(
        &self,
        query: &QueryVector,
        keep: &dyn Fn(DocAddress) -> bool,
        passes: &dyn Fn(DocAddress) -> bool,
    ) -> Candidates {
        // The documents kept, then their passages compared, the first ones
        // of a document ahead asked of memory meanwhile: the values are
        // too many for the processor's cache, and those of documents kept
        // far apart would otherwise each wait for memory.
        let kept: Vec<(u32, u32, bool)> = self
            .docs
            .iter()
            .zip(self.starts.windows(2))
            .filter(|&(&addr, _)| keep(addr))
            .map(|(&addr, w)| (w[0], w[1], passes(addr)))
            .collect();
        let (mut considered, mut filtered) = (Vec::new(), Vec::new());
        for (i, &(start, end, pass)) in kept.iter().enumerate() {
            if let Some(&(s, e, _)) = kept.get(i + PREFETCH_AHEAD) {
                let (s, e) = (s as usize, (e as usize).min(s as usize + PREFETCH_ROWS));
                vectors::prefetch(&self.values[s * self.dim..e * self.dim]);
            }
            let (start, end) = (start as usize, end as usize);
            let values = &self.values[start * self.dim..end * self.dim];
            let scales = &self.scales[start..end];
            let Some((r, score)) = vectors::most_similar(values, scales, &query.quantised) else {
                continue;
            };
            considered.push((score, start + r));
            if pass {
                filtered.push((score, start + r));
            }
        }
        (considered, filtered)
    }

    /// Passages a first walk asks for `k` documents: `k` × the
    /// generation's passages a document on average, at most
    /// [`PASSAGES_PER_DOCUMENT`].
    fn walk_size(&self, k: usize) -> usize {
        let documents = self.docs.len().max(1);
        let each = self
            .rows
            .len()
            .div_ceil(documents)
            .clamp(1, PASSAGES_PER_DOCUMENT);
        k * each
    }

    /// The graph's `count` passages nearest the query, each compared
    /// exactly, asked again for twice as many while they hold fewer than
    /// `k` documents (a few long documents can hold the nearest passages),
    /// and the passages asked at last. The same walk asked again is kept
    /// ([`WALK_CACHE`]): a search gets what the same search got. `None`
    /// without a graph, when it cannot search, or when [`WALKS`] walks
    /// still return too few documents (every passage is compared instead).
    fn walk(&self, query: &QueryVector, k: usize, count: usize) -> Option<(Arc<[Found]>, usize)> {
        let graph = self.graph.as_ref()?;
        let key = (
            query.quantised.values.clone(),
            query.quantised.scale.to_bits(),
            count,
        );
        if let Some(kept) = self.walks.get(&key) {
            return Some(kept);
        }
        let mut count = count;
        for _ in 0..WALKS {
            let found: Vec<Found> = graph
                .search(&query.quantised.values, count)?
                .into_iter()
                .filter_map(|key| self.key_rows.get(key as usize).copied())
                .filter(|&r| r != u32::MAX)
                .map(|r| r as usize)
                .map(|r| (self.rows[r].0, self.similarity(r, &query.quantised), r))
                .collect();
            if distinct(&found) >= k || count >= self.key_rows.len() {
                let walked = (Arc::from(found), count);
                self.walks.put(key, walked.clone());
                return Some(walked);
            }
            count *= 2;
        }
        None
    }

    /// The `k` best of `candidates` (a document's best passage found, its
    /// similarity and row) as hits, nearest first.
    fn best(&self, candidates: &mut Vec<(f32, usize)>, k: usize) -> Vec<SemanticHit> {
        let mut hits: Vec<SemanticHit> = top(std::mem::take(candidates), k)
            .into_iter()
            .map(|(similarity, row)| SemanticHit {
                addr: self.rows[row].0,
                similarity,
                span: self.rows[row].1,
            })
            .collect();
        hits.sort_by(|a, b| {
            b.similarity
                .total_cmp(&a.similarity)
                .then_with(|| a.addr.cmp(&b.addr))
        });
        hits
    }

    /// A document's best passage for the query, compared exactly; `None`
    /// when it has no vectors.
    pub fn hit(&self, query: &QueryVector, addr: DocAddress) -> Option<SemanticHit> {
        let i = self.place(addr)?;
        self.best_passage(query, i)
    }

    /// The best passage of each of `addrs` that has vectors, compared
    /// exactly, the passages of the next documents asked of memory
    /// meanwhile (in address order, the fewest pages are touched).
    pub fn hits(&self, query: &QueryVector, addrs: &[DocAddress]) -> Vec<SemanticHit> {
        let mut docs: Vec<usize> = addrs.iter().filter_map(|&a| self.place(a)).collect();
        docs.sort_unstable();
        docs.dedup();
        let mut out = Vec::with_capacity(docs.len());
        for (n, &i) in docs.iter().enumerate() {
            if let Some(&ahead) = docs.get(n + PREFETCH_AHEAD) {
                let (s, e) = (self.starts[ahead] as usize, self.starts[ahead + 1] as usize);
                vectors::prefetch(&self.values[s * self.dim..e * self.dim]);
            }
            out.extend(self.best_passage(query, i));
        }
        out
    }

    /// The place of a document in `docs`, if it has vectors.
    fn place(&self, addr: DocAddress) -> Option<usize> {
        let segment = self.places.get(addr.segment_ord as usize)?;
        let i = *segment.get(addr.doc_id as usize)?;
        (i != u32::MAX).then_some(i as usize)
    }

    /// The best passage of the `i`-th document.
    fn best_passage(&self, query: &QueryVector, i: usize) -> Option<SemanticHit> {
        let (start, end) = (self.starts[i] as usize, self.starts[i + 1] as usize);
        let values = &self.values[start * self.dim..end * self.dim];
        let (r, similarity) =
            vectors::most_similar(values, &self.scales[start..end], &query.quantised)?;
        Some(SemanticHit {
            addr: self.docs[i],
            similarity,
            span: self.rows[start + r].1,
        })
    }

    fn similarity(&self, row: usize, q: &Quantised) -> f32 {
        vectors::similarity(self.row(row), self.scales[row], &q.values, q.scale)
    }
}

/// Per document considered, its best similarity found and a row of it:
/// every one kept, and those that pass the filters too.
type Candidates = (Vec<(f32, usize)>, Vec<(f32, usize)>);

/// The documents of `rows` (in document order), and the first row of
/// each with their number last.
fn starts(rows: &[(DocAddress, Span)]) -> (Vec<DocAddress>, Vec<u32>) {
    let mut starts: Vec<u32> = (0..rows.len())
        .filter(|&r| r == 0 || rows[r - 1].0 != rows[r].0)
        .map(|r| r as u32)
        .collect();
    let docs = starts.iter().map(|&r| rows[r as usize].0).collect();
    starts.push(rows.len() as u32);
    (docs, starts)
}

/// The place of each of `docs` (in order), by segment and id.
fn places(docs: &[DocAddress]) -> Vec<Vec<u32>> {
    let mut places: Vec<Vec<u32>> = Vec::new();
    for (i, a) in docs.iter().enumerate() {
        let segment = a.segment_ord as usize;
        if places.len() <= segment {
            places.resize_with(segment + 1, Vec::new);
        }
        let ids = &mut places[segment];
        if ids.len() <= a.doc_id as usize {
            ids.resize(a.doc_id as usize + 1, u32::MAX);
        }
        ids[a.doc_id as usize] = i as u32;
    }
    places
}

/// What a walk is kept by: the query's 8-bit values and scale, and the
/// passages first asked.
type WalkKey = (Vec<i8>, u32, usize);

/// A passage found: its document, its similarity to the query, its row.
type Found = (DocAddress, f32, usize);

/// Per document of `found` that `keep` accepts, its best passage found:
/// every one, and those that `passes` accepts.
fn per_document(
    found: &[Found],
    keep: &dyn Fn(DocAddress) -> bool,
    passes: &dyn Fn(DocAddress) -> bool,
) -> Candidates {
    let mut found: Vec<Found> = found.iter().copied().filter(|f| keep(f.0)).collect();
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    found.dedup_by_key(|f| f.0);
    let considered = found.iter().map(|&(_, s, r)| (s, r)).collect();
    let filtered = found
        .iter()
        .filter(|f| passes(f.0))
        .map(|&(_, s, r)| (s, r))
        .collect();
    (considered, filtered)
}

/// The `n` highest-scored of `v`, in no order.
fn top(mut v: Vec<(f32, usize)>, n: usize) -> Vec<(f32, usize)> {
    if v.len() > n {
        v.select_nth_unstable_by(n, |a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        v.truncate(n);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantic::passages::Span;

    /// A small deterministic generator of vector values.
    fn noise(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
    }

    fn unit(v: Vec<f32>) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    }

    /// 3,000 documents of one passage each, of which ten lie near `query`.
    fn index(query: &[f32]) -> VectorIndex {
        index_of(query, 1)
    }

    /// 3,000 passages, `per_doc` to a document, the passages of ten
    /// documents near `query`.
    fn index_of(query: &[f32], per_doc: u32) -> VectorIndex {
        let dim = query.len();
        let mut seed = 7;
        let mut index = VectorIndex {
            model: "test".into(),
            dim,
            values: Vec::new(),
            scales: Vec::new(),
            rows: Vec::new(),
            docs: Vec::new(),
            starts: Vec::new(),
            places: Vec::new(),
            graph: None,
            key_rows: (0..3_000).collect(),
            walks: Recent::new(WALK_CACHE),
        };
        for passage in 0..3_000u32 {
            let doc = passage / per_doc;
            let v: Vec<f32> = if doc % (300 / per_doc) == 7 {
                query.iter().map(|q| q + 0.05 * noise(&mut seed)).collect()
            } else {
                (0..dim).map(|_| noise(&mut seed)).collect()
            };
            let q = Quantised::new(&unit(v));
            index.values.extend_from_slice(&q.values);
            index.scales.push(q.scale);
            let span = Span {
                page: None,
                start: 0,
                end: 1,
            };
            index.rows.push((DocAddress::new(0, doc), span));
        }
        (index.docs, index.starts) = starts(&index.rows);
        index.places = places(&index.docs);
        index
    }

    /// The index of `index_of(query, per_doc)` with its graph, in `dir`.
    fn walked(query: &[f32], per_doc: u32, dir: &Path) -> VectorIndex {
        let index = index_of(query, per_doc);
        let path = dir.join(graph::FILE_NAME);
        let rows: Vec<&[i8]> = (0..index.rows.len()).map(|r| index.row(r)).collect();
        // On one thread: a graph linked on several may miss a planted
        // neighbour now and then, and these tests compare with the exact
        // scan.
        graph::build_on(&path, 384, &rows, &crate::progress::Quiet, 1).unwrap();
        let digest = graph::rows_digest(rows.iter().copied());
        index_of(query, per_doc)
            .with_graph(&path, &digest)
            .map_err(|e| e.1)
            .unwrap()
    }

    #[test]
    fn long_documents_do_not_leave_the_graph_short_of_documents() {
        let mut seed = 13;
        let query = unit((0..384).map(|_| noise(&mut seed)).collect());
        let exact = index_of(&query, 10);
        let dir = tempfile::tempdir().unwrap();
        let walked = walked(&query, 10, dir.path());
        let q = exact.prepare(&query).unwrap();
        let all = |_| true;
        // The nearest passages are those of a few documents (2 asked a
        // document, of ten each): the graph is asked again until ten
        // documents come back.
        let want = exact.nearest(&q, &all, &all, 10);
        let got = walked.nearest(&q, &all, &all, 10);
        let docs = |hits: &[SemanticHit]| {
            let mut d: Vec<DocAddress> = hits.iter().map(|h| h.addr).collect();
            d.sort();
            d
        };
        assert_eq!(docs(&got.all), docs(&want.all));
        // Each by the best of its passages the walk found, compared
        // exactly: at most its best of all, and close to it.
        for g in &got.all {
            let w = want.all.iter().find(|w| w.addr == g.addr).unwrap();
            assert!(g.similarity <= w.similarity && g.similarity > w.similarity - 0.01);
        }
    }

    #[test]
    fn a_query_walks_the_graph_once() {
        let mut seed = 17;
        let query = unit((0..384).map(|_| noise(&mut seed)).collect());
        let dir = tempfile::tempdir().unwrap();
        let walked = walked(&query, 1, dir.path());
        let q = walked.prepare(&query).unwrap();
        let all = |_| true;
        let want = walked.nearest(&q, &all, &all, 10);
        assert_eq!(walked.walks.len(), 1);
        // 10 passages (one a document).
        let key = |n| (q.quantised.values.clone(), q.quantised.scale.to_bits(), n);
        let first = walked.walks.get(&key(10)).unwrap();
        // Four of the ten planted pass: a walk for 4 times as many
        // passages (and half again) is kept beside the first...
        let some = |a: DocAddress| a.doc_id < 1_000 || a.doc_id.is_multiple_of(2);
        let got = walked.nearest(&q, &all, &some, 10);
        assert_eq!(got.filtered.len(), 10);
        assert_eq!(walked.walks.len(), 2);
        let wider = walked.walks.get(&key(38)).unwrap();
        // ...and each search asked again gets what it got, walking no more.
        assert_eq!(walked.nearest(&q, &all, &all, 10).all, want.all);
        assert_eq!(walked.nearest(&q, &all, &some, 10).filtered, got.filtered);
        assert!(Arc::ptr_eq(
            &walked.walks.get(&key(10)).unwrap().0,
            &first.0
        ));
        assert!(Arc::ptr_eq(
            &walked.walks.get(&key(38)).unwrap().0,
            &wider.0
        ));
        // Another query, another walk.
        let other = walked.prepare(&unit(query.iter().rev().copied().collect()));
        walked.nearest(&other.unwrap(), &all, &all, 10);
        assert_eq!(walked.walks.len(), 3);
    }

    #[test]
    fn the_graph_finds_what_the_exact_scan_finds() {
        let mut seed = 11;
        let query = unit((0..384).map(|_| noise(&mut seed)).collect());
        let exact = index(&query);
        let dir = tempfile::tempdir().unwrap();
        let walked = walked(&query, 1, dir.path());
        assert!(walked.has_graph() && !exact.has_graph());
        let q = exact.prepare(&query).unwrap();
        let all = |_| true;
        let odd = |a: DocAddress| a.doc_id % 2 == 1;
        let want = exact.nearest(&q, &all, &odd, 10);
        let got = walked.nearest(&q, &all, &odd, 10);
        let planted: Vec<u32> = (0..3_000).filter(|d| d % 300 == 7).collect();
        let docs = |hits: &[SemanticHit]| hits.iter().map(|h| h.addr.doc_id).collect::<Vec<_>>();
        let mut found = docs(&got.all);
        found.sort();
        assert_eq!(found, planted, "the ten planted neighbours, from the graph");
        // The same documents and similarities as the exact scan, in order.
        assert_eq!(got.all, want.all);
        assert_eq!(got.filtered, want.filtered);
        // A filter none of the planted pass: the documents that pass are
        // compared exactly, and every hit passes; the documents kept are
        // still those the graph found.
        let even = |a: DocAddress| a.doc_id.is_multiple_of(2);
        let got = walked.nearest(&q, &all, &even, 10);
        assert_eq!(got.filtered.len(), 10);
        assert!(got.filtered.iter().all(|h| even(h.addr)));
        assert_eq!(got.filtered, exact.nearest(&q, &all, &even, 10).filtered);
        assert_eq!(got.all, want.all);
        // A filter four of the ten pass (with the even documents): a walk
        // for more passages finds the rest: the four first, then nearly
        // all the exact scan's others (random documents far from the
        // query, where the graph, built on every core, may miss one).
        let some = |a: DocAddress| a.doc_id < 1_000 || a.doc_id.is_multiple_of(2);
        let got = walked.nearest(&q, &all, &some, 10);
        let exact_some = exact.nearest(&q, &all, &some, 10).filtered;
        assert_eq!(got.filtered.len(), 10);
        assert!(got.filtered.iter().all(|h| some(h.addr)));
        assert_eq!(got.filtered[..4], exact_some[..4]);
        let shared = got
            .filtered
            .iter()
            .filter(|h| exact_some.contains(h))
            .count();
        assert!(shared >= 8, "{shared} of the exact 10");
        assert_eq!(
            got.filtered
                .iter()
                .filter(|h| h.addr.doc_id % 300 == 7)
                .count(),
            4
        );
        // Documents not kept are not returned, by the graph or the scan;
        // when few are kept (a required phrase), they are compared.
        let not_planted = |a: DocAddress| a.doc_id % 300 != 7;
        let got = walked.nearest(&q, &not_planted, &all, 10);
        assert_eq!(got.all.len(), 10);
        assert!(got.all.iter().all(|h| not_planted(h.addr)));
        assert_eq!(got.all, exact.nearest(&q, &not_planted, &all, 10).all);
        let few = |a: DocAddress| a.doc_id % 100 == 3;
        let got = walked.nearest(&q, &few, &odd, 10);
        assert_eq!(got.all, exact.nearest(&q, &few, &odd, 10).all);
        assert_eq!(got.filtered, exact.nearest(&q, &few, &odd, 10).filtered);
        assert!(got.all.iter().all(|h| few(h.addr)) && got.all.len() == 10);
        // A document's best passage on demand, exactly.
        let h = walked.hit(&q, DocAddress::new(0, 7)).unwrap();
        assert_eq!(
            Some(h),
            want.all.iter().find(|x| x.addr.doc_id == 7).copied()
        );
        assert!(walked.hit(&q, DocAddress::new(1, 0)).is_none());
        assert!(walked.prepare(&query[..10]).is_none());
    }
}
