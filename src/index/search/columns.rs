//! What the fusion and the hits read of given documents: a string fast
//! field's values, and which of them have a term.

use foldhash::{HashSet, HashSetExt};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, Term};

use crate::core::relevance::{Bar, Calibration};
use crate::document::Lang;
use crate::semantic::search::SemanticHit;

/// A string fast field of every segment (`lang`, `countries`, `topics`).
pub(super) struct StrColumn {
    pub(super) columns: Vec<Option<tantivy::columnar::StrColumn>>,
}

impl StrColumn {
    pub(super) fn new(searcher: &tantivy::Searcher, field: &str) -> Self {
        Self {
            columns: searcher
                .segment_readers()
                .iter()
                .map(|s| s.fast_fields().str(field).ok().flatten())
                .collect(),
        }
    }

    /// The document's values.
    pub(super) fn values(&self, addr: DocAddress) -> Vec<String> {
        let Some(Some(column)) = self.columns.get(addr.segment_ord as usize) else {
            return Vec::new();
        };
        column
            .term_ords(addr.doc_id)
            .filter_map(|ord| {
                let mut out = String::new();
                column.ord_to_str(ord, &mut out).ok()?.then_some(out)
            })
            .collect()
    }

    /// The document's first value.
    pub(super) fn of(&self, addr: DocAddress) -> Option<String> {
        self.values(addr).into_iter().next()
    }
}

/// Which of `candidates` (sorted) have `term`: its postings in each
/// segment moved forward by seeking, a few steps per candidate instead of
/// a walk through every document that has it.
pub(super) fn holders(
    searcher: &tantivy::Searcher,
    term: &Term,
    candidates: &[DocAddress],
) -> tantivy::Result<HashSet<DocAddress>> {
    let mut out = HashSet::new();
    for segment in candidates.chunk_by(|a, b| a.segment_ord == b.segment_ord) {
        let reader = searcher.segment_reader(segment[0].segment_ord);
        let inverted = reader.inverted_index(term.field())?;
        let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? else {
            continue;
        };
        for addr in segment {
            if postings.doc() < addr.doc_id {
                postings.seek(addr.doc_id);
            }
            if postings.doc() == addr.doc_id {
                out.insert(*addr);
            }
        }
    }
    Ok(out)
}

/// The calibrated similarity bars of one search: per document language.
pub(super) struct Bars<'s> {
    pub(super) calibration: Option<&'s Calibration>,
    pub(super) query: Option<&'s Lang>,
    pub(super) scale: f32,
    pub(super) langs: StrColumn,
}

impl Bars<'_> {
    /// The bar of a document (its counting and its strong similarity).
    pub(super) fn of(&self, addr: DocAddress) -> Option<&Bar> {
        let c = self.calibration?;
        let doc = self.langs.of(addr);
        Some(c.bar(self.query.map(Lang::as_str), doc.as_deref()))
    }

    /// Whether `hit` is near enough to count (any is when the bars are
    /// off).
    pub(super) fn counts(&self, hit: &SemanticHit) -> bool {
        self.reached(hit.addr, hit.similarity).is_some() || self.calibration.is_none()
    }

    /// The bar of a document at `similarity`, when that reaches it.
    pub(super) fn reached(&self, addr: DocAddress, similarity: f32) -> Option<&Bar> {
        let bar = self.of(addr)?;
        (self.scale == 0.0 || similarity >= bar.counts * self.scale).then_some(bar)
    }
}
