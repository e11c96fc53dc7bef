//! Facets by bitsets. When a generation is opened, each segment's documents
//! of every facet value are laid out as a bitset. A search then makes one
//! pass over what its text matches, keeping the matched documents as a
//! bitset and the best hits that pass the filters; the total and every facet
//! count, the disjunctive ones included, are popcounts of ANDs of bitsets:
//! work proportional to the number of facet values, not to the number of
//! matching documents, and no second query per selected facet.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::{DocAddress, SegmentOrdinal, SegmentReader};

use super::bitset::Bits;
use super::matching::{Plan, Prepared};
use super::versions::Versions;
use crate::core::facet::{Facet, Filters, Kind, PerFacet};

pub use crate::core::facet::Counts;

/// One segment's facet values as bitsets.
pub struct SegmentFacets {
    /// Per facet: each value present and its documents.
    values: PerFacet<Vec<(String, Bits)>>,
    /// The documents not deleted.
    alive: Bits,
    max_doc: u32,
}

impl SegmentFacets {
    fn build(reader: &SegmentReader) -> tantivy::Result<Self> {
        let max_doc = reader.max_doc();
        let fast = reader.fast_fields();
        let mut values: PerFacet<Vec<(String, Bits)>> = PerFacet::default();
        for facet in Facet::ALL {
            let field = facet.spec().field;
            let out = &mut values[facet];
            if let Kind::Years = facet.spec().kind {
                let col: Column<u64> = fast.u64(field)?;
                let mut by_year: HashMap<u64, Bits> = HashMap::new();
                for doc in 0..max_doc {
                    for y in col.values_for_doc(doc) {
                        by_year
                            .entry(y)
                            .or_insert_with(|| Bits::empty(max_doc))
                            .set(doc);
                    }
                }
                out.extend(by_year.into_iter().map(|(y, b)| (y.to_string(), b)));
            } else if let Some(col) = fast.str(field)? {
                let mut per_ord: Vec<Option<Bits>> = vec![None; col.num_terms()];
                for doc in 0..max_doc {
                    for ord in col.term_ords(doc) {
                        if let Some(slot) = per_ord.get_mut(ord as usize) {
                            slot.get_or_insert_with(|| Bits::empty(max_doc)).set(doc);
                        }
                    }
                }
                let mut name = String::new();
                for (ord, bits) in per_ord.into_iter().enumerate() {
                    if let Some(bits) = bits
                        && col.ord_to_str(ord as u64, &mut name)?
                    {
                        out.push((name.clone(), bits));
                    }
                }
            }
        }
        let mut alive = Bits::empty(max_doc);
        for doc in 0..max_doc {
            if reader.alive_bitset().is_none_or(|a| a.is_alive(doc)) {
                alive.set(doc);
            }
        }
        Ok(Self {
            values,
            alive,
            max_doc,
        })
    }

    /// The documents with any of `wanted` as their value of `facet`.
    fn any_of(&self, facet: Facet, wanted: &[String]) -> Bits {
        let mut out = Bits::empty(self.max_doc);
        for (value, bits) in &self.values[facet] {
            if wanted.iter().any(|w| w == value) {
                out.or_with(bits);
            }
        }
        out
    }

    /// The documents whose `facet` (a facet of years) lies in `[a, b]`.
    fn years(&self, facet: Facet, (a, b): (u32, u32)) -> Bits {
        let mut out = Bits::empty(self.max_doc);
        for (value, bits) in &self.values[facet] {
            if value.parse::<u32>().is_ok_and(|y| (a..=b).contains(&y)) {
                out.or_with(bits);
            }
        }
        out
    }
}

/// Every segment's facet bitsets, for one open generation.
#[derive(Default)]
pub struct FacetBits {
    segments: HashMap<SegmentId, Arc<SegmentFacets>>,
}

impl FacetBits {
    pub fn build(searcher: &tantivy::Searcher) -> tantivy::Result<Self> {
        let mut segments = HashMap::new();
        for reader in searcher.segment_readers() {
            segments.insert(reader.segment_id(), Arc::new(SegmentFacets::build(reader)?));
        }
        Ok(Self { segments })
    }

    fn segment(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentFacets>> {
        match self.segments.get(&reader.segment_id()) {
            Some(s) => Ok(s.clone()),
            None => Ok(Arc::new(SegmentFacets::build(reader)?)),
        }
    }
}

impl Filters {
    /// Each facet's filter as a bitset (`None` where there is none).
    fn bitsets(&self, seg: &SegmentFacets) -> PerFacet<Option<Bits>> {
        PerFacet::from_fn(|facet| match facet.spec().kind {
            Kind::Years => self.years().map(|r| seg.years(facet, r)),
            Kind::Values(_) => {
                let v = self.values(facet);
                (!v.is_empty()).then(|| seg.any_of(facet, v))
            }
        })
    }

