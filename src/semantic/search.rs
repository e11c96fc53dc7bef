//! Search by meaning over a generation's passage vectors: every passage
//! compared with the query (exact, 8-bit), each document scored by its best
//! passage.

use std::collections::HashMap;
use std::path::Path;

use tantivy::DocAddress;

use super::passages::Span;
use super::vectors::{self, Quantised, VectorError};

/// A generation's vectors in memory, row by row, each row a passage of a
/// live document of the opened tantivy searcher.
pub struct VectorIndex {
    pub model: String,
    dim: usize,
    values: Vec<i8>,
    scales: Vec<f32>,
    rows: Vec<(DocAddress, Span)>,
}

/// A document found by meaning: its best passage and that passage's
/// similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SemanticHit {
    pub addr: DocAddress,
    pub similarity: f32,
    pub span: Span,
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
        let mut index = Self {
            model: header.model,
            dim: header.dim,
            values: Vec::new(),
            scales: Vec::new(),
            rows: Vec::new(),
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
        Ok(Some(index))
    }

    /// Passages held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every document `keep` accepts, with its passage most similar to
    /// `query` (exact: every passage is compared), in row order.
    pub fn scores(&self, query: &[f32], keep: &dyn Fn(DocAddress) -> bool) -> Vec<SemanticHit> {
        if query.len() != self.dim {
            return Vec::new();
        }
        let q = Quantised::new(query);
        let mut out: Vec<SemanticHit> = Vec::new();
        let mut accepted: Option<(DocAddress, bool)> = None;
        for (i, (addr, span)) in self.rows.iter().enumerate() {
            if accepted.is_none_or(|(a, _)| a != *addr) {
                accepted = Some((*addr, keep(*addr)));
            }
            if !accepted.is_some_and(|(_, ok)| ok) {
                continue;
            }
            let row = &self.values[i * self.dim..(i + 1) * self.dim];
            let similarity = vectors::similarity(row, self.scales[i], &q.values, q.scale);
            match out.last_mut() {
                Some(last) if last.addr == *addr => {
                    if similarity > last.similarity {
                        last.similarity = similarity;
                        last.span = *span;
                    }
                }
                _ => out.push(SemanticHit {
                    addr: *addr,
                    similarity,
                    span: *span,
                }),
            }
        }
        out
    }
}
