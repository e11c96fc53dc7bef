//! Search by meaning over a generation's passage vectors, each document
//! scored by its best passage.
//!
//! Up to [`EXACT_LIMIT`] passages every one is compared with the query
//! (8-bit dot products). Beyond, a first pass compares one-bit codes (the
//! signs of each vector less the corpus mean, 48 bytes a passage) by
//! Hamming distance, and the [`OVERSAMPLE`] × k nearest documents by code
//! are compared exactly. The codes keep most of the exact 10 on real
//! questions and passages, far fewer on a corpus of look-alike texts
//! (BENCHMARKS.md, "Vectors"): the switch sits where the exact scan
//! becomes slow.

use std::collections::HashMap;
use std::path::Path;

use tantivy::DocAddress;

use super::passages::Span;
use super::vectors::{self, Quantised, VectorError};

/// Passages up to which every one is compared exactly.
pub const EXACT_LIMIT: usize = 200_000;
/// Overrides [`EXACT_LIMIT`] (a number of passages; 0: codes always).
pub const EXACT_LIMIT_VAR: &str = "EGOVKB_EXACT_VECTORS";
/// Documents compared exactly per document returned, after the codes.
pub const OVERSAMPLE: usize = 4;

/// A generation's vectors in memory, row by row, each row a passage of a
/// live document of the opened tantivy searcher, in document order.
pub struct VectorIndex {
    pub model: String,
    dim: usize,
    values: Vec<i8>,
    scales: Vec<f32>,
    rows: Vec<(DocAddress, Span)>,
    /// The corpus's mean vector, and each row's signs less it, packed.
    center: Vec<f32>,
    codes: Vec<u64>,
    words: usize,
    exact_limit: usize,
}

/// A document found by meaning: its best passage and that passage's
/// similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SemanticHit {
    pub addr: DocAddress,
    pub similarity: f32,
    pub span: Span,
}

/// A query ready to be compared: its 8-bit vector and its code.
pub struct QueryVector {
    quantised: Quantised,
    code: Vec<u64>,
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
        let by_id: HashMap<&str, usize> = docs
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
            center: vec![0.0; header.dim],
            codes: Vec::new(),
            words: header.dim.div_ceil(64),
            exact_limit,
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
        index.encode();
        Ok(Some(index))
    }

    /// The mean vector and every row's code.
    fn encode(&mut self) {
        let n = self.rows.len();
        if n == 0 {
            return;
        }
        let mut sum = vec![0f64; self.dim];
        for (row, scale) in self.values.chunks_exact(self.dim).zip(&self.scales) {
            for (s, &v) in sum.iter_mut().zip(row) {
                *s += f64::from(v) * f64::from(*scale);
            }
        }
        self.center = sum.iter().map(|s| (s / n as f64) as f32).collect();
        let mut codes = Vec::with_capacity(n * self.words);
        for (row, scale) in self.values.chunks_exact(self.dim).zip(&self.scales) {
            let unscaled = row.iter().map(|&v| f32::from(v) * scale);
            codes.extend(self.code(unscaled));
        }
        self.codes = codes;
    }

    /// The signs of `v` less the mean, packed in 64-bit words.
    fn code(&self, v: impl Iterator<Item = f32>) -> Vec<u64> {
        let mut code = vec![0u64; self.words];
        for (i, (x, c)) in v.zip(&self.center).enumerate() {
            if x > *c {
                code[i / 64] |= 1 << (i % 64);
            }
        }
        code
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
            code: self.code(query.iter().copied()),
        })
    }

    /// Compare every passage exactly up to `limit` passages (instead of
    /// [`EXACT_LIMIT`] or `EGOVKB_EXACT_VECTORS`).
    pub fn with_exact_limit(mut self, limit: usize) -> Self {
        self.exact_limit = limit;
        self
    }

    /// Whether every passage is compared exactly.
    pub fn exact(&self) -> bool {
        self.rows.len() <= self.exact_limit
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
        let exact = self.exact();
        let distances = if exact {
            Vec::new()
        } else {
            distances(&self.codes, &query.code, self.words)
        };
        // Per document considered: its first row and a score (higher is
        // nearer), exact or from the codes.
        let mut considered: Vec<(f32, usize)> = Vec::new();
        let mut at = 0;
        while at < self.rows.len() {
            let addr = self.rows[at].0;
            let end = self.rows[at..]
                .iter()
                .position(|r| r.0 != addr)
                .map_or(self.rows.len(), |p| at + p);
            if keep(addr) {
                let score = (at..end)
                    .map(|r| {
                        if exact {
                            self.similarity(r, &query.quantised)
                        } else {
                            -(distances[r] as f32)
                        }
                    })
                    .fold(f32::MIN, f32::max);
                considered.push((score, at));
            }
            at = end;
        }
        let wanted = if exact { k } else { k * OVERSAMPLE };
        let best = |candidates: Vec<(f32, usize)>| -> Vec<SemanticHit> {
            let mut hits: Vec<SemanticHit> = top(candidates, wanted)
                .into_iter()
                .filter_map(|(_, row)| self.hit(query, self.rows[row].0))
                .collect();
            hits.sort_by(|a, b| {
                b.similarity
                    .total_cmp(&a.similarity)
                    .then_with(|| a.addr.cmp(&b.addr))
            });
            hits.truncate(k);
            hits
        };
        let filtered: Vec<(f32, usize)> = considered
            .iter()
            .copied()
            .filter(|(_, row)| passes(self.rows[*row].0))
            .collect();
        Nearest {
            filtered: best(filtered),
            all: best(considered),
        }
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
        let values = &self.values[row * self.dim..(row + 1) * self.dim];
        vectors::similarity(values, self.scales[row], &q.values, q.scale)
    }
}