    /// All filters but facet `except`'s, ANDed; `None` when that is no filter.
    fn all_but(per_facet: &PerFacet<Option<Bits>>, except: Option<Facet>) -> Option<Bits> {
        let mut out: Option<Bits> = None;
        for (facet, b) in per_facet.iter() {
            if Some(facet) == except {
                continue;
            }
            if let Some(b) = b {
                match &mut out {
                    Some(o) => o.and_with(b),
                    None => out = Some(b.clone()),
                }
            }
        }
        out
    }
}

/// How hits are ordered: by score, or by day (newest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Score,
    Day,
}

/// A hit's rank key: higher is better, then the earlier document.
#[derive(Clone, Copy, Debug)]
struct Ranked {
    key: f64,
    addr: DocAddress,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    /// Greater = ranks higher.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .total_cmp(&other.key)
            .then_with(|| other.addr.cmp(&self.addr))
    }
}

/// What one segment gives back: its matched documents and its filters as
/// bitsets.
pub struct SegmentFruit {
    facets: Arc<SegmentFacets>,
    per_facet: PerFacet<Option<Bits>>,
    matched: Bits,
}

/// What a pass over every segment gives back: each segment's bitsets, and
/// the best hits of them all.
pub struct Fruits {
    segments: Vec<SegmentFruit>,
    best: Vec<Ranked>,
}

/// The `keep` best of what is offered, by `Ranked` order.
struct Best {
    heap: BinaryHeap<std::cmp::Reverse<Ranked>>,
    keep: usize,
    /// The worst kept, once `keep` are: what an offer must beat.
    bar: Option<Ranked>,
}

impl Best {
    fn new(keep: usize) -> Self {
        Self {
            heap: BinaryHeap::with_capacity(keep + 1),
            keep,
            bar: None,
        }
    }

    #[inline]
    fn offer(&mut self, r: Ranked) {
        match self.bar {
            // Most offers lose on the key alone.
            Some(bar) if r.key < bar.key || r <= bar => return,
            None if self.keep == 0 => return,
            _ => {}
        }
        if self.heap.len() < self.keep {
            self.heap.push(std::cmp::Reverse(r));
        } else if let Some(mut worst) = self.heap.peek_mut() {
            // Replaced in place: one sift down instead of a pop and a push.
            *worst = std::cmp::Reverse(r);
        }
        if self.heap.len() == self.keep {
            self.bar = self.heap.peek().map(|w| w.0);
        }
    }
}

/// Run `plan` over every segment: the documents it matches, and the `keep`
/// best that pass the filters, by score or by day.
pub fn run(
    searcher: &tantivy::Searcher,
    plan: &Plan,
    facet_bits: &FacetBits,
    filters: &Filters,
    order: Order,
    keep: usize,
) -> tantivy::Result<Fruits> {
    let scoring = order == Order::Score && keep > 0;
    let prepared = Prepared::new(plan, searcher, scoring)?;
    let mut fruits = Vec::new();
    // One list across segments: a good hit of one raises the bar for the next.
    let mut best = Best::new(keep);
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let ord = ord as SegmentOrdinal;
        let facets = facet_bits.segment(reader)?;
        let per_facet = filters.bitsets(&facets);
        let (mut matched, offered) = prepared.segment(reader, |matched, scores| {
            if keep == 0 {
                return Ok(());
            }
            let mut candidates = matched.clone();
            candidates.and_with(&facets.alive);
            if let Some(pass) = Filters::all_but(&per_facet, None) {
                candidates.and_with(&pass);
            }
            let day: Option<Column<u64>> = match scoring {
                true => None,
                false => Some(reader.fast_fields().u64("day")?),
            };
            for doc in candidates.ones() {
                let key = match &day {
                    Some(day) => day.first(doc).unwrap_or(0) as f64,
                    None => f64::from(scores[doc as usize]),
                };
                best.offer(Ranked {
                    key,
                    addr: DocAddress::new(ord, doc),
                });
            }
            tantivy::Result::Ok(())
        })?;
        offered?;
        matched.and_with(&facets.alive);
        fruits.push(SegmentFruit {
            facets,
            per_facet,
            matched,
        });
    }
    Ok(Fruits {
        segments: fruits,
        best: best.heap.into_iter().map(|r| r.0).collect(),
    })
}

impl Fruits {
    fn segment(&self, addr: DocAddress) -> Option<&SegmentFruit> {
        self.segments.get(addr.segment_ord as usize)
    }

    /// Whether `addr` is a live document.
    pub fn alive(&self, addr: DocAddress) -> bool {
        self.segment(addr)
            .is_some_and(|s| s.facets.alive.contains(addr.doc_id))
    }

    /// Whether `addr` is a live document that passes every filter.
    pub fn passes(&self, addr: DocAddress) -> bool {
        self.segment(addr).is_some_and(|s| {
            s.facets.alive.contains(addr.doc_id)
                && s.per_facet
                    .iter()
                    .all(|(_, bits)| bits.as_ref().is_none_or(|b| b.contains(addr.doc_id)))
        })
    }

