//! Facet counts: a tantivy collector that counts the values of string fast
//! fields (multi-valued: a document about Paraguay and Korea counts for
//! both) and of the year, over the documents a query matches.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Counts per value, per facet field name.
pub type Counts = HashMap<String, HashMap<String, u64>>;

/// Count the values of `str_fields` and of the u64 field `year_field`.
pub struct FacetCounter {
    pub str_fields: Vec<&'static str>,
    pub year_field: Option<&'static str>,
}

pub struct SegmentFacetCounter {
    columns: Vec<(&'static str, Option<StrColumn>, Vec<u64>)>,
    year: Option<(&'static str, Column<u64>, HashMap<u64, u64>)>,
}

impl Collector for FacetCounter {
    type Fruit = Counts;
    type Child = SegmentFacetCounter;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let fast = reader.fast_fields();
        let mut columns = Vec::new();
        for name in &self.str_fields {
            let col = fast.str(name)?;
            let n = col.as_ref().map_or(0, |c| c.num_terms());
            columns.push((*name, col, vec![0u64; n]));
        }
        let year = match self.year_field {
            Some(name) => Some((name, fast.u64(name)?, HashMap::new())),
            None => None,
        };
        Ok(SegmentFacetCounter { columns, year })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut out = Counts::new();
        for fruit in fruits {
            for (field, counts) in fruit {
                let target = out.entry(field).or_default();
                for (value, n) in counts {
                    *target.entry(value).or_default() += n;
                }
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for SegmentFacetCounter {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _: Score) {
        for (_, col, counts) in &mut self.columns {
            if let Some(col) = col {
                for ord in col.term_ords(doc) {
                    if let Some(c) = counts.get_mut(ord as usize) {
                        *c += 1;
                    }
                }
            }
        }
        if let Some((_, col, counts)) = &mut self.year {
            for y in col.values_for_doc(doc) {
                *counts.entry(y).or_default() += 1;
            }
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        for (_, col, counts) in &mut self.columns {
            let Some(col) = col else { continue };
            let ords = col.ords();
            for &doc in docs {
                for ord in ords.values_for_doc(doc) {
                    if let Some(c) = counts.get_mut(ord as usize) {
                        *c += 1;
                    }
                }
            }
        }
        if let Some((_, col, counts)) = &mut self.year {
            for &doc in docs {
                for y in col.values_for_doc(doc) {
                    *counts.entry(y).or_default() += 1;
                }
            }
        }
    }

    fn harvest(self) -> Counts {
        let mut out = Counts::new();
        for (name, col, counts) in self.columns {
            let map = out.entry(name.to_string()).or_default();
            let Some(col) = col else { continue };
            let mut value = String::new();
            for (ord, n) in counts.into_iter().enumerate() {
                if n > 0 && col.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                    *map.entry(value.clone()).or_default() += n;
                }
            }
        }
        if let Some((name, _, counts)) = self.year {
            let map = out.entry(name.to_string()).or_default();
            for (y, n) in counts {
                *map.entry(y.to_string()).or_default() += n;
            }
        }
        out
    }
}