/// The `n` highest-scored of `v`, in no order.
fn top(mut v: Vec<(f32, usize)>, n: usize) -> Vec<(f32, usize)> {
    if v.len() > n {
        v.select_nth_unstable_by(n, |a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        v.truncate(n);
    }
    v
}

/// Every code's Hamming distance to `code` (the bits in which they
/// differ), with the CPU's `popcnt` where it has one.
fn distances(codes: &[u64], code: &[u64], words: usize) -> Vec<u32> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU has the instruction, checked just above.
            return unsafe { distances_popcnt(codes, code, words) };
        }
    }
    distances_portable(codes, code, words)
}

#[inline(always)]
fn distances_portable(codes: &[u64], code: &[u64], words: usize) -> Vec<u32> {
    codes
        .chunks_exact(words)
        .map(|row| {
            row.iter()
                .zip(code)
                .map(|(x, y)| (x ^ y).count_ones())
                .sum()
        })
        .collect()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn distances_popcnt(codes: &[u64], code: &[u64], words: usize) -> Vec<u32> {
    distances_portable(codes, code, words)
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
            center: vec![0.0; dim],
            codes: Vec::new(),
            words: dim.div_ceil(64),
            exact_limit: EXACT_LIMIT,
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
        index.encode();
        index
    }

    #[test]
    fn codes_find_what_the_exact_scan_finds() {
        let mut seed = 11;
        let query = unit((0..384).map(|_| noise(&mut seed)).collect());
        let exact = index(&query).with_exact_limit(usize::MAX);
        let codes = index(&query).with_exact_limit(0);
        assert!(exact.exact() && !codes.exact());
        let q = exact.prepare(&query).unwrap();
        let all = |_| true;
        let even = |a: DocAddress| a.doc_id % 2 == 1;
        let want = exact.nearest(&q, &all, &even, 10);
        let got = codes.nearest(&q, &all, &even, 10);
        let planted: Vec<u32> = (0..3_000).filter(|d| d % 300 == 7).collect();
        let docs = |hits: &[SemanticHit]| hits.iter().map(|h| h.addr.doc_id).collect::<Vec<_>>();
        let mut found = docs(&got.all);
        found.sort();
        assert_eq!(found, planted, "the ten planted neighbours, by code");
        // The same documents and similarities as the exact scan, in order.
        assert_eq!(got.all, want.all);
        assert_eq!(got.filtered, want.filtered);
        assert!(got.filtered.iter().all(|h| h.addr.doc_id % 2 == 1));
        // A document's best passage on demand, exactly.
        let h = codes.hit(&q, DocAddress::new(0, 7)).unwrap();
        assert_eq!(
            Some(h),
            want.all.iter().find(|x| x.addr.doc_id == 7).copied()
        );
        assert!(codes.hit(&q, DocAddress::new(1, 0)).is_none());
        assert!(codes.prepare(&query[..10]).is_none());
    }
}