    /// Whether the text matched `addr`.
    pub fn matched(&self, addr: DocAddress) -> bool {
        self.segment(addr)
            .is_some_and(|s| s.matched.contains(addr.doc_id))
    }

    /// A document found otherwise (by meaning) joins the matched ones, so
    /// that the total and the facet counts describe it too.
    pub fn add_matched(&mut self, addr: DocAddress) {
        if let Some(s) = self.segments.get_mut(addr.segment_ord as usize)
            && s.facets.alive.contains(addr.doc_id)
        {
            s.matched.set(addr.doc_id);
        }
    }

    /// Forget what the text matched (a search by meaning only).
    pub fn clear_matched(&mut self) {
        for s in &mut self.segments {
            s.matched.clear();
        }
        self.best.clear();
    }
}

/// Hits, total and facet counts of a search's segments.
pub struct Outcome {
    /// (score, or 0 in date order; address), best first: the `keep` best.
    pub ranked: Vec<(f32, DocAddress)>,
    pub total: usize,
    pub counts: Counts,
}

/// Merge the segments: the best hits, the total that passes every filter,
/// and each facet's counts under every filter but its own. A story told by
/// several documents (`versions`) counts once, as its best version among
/// those counted.
pub fn outcome(fruits: Fruits, filters: &Filters, order: Order, versions: &Versions) -> Outcome {
    let Fruits {
        segments: fruits,
        mut best,
    } = fruits;
    best.sort_by(|a, b| b.cmp(a));
    let ranked = best
        .into_iter()
        .map(|r| {
            let score = match order {
                Order::Score => r.key as f32,
                Order::Day => 0.0,
            };
            (score, r.addr)
        })
        .collect();
    // What passes the filters but `except`'s, in every segment, each
    // story once.
    let candidates = |except: Option<Facet>| {
        let mut sets: Vec<Bits> = fruits
            .iter()
            .map(|f| {
                let mut c = f.matched.clone();
                if let Some(others) = Filters::all_but(&f.per_facet, except) {
                    c.and_with(&others);
                }
                c
            })
            .collect();
        one_per_story(&mut sets, versions);
        sets
    };
    let passing = candidates(None);
    let total: u64 = passing.iter().map(Bits::count).sum();
    let mut counts = Counts::default();
    for facet in Facet::ALL {
        // A facet with a filter is counted without it (disjunctive).
        let own;
        let sets = if filters.is_active(facet) {
            own = candidates(Some(facet));
            &own
        } else {
            &passing
        };
        let target = &mut counts[facet];
        for (f, set) in fruits.iter().zip(sets) {
            for (value, bits) in &f.facets.values[facet] {
                let n = set.count_and(bits);
                if n > 0 {
                    *target.entry(value.clone()).or_default() += n;
                }
            }
        }
    }
    Outcome {
        ranked,
        total: total as usize,
        counts,
    }
}

/// Keep, of each story's documents in `sets` (one bitset a segment), only
/// the first, its best version.
fn one_per_story(sets: &mut [Bits], versions: &Versions) {
    for members in versions.all() {
        let mut kept = false;
        for a in members {
            let Some(set) = sets.get_mut(a.segment_ord as usize) else {
                continue;
            };
            if set.contains(a.doc_id) {
                if kept {
                    set.unset(a.doc_id);
                }
                kept = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_count_and_combine() {
        let mut a = Bits::empty(130);
        let mut b = Bits::empty(130);
        for d in [0, 63, 64, 129] {
            a.set(d);
        }
        for d in [63, 100, 129] {
            b.set(d);
        }
        assert!(a.contains(129) && !a.contains(128) && !a.contains(5000));
        assert_eq!(a.count(), 4);
        assert_eq!(a.count_and(&b), 2);
        let mut c = a.clone();
        c.and_with(&b);
        assert_eq!(c.count(), 2);
        c.or_with(&b);
        assert_eq!(c, b);
        let mut d = a.clone();
        d.and_not(&b);
        assert_eq!(d.ones().collect::<Vec<_>>(), [0, 64]);
        for len in [0, 1, 63, 64, 65, 130] {
            let full = Bits::full(len);
            assert_eq!(full.count(), u64::from(len));
            assert_eq!(
                full.ones().collect::<Vec<_>>(),
                (0..len).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn ranking_prefers_higher_keys_then_earlier_documents() {
        let r = |key, seg, doc| Ranked {
            key,
            addr: DocAddress::new(seg, doc),
        };
        let mut v = [r(1.0, 0, 5), r(2.0, 1, 0), r(1.0, 0, 2), r(1.0, 1, 0)];
        v.sort_by(|a, b| b.cmp(a));
        let order: Vec<(u32, u32)> = v
            .iter()
            .map(|x| (x.addr.segment_ord, x.addr.doc_id))
            .collect();
        assert_eq!(order, [(1, 0), (0, 2), (0, 5), (1, 0)]);
    }
}
