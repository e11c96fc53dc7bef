//! Search by meaning over a generation's passage vectors, each document
//! scored by its best passage.
//!
//! Up to [`EXACT_LIMIT`] passages every one is compared with the query
//! (8-bit dot products). Beyond, the passages are filed in inverted lists
//! around centroids (spherical k-means, about √n lists, built when the
//! generation opens): a search compares the query with the centroids and
//! then only the passages of the nearest lists ([`PROBED`] of every 64,
//! more while too few documents pass the filters), and the documents it
//! returns get their best passage compared exactly. Recall and time:
//! BENCHMARKS.md, "Vectors".

use std::path::Path;

use tantivy::DocAddress;

use super::passages::Span;
use super::vectors::{self, Quantised, VectorError};

/// Passages up to which every one is compared exactly.
pub const EXACT_LIMIT: usize = 200_000;
/// Overrides [`EXACT_LIMIT`] (a number of passages; 0: lists always).
pub const EXACT_LIMIT_VAR: &str = "EGOVKB_EXACT_VECTORS";
/// Lists probed first, of every 64 (the nearest to the query).
pub const PROBED: usize = 12;

/// A generation's vectors in memory, row by row, each row a passage of a
/// live document of the opened tantivy searcher, in document order.
pub struct VectorIndex {
    pub model: String,
    dim: usize,
    values: Vec<i8>,
    scales: Vec<f32>,
    rows: Vec<(DocAddress, Span)>,
    /// Built when the passages are more than `exact_limit`.
    lists: Option<Lists>,
    exact_limit: usize,
    /// Lists probed first, of every 64.
    probed: usize,
}

/// Inverted lists: every row filed under its nearest centroid.
struct Lists {
    centroids: Vec<Centroid>,
    members: Vec<Vec<u32>>,
}

/// A unit direction from the corpus's mean: a vector `x` is near it by
/// `x · q - bias` (`bias` is the mean's own `· q`).
struct Centroid {
    q: Quantised,
    bias: f32,
}

impl Centroid {
    fn score(&self, values: &[i8], scale: f32) -> f32 {
        vectors::similarity(values, scale, &self.q.values, self.q.scale) - self.bias
    }
}

