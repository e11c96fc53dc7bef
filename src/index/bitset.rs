//! A fixed-size set of document ids of one segment, 64 to a word: what
//! the one pass over a search's matches (`bits`) and the scoring
//! (`matching`) keep their documents in. A leaf: it imports nothing of
//! the crate.

use tantivy::DocId;

/// A fixed-size set of document ids.
#[derive(Clone, Debug, PartialEq)]
pub struct Bits(Vec<u64>);

impl Bits {
    pub fn empty(len: u32) -> Self {
        Self(vec![0; (len as usize).div_ceil(64)])
    }

    /// Every document of `0..len`.
    pub fn full(len: u32) -> Self {
        let mut words = vec![u64::MAX; (len as usize).div_ceil(64)];
        if let Some(last) = words.last_mut()
            && !len.is_multiple_of(64)
        {
            *last = (1u64 << (len % 64)) - 1;
        }
        Self(words)
    }

    /// Remove every document.
    pub fn clear(&mut self) {
        self.0.fill(0);
    }

    pub fn set(&mut self, doc: DocId) {
        self.0[doc as usize / 64] |= 1 << (doc % 64);
    }

    pub fn unset(&mut self, doc: DocId) {
        if let Some(w) = self.0.get_mut(doc as usize / 64) {
            *w &= !(1 << (doc % 64));
        }
    }

    pub fn contains(&self, doc: DocId) -> bool {
        self.0
            .get(doc as usize / 64)
            .is_some_and(|w| w & (1 << (doc % 64)) != 0)
    }

    pub fn and_with(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    /// Remove `other`'s documents.
    pub fn and_not(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= !b;
        }
    }

    pub fn or_with(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    pub fn count(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// The documents in the set, in order.
    pub fn ones(&self) -> impl Iterator<Item = DocId> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let bit = w.trailing_zeros();
                    w &= w - 1;
                    (i * 64) as DocId + bit
                })
            })
        })
    }

    /// `|self ∩ other|` without building the intersection.
    pub fn count_and(&self, other: &Bits) -> u64 {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| u64::from((a & b).count_ones()))
            .sum()
    }
}