/// The index of the centroid nearest `values`.
fn nearest_centroid(centroids: &[Centroid], values: &[i8], scale: f32) -> usize {
    let mut best = (f32::MIN, 0);
    for (i, c) in centroids.iter().enumerate() {
        let s = c.score(values, scale);
        if s > best.0 {
            best = (s, i);
        }
    }
    best.1
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
    /// Read the generation's vectors and attach them to the documents of
    /// `searcher` (by the `id` fast field); `Ok(None)` without vectors.
    pub fn open(
        generation: &Path,
        searcher: &tantivy::Searcher,
    ) -> Result<Option<Self>, VectorError> {
        let path = generation.join(vectors::FILE_NAME);
        let Some((header, docs)) = vectors::read(&path)? else {
            return Ok(None);
        };
        let by_id: std::collections::HashMap<&str, usize> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.as_str(), i))
            .collect();
        let exact_limit = std::env::var(EXACT_LIMIT_VAR)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(EXACT_LIMIT);
        let mut index = Self {
            model: header.model,
            dim: header.dim,
            values: Vec::new(),
            scales: Vec::new(),
            rows: Vec::new(),
            lists: None,
            exact_limit: usize::MAX,
            probed: PROBED,
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
                for (span, v) in &docs[i].passages {
                    index.values.extend_from_slice(&v.values);
                    index.scales.push(v.scale);
                    index.rows.push((DocAddress::new(ord as u32, doc), *span));
                }
            }
        }
        Ok(Some(index.with_exact_limit(exact_limit)))
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

    /// Compare every passage exactly up to `limit` passages (instead of
    /// [`EXACT_LIMIT`] or `EGOVKB_EXACT_VECTORS`); beyond, build the lists.
    pub fn with_exact_limit(mut self, limit: usize) -> Self {
        self.exact_limit = limit;
        if !self.exact() && self.lists.is_none() {
            self.lists = Some(self.build_lists());
        }
        self
    }

    /// The lists' sizes, largest first (none when every passage is
    /// compared exactly).
    pub fn list_sizes(&self) -> Vec<usize> {
        let mut sizes: Vec<usize> = self
            .lists
            .iter()
            .flat_map(|l| l.members.iter().map(Vec::len))
            .collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes
    }

    /// Probe `per_64` of every 64 lists first (instead of [`PROBED`]).
    pub fn with_probed(mut self, per_64: usize) -> Self {
        self.probed = per_64.clamp(1, 64);
        self
    }

    /// Whether every passage is compared exactly.
    pub fn exact(&self) -> bool {
        self.rows.len() <= self.exact_limit
    }

    /// The lists: √n centroids from k-means on the unit sphere around the
    /// corpus's mean (embeddings crowd in one cone: around the origin
    /// nearly every passage would choose one centroid), on a sample of at
    /// most 64 rows a centroid, six rounds; then every row filed under its
    /// nearest. Deterministic.
    fn build_lists(&self) -> Lists {
        let n = self.rows.len();
        let count = ((n as f64).sqrt().round() as usize)
            .clamp(1, 4096)
            .min(n.max(1));
        let step = (n / (count * 64)).max(1);
        let sample: Vec<u32> = (0..n).step_by(step).map(|r| r as u32).collect();
        let mut mean = vec![0f32; self.dim];
        for &r in &sample {
            self.add_row(&mut mean, r as usize);
        }
        mean.iter_mut()
            .for_each(|m| *m /= sample.len().max(1) as f32);
        let centroid = |mut sum: Vec<f32>, members: f32| -> Option<Centroid> {
            sum.iter_mut()
                .zip(&mean)
                .for_each(|(s, m)| *s -= m * members);
            let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
            (norm > 0.0).then(|| {
                let unit: Vec<f32> = sum.iter().map(|x| x / norm).collect();
                Centroid {
                    bias: unit.iter().zip(&mean).map(|(u, m)| u * m).sum(),
                    q: Quantised::new(&unit),
                }
            })
        };
        let seeds = (sample.len() / count).max(1);
        let mut centroids: Vec<Centroid> = sample
            .iter()
            .step_by(seeds)
            .take(count)
            .filter_map(|&r| {
                let mut v = vec![0f32; self.dim];
                self.add_row(&mut v, r as usize);
                centroid(v, 1.0)
            })
            .collect();
        for _ in 0..6 {
            let nearest = self.assign(&sample, &centroids);
            let mut sums = vec![(vec![0f32; self.dim], 0f32); centroids.len()];
            for (&r, &c) in sample.iter().zip(&nearest) {
                self.add_row(&mut sums[c].0, r as usize);
                sums[c].1 += 1.0;
            }
            for (c, (sum, members)) in centroids.iter_mut().zip(sums) {
                // A centroid nothing chose keeps its place.
                if let Some(new) = centroid(sum, members).filter(|_| members > 0.0) {
                    *c = new;
                }
            }
        }
        let all: Vec<u32> = (0..n as u32).collect();
        let mut members = vec![Vec::new(); centroids.len()];
        for (r, c) in self.assign(&all, &centroids).into_iter().enumerate() {
            members[c].push(r as u32);
        }
        Lists { centroids, members }
    }

    /// Add row `r`, scaled back, to `sum`.
    fn add_row(&self, sum: &mut [f32], r: usize) {
        let scale = self.scales[r];
        for (s, &v) in sum.iter_mut().zip(self.row(r)) {
            *s += f32::from(v) * scale;
        }
    }

    /// The nearest centroid of each of `rows`, on every core.
    fn assign(&self, rows: &[u32], centroids: &[Centroid]) -> Vec<usize> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = rows.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let parts: Vec<_> = rows
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|&r| {
                                let r = r as usize;
                                nearest_centroid(centroids, self.row(r), self.scales[r])
                            })
                            .collect::<Vec<usize>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|p| p.join().unwrap_or_default())
                .collect()
        })
    }

    fn row(&self, r: usize) -> &[i8] {
        &self.values[r * self.dim..(r + 1) * self.dim]
    }

    /// The `k` documents nearest the query among those `keep` accepts, and
    /// among those `passes` accepts too, each by its best passage.
    pub fn nearest(
        &self,
        query: &QueryVector,
        keep: &dyn Fn(DocAddress) -> bool,
        passes: &dyn Fn(DocAddress) -> bool,
        k: usize,
    ) -> Nearest {
        let (mut considered, mut filtered) = match (&self.lists, self.exact()) {
            (Some(lists), false) => self.probe(lists, query, keep, passes, k),
            _ => self.scan(query, keep, passes),
        };
        Nearest {
            filtered: self.best(query, &mut filtered, k),
            all: self.best(query, &mut considered, k),
        }
    }

    /// Every passage compared: per document kept, its best similarity and
    /// first row; and those that pass.
    fn scan(
        &self,
        query: &QueryVector,
        keep: &dyn Fn(DocAddress) -> bool,
        passes: &dyn Fn(DocAddress) -> bool,
    ) -> Candidates {
        let (mut considered, mut filtered) = (Vec::new(), Vec::new());
        let mut at = 0;
        while at < self.rows.len() {
            let addr = self.rows[at].0;
            let end = self.rows[at..]
                .iter()
                .position(|r| r.0 != addr)
                .map_or(self.rows.len(), |p| at + p);
            if keep(addr) {
                let score = (at..end)
                    .map(|r| self.similarity(r, &query.quantised))
                    .fold(f32::MIN, f32::max);
                considered.push((score, at));
                if passes(addr) {
                    filtered.push((score, at));
                }
            }
            at = end;
        }
        (considered, filtered)
    }

    /// The passages of the lists nearest the query, more lists while fewer
    /// than `k` documents pass: per document kept, its best similarity
    /// among the passages compared and a row; and those that pass.
    fn probe(
        &self,
        lists: &Lists,
        query: &QueryVector,
        keep: &dyn Fn(DocAddress) -> bool,
        passes: &dyn Fn(DocAddress) -> bool,
        k: usize,
    ) -> Candidates {
        let q = &query.quantised;
        let mut order: Vec<(f32, usize)> = lists
            .centroids
            .iter()
            .enumerate()
            .map(|(i, c)| (c.score(&q.values, q.scale), i))
            .collect();
        order.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut probed = (lists.centroids.len() * self.probed).div_ceil(64).max(1);
        let mut done = 0;
        let mut found: Vec<(DocAddress, f32, usize)> = Vec::new();
        let mut passing = 0;
        let mut verdicts: std::collections::HashMap<DocAddress, (bool, bool)> =
            std::collections::HashMap::new();
        while done < order.len() {
            for &(_, list) in &order[done..probed.min(order.len())] {
                for &r in &lists.members[list] {
                    let r = r as usize;
                    let addr = self.rows[r].0;
                    let (kept, _) = *verdicts.entry(addr).or_insert_with(|| {
                        let kept = keep(addr);
                        let passed = kept && passes(addr);
                        passing += usize::from(passed);
                        (kept, passed)
                    });
                    if kept {
                        found.push((addr, self.similarity(r, q), r));
                    }
                }
            }
            done = probed.min(order.len());
            if passing >= k {
                break;
            }
            probed *= 2;
        }
        // Per document, its best row found.
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        found.dedup_by_key(|f| f.0);
        let considered: Vec<(f32, usize)> = found.iter().map(|&(_, s, r)| (s, r)).collect();
        let filtered = found
            .iter()
            .filter(|f| verdicts.get(&f.0).is_some_and(|v| v.1))
            .map(|&(_, s, r)| (s, r))
            .collect();
        (considered, filtered)
    }

    /// The `k` best of `candidates` as hits, each with its best passage
    /// compared exactly, nearest first.
    fn best(
        &self,
        query: &QueryVector,
        candidates: &mut Vec<(f32, usize)>,
        k: usize,
    ) -> Vec<SemanticHit> {
        let chosen = top(std::mem::take(candidates), k);
        let mut hits: Vec<SemanticHit> = chosen
            .into_iter()
            .filter_map(|(_, row)| self.hit(query, self.rows[row].0))
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
        let start = self.rows.partition_point(|r| r.0 < addr);
        let end = start + self.rows[start..].partition_point(|r| r.0 == addr);
        (start..end)
            .map(|r| SemanticHit {
                addr,
                similarity: self.similarity(r, &query.quantised),
                span: self.rows[r].1,
            })
            .reduce(|a, b| if b.similarity > a.similarity { b } else { a })
    }

    fn similarity(&self, row: usize, q: &Quantised) -> f32 {
        vectors::similarity(self.row(row), self.scales[row], &q.values, q.scale)
    }
}

/// Per document considered, its best similarity found and a row of it:
/// every one kept, and those that pass the filters too.
type Candidates = (Vec<(f32, usize)>, Vec<(f32, usize)>);

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
        let dim = query.len();
        let mut seed = 7;
        let mut index = VectorIndex {
            model: "test".into(),
            dim,
            values: Vec::new(),
            scales: Vec::new(),
            rows: Vec::new(),
            lists: None,
            exact_limit: usize::MAX,
            probed: PROBED,
        };
        for doc in 0..3_000u32 {
            let v: Vec<f32> = if doc % 300 == 7 {
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
        index
    }

    #[test]
    fn lists_find_what_the_exact_scan_finds() {
        let mut seed = 11;
        let query = unit((0..384).map(|_| noise(&mut seed)).collect());
        let exact = index(&query).with_exact_limit(usize::MAX);
        let lists_index = index(&query).with_exact_limit(0);
        assert!(exact.exact() && !lists_index.exact());
        let lists = lists_index.lists.as_ref().unwrap();
        assert_eq!(lists.centroids.len(), 55);
        assert_eq!(lists.members.iter().map(Vec::len).sum::<usize>(), 3_000);
        let q = exact.prepare(&query).unwrap();
        let all = |_| true;
        let even = |a: DocAddress| a.doc_id % 2 == 1;
        let want = exact.nearest(&q, &all, &even, 10);
        let got = lists_index.nearest(&q, &all, &even, 10);
        let planted: Vec<u32> = (0..3_000).filter(|d| d % 300 == 7).collect();
        let docs = |hits: &[SemanticHit]| hits.iter().map(|h| h.addr.doc_id).collect::<Vec<_>>();
        let mut found = docs(&got.all);
        found.sort();
        assert_eq!(found, planted, "the ten planted neighbours, from the lists");
        // The same documents and similarities as the exact scan, in order.
        assert_eq!(got.all, want.all);
        assert_eq!(got.filtered, want.filtered);
        assert!(got.filtered.iter().all(|h| h.addr.doc_id % 2 == 1));
        // A document's best passage on demand, exactly.
        let h = lists_index.hit(&q, DocAddress::new(0, 7)).unwrap();
        assert_eq!(
            Some(h),
            want.all.iter().find(|x| x.addr.doc_id == 7).copied()
        );
        assert!(lists_index.hit(&q, DocAddress::new(1, 0)).is_none());
        assert!(lists_index.prepare(&query[..10]).is_none());
    }
}
