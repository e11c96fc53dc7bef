//! What a query matches in a segment and how each match scores, a term at a
//! time.
//!
//! A cross-language query is a dozen or more weighted terms (each word in
//! its own language's view and in the all-languages view, the country and
//! topic tags, the other languages' names), and a search needs every match:
//! the facets count them all. tantivy's union of term scorers walks them
//! document at a time, through several dynamic calls per posting. Here each
//! term's postings are read block by block and their BM25 scores added into
//! one array indexed by document, which is what the union computes, with a
//! tight loop per term. Required phrases and exclusions are queries run
//! over the segment into bitsets of their own.

use std::cell::RefCell;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{SegmentReader, Term};

use super::bitset::Bits;
use super::stats::Bm25;

/// A query as the matching pass runs it.
#[derive(Default)]
pub struct Plan {
    /// Weighted terms with their BM25 weights (the weight's boost applied):
    /// a document with any of them matches unless `must` is not empty, and
    /// scores the sum of theirs.
    pub terms: Vec<(Term, Bm25)>,
    /// Queries that every match must match; their scores are added.
    pub must: Vec<Box<dyn Query>>,
    /// Queries that no match may match.
    pub must_not: Vec<Box<dyn Query>>,
    /// The words rule (`core::relevance`): clauses, each the terms any of
    /// which a document has it by and its weight; a match must have
    /// `min_share` of their weight. Empty: every match counts.
    pub evidence: Vec<(Vec<Term>, f32)>,
    pub min_share: f32,
}

impl Plan {
    /// No text at all: the plan matches every document (browsing).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.must.is_empty() && self.must_not.is_empty()
    }

    /// Something to score by: exclusions alone give every match 0.
    pub fn scores(&self) -> bool {
        !self.terms.is_empty() || !self.must.is_empty()
    }
}

/// A plan made ready for one searcher: the weights of its queries.
pub struct Prepared<'p> {
    plan: &'p Plan,
    must: Vec<Box<dyn Weight>>,
    must_not: Vec<Box<dyn Weight>>,
    scoring: bool,
}

impl<'p> Prepared<'p> {
    /// Prepare `plan` to run over `searcher`'s segments, scoring matches or
    /// only finding them.
    pub fn new(
        plan: &'p Plan,
        searcher: &tantivy::Searcher,
        scoring: bool,
    ) -> tantivy::Result<Self> {
        let enable = if scoring {
            EnableScoring::enabled_from_searcher(searcher)
        } else {
            EnableScoring::disabled_from_searcher(searcher)
        };
        let weights = |queries: &[Box<dyn Query>], enable: EnableScoring<'_>| {
            queries
                .iter()
                .map(|q| q.weight(enable))
                .collect::<tantivy::Result<Vec<_>>>()
        };
        Ok(Self {
            plan,
            must: weights(&plan.must, enable)?,
            must_not: weights(
                &plan.must_not,
                EnableScoring::disabled_from_searcher(searcher),
            )?,
            scoring,
        })
    }

    /// The documents of `reader` that the plan matches (deleted ones
    /// included), handed to `f` with every document's score (0 for
    /// documents that do not match, and for all when not scoring).
    pub fn segment<R>(
        &self,
        reader: &SegmentReader,
        f: impl FnOnce(&Bits, &[f32]) -> R,
    ) -> tantivy::Result<(Bits, R)> {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let max_doc = reader.max_doc();
            scratch.prepare(max_doc as usize);
            let scores = &mut scratch.scores[..max_doc as usize];
            // Every document whose score was written, to clear them after,
            // and how many scores were written.
            let mut touched = Bits::empty(max_doc);
            let mut written = 0;
            let result = self.fill(reader, scores, &mut touched, &mut written);
            let out = result.map(|matched| {
                let r = f(&matched, scores);
                (matched, r)
            });
            // Clearing the whole array is faster than clearing one score
            // at a time once more than a few in a hundred were written.
            if written > scores.len() / 32 {
                scores.fill(0.0);
            } else {
                for doc in touched.ones() {
                    scores[doc as usize] = 0.0;
                }
            }
            scratch.dirty = false;
            out
        })
    }

    fn fill(
        &self,
        reader: &SegmentReader,
        scores: &mut [f32],
        touched: &mut Bits,
        written: &mut usize,
    ) -> tantivy::Result<Bits> {
        let max_doc = reader.max_doc();
        for (term, bm25) in &self.plan.terms {
            *written += self.add_term(reader, term, bm25, scores, touched)?;
        }
        let mut matched = if !self.must.is_empty() {
            let mut all_of: Option<Bits> = None;
            for weight in &self.must {
                let mut these = Bits::empty(max_doc);
                if self.scoring {
                    weight.for_each(reader, &mut |doc, score| {
                        scores[doc as usize] += score;
                        these.set(doc);
                    })?;
                    touched.or_with(&these);
                    *written += max_doc as usize;
                } else {
                    weight.for_each_no_score(reader, &mut |docs| {
                        for &d in docs {
                            these.set(d);
                        }
                    })?;
                }
                match &mut all_of {
                    Some(a) => a.and_with(&these),
                    None => all_of = Some(these),
                }
            }
            all_of.unwrap_or_else(|| Bits::empty(max_doc))
        } else if self.plan.terms.is_empty() {
            Bits::full(max_doc)
        } else {
            touched.clone()
        };
        for weight in &self.must_not {
            let mut excluded = Bits::empty(max_doc);
            weight.for_each_no_score(reader, &mut |docs| {
                for &d in docs {
                    excluded.set(d);
                }
            })?;
            matched.and_not(&excluded);
        }
        if !self.plan.evidence.is_empty() {
            self.keep_evidenced(reader, &mut matched)?;
        }
        Ok(matched)
    }

    /// Keep in `matched` the documents with `min_share` of the evidence's
    /// weight: each clause's documents as a bitset, then each match's
    /// share summed over them.
    fn keep_evidenced(&self, reader: &SegmentReader, matched: &mut Bits) -> tantivy::Result<()> {
        let max_doc = reader.max_doc();
        let mut clauses = Vec::with_capacity(self.plan.evidence.len());
        let mut total = 0.0;
        for (terms, weight) in &self.plan.evidence {
            let mut has = Bits::empty(max_doc);
            for term in terms {
                let inverted = reader.inverted_index(term.field())?;
                let Some(mut postings) =
                    inverted.read_block_postings(term, IndexRecordOption::Basic)?
                else {
                    continue;
                };
                loop {
                    let docs = postings.docs();
                    if docs.is_empty() {
                        break;
                    }
                    for &d in docs {
                        has.set(d);
                    }
                    postings.advance();
                }
            }
            total += weight;
            clauses.push((has, *weight));
        }
        let needed = self.plan.min_share * total - 1e-6;
        let kept: Vec<u32> = matched
            .ones()
            .filter(|&doc| {
                let found: f32 = clauses
                    .iter()
                    .filter(|(has, _)| has.contains(doc))
                    .map(|(_, w)| w)
                    .sum();
                found >= needed
            })
            .collect();
        let mut out = Bits::empty(max_doc);
        for doc in kept {
            out.set(doc);
        }
        *matched = out;
        Ok(())
    }

    /// Add `term`'s BM25 to the score of every document that has it, a
    /// block of postings at a time. Returns how many documents have it.
    fn add_term(
        &self,
        reader: &SegmentReader,
        term: &Term,
        bm25: &Bm25,
        scores: &mut [f32],
        touched: &mut Bits,
    ) -> tantivy::Result<usize> {
        let field = term.field();
        let inverted = reader.inverted_index(field)?;
        let option = if self.scoring {
            IndexRecordOption::WithFreqs
        } else {
            IndexRecordOption::Basic
        };
        let Some(mut postings) = inverted.read_block_postings(term, option)? else {
            return Ok(0);
        };
        let doc_freq = postings.doc_freq() as usize;
        if !self.scoring {
            loop {
                let docs = postings.docs();
                if docs.is_empty() {
                    return Ok(doc_freq);
                }
                for &doc in docs {
                    touched.set(doc);
                }
                postings.advance();
            }
        }
        // As tantivy's term scorer: the field's lengths, or one for all.
        let norms = match reader.fieldnorms_readers().get_field(field)? {
            Some(norms) => norms,
            None => FieldNormReader::constant(reader.max_doc(), 1),
        };
        loop {
            let docs = postings.docs();
            if docs.is_empty() {
                return Ok(doc_freq);
            }
            let freqs = postings.freqs();
            for (i, &doc) in docs.iter().enumerate() {
                // A field indexed without frequencies counts each once.
                let tf = freqs.get(i).copied().unwrap_or(1);
                if let Some(score) = scores.get_mut(doc as usize) {
                    *score += bm25.score(norms.fieldnorm_id(doc), tf);
                }
                touched.set(doc);
            }
            postings.advance();
        }
    }
}

/// The score array of a thread's searches, kept between them (it is as
/// long as the largest segment) and all zeros between two searches.
#[derive(Default)]
struct Scratch {
    scores: Vec<f32>,
    /// Set while a search uses the array: one that ended without clearing
    /// it (a panic) leaves it set, and the next clears it whole.
    dirty: bool,
}

impl Scratch {
    fn prepare(&mut self, len: usize) {
        if self.dirty {
            self.scores.fill(0.0);
        }
        if self.scores.len() < len {
            self.scores.resize(len, 0.0);
        }
        self.dirty = true;
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Used by tests of the index: which documents `plan` matches and their
/// scores, over every segment.
#[cfg(test)]
pub fn all_matches(
    plan: &Plan,
    searcher: &tantivy::Searcher,
) -> tantivy::Result<Vec<(tantivy::DocAddress, f32)>> {
    let prepared = Prepared::new(plan, searcher, true)?;
    let mut out = Vec::new();
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let (_, found) = prepared.segment(reader, |matched, scores| {
            matched
                .ones()
                .map(|d| (tantivy::DocAddress::new(ord as u32, d), scores[d as usize]))
                .collect::<Vec<_>>()
        })?;
        out.extend(found);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ranking::Bm25Params;
    use tantivy::collector::DocSetCollector;
    use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, TermQuery};
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{DocAddress, Index, IndexWriter, TantivyDocument, doc};

    /// A small on-disk index: two text fields, documents of random words
    /// (deterministic), some deleted, in several segments.
    fn index(dir: &std::path::Path) -> (Index, tantivy::schema::Field, tantivy::schema::Field) {
        let mut schema = Schema::builder();
        let title = schema.add_text_field("title", TEXT);
        let body = schema.add_text_field("body", TEXT);
        let index = Index::create_in_dir(dir, schema.build()).unwrap();
        let mut writer: IndexWriter<TantivyDocument> =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        let words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa"];
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for segment in 0..3 {
            for i in 0..400 {
                let n = 1 + next() % 40;
                let text: Vec<&str> = (0..n).map(|_| words[next() % words.len()]).collect();
                let t = words[next() % words.len()];
                writer
                    .add_document(
                        doc!(title => format!("{t} {segment} {i}"), body => text.join(" ")),
                    )
                    .unwrap();
            }
            writer.delete_term(Term::from_field_text(title, &format!("{}", 17 + segment)));
            writer.commit().unwrap();
        }
        (index, title, body)
    }

    fn sorted(mut v: Vec<(DocAddress, f32)>) -> Vec<(DocAddress, f32)> {
        v.sort_by_key(|(a, _)| *a);
        v
    }

    /// What tantivy's own boolean query gives for the same plan.
    fn tantivy_scores(searcher: &tantivy::Searcher, query: &dyn Query) -> Vec<(DocAddress, f32)> {
        let weight = query
            .weight(EnableScoring::enabled_from_searcher(searcher))
            .unwrap();
        let mut out = Vec::new();
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            weight
                .for_each(reader, &mut |doc, score| {
                    out.push((DocAddress::new(ord as u32, doc), score))
                })
                .unwrap();
        }
        sorted(out)
    }

    fn assert_same(ours: Vec<(DocAddress, f32)>, theirs: Vec<(DocAddress, f32)>) {
        let ours = sorted(ours);
        assert_eq!(ours.len(), theirs.len());
        assert!(!ours.is_empty());
        for ((a, x), (b, y)) in ours.iter().zip(&theirs) {
            assert_eq!(a, b);
            assert!(
                (x - y).abs() <= 1e-4 * y.abs().max(1.0),
                "{a:?}: {x} against {y}"
            );
        }
    }

    #[test]
    fn term_at_a_time_scores_as_tantivys_union() {
        let dir = tempfile::tempdir().unwrap();
        let (index, title, body) = index(dir.path());
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 1);
        let (plan, union) = weighted(&searcher, title, body);
        assert_same(
            all_matches(&plan, &searcher).unwrap(),
            tantivy_scores(&searcher, &union),
        );
    }

    /// Four weighted terms (one in no document): our plan and tantivy's
    /// union of boosted term queries.
    fn weighted(
        searcher: &tantivy::Searcher,
        title: tantivy::schema::Field,
        body: tantivy::schema::Field,
    ) -> (Plan, BooleanQuery) {
        let weighted = [
            (Term::from_field_text(body, "alpha"), 1.0f32),
            (Term::from_field_text(body, "omega"), 0.3),
            (Term::from_field_text(title, "kappa"), 0.5),
            (Term::from_field_text(title, "absent"), 2.0),
        ];
        let plan = Plan {
            terms: weighted
                .iter()
                .map(|(t, w)| {
                    let bm25 = Bm25::for_term(searcher, t, Bm25Params::default(), *w).unwrap();
                    (t.clone(), bm25)
                })
                .collect(),
            ..Plan::default()
        };
        let union = BooleanQuery::new(
            weighted
                .iter()
                .map(|(t, w)| {
                    let q: Box<dyn Query> = Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(t.clone(), IndexRecordOption::WithFreqs)),
                        *w,
                    ));
                    (Occur::Should, q)
                })
                .collect(),
        );
        (plan, union)
    }

    fn excluded(body: tantivy::schema::Field) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(body, "sigma"),
            IndexRecordOption::Basic,
        ))
    }

    #[test]
    fn a_required_phrase_and_an_exclusion_score_as_tantivys() {
        let dir = tempfile::tempdir().unwrap();
        let (index, title, body) = index(dir.path());
        let searcher = index.reader().unwrap().searcher();
        let (plan, union) = weighted(&searcher, title, body);
        // As the query parser makes them.
        let phrase = || -> Box<dyn Query> {
            Box::new(PhraseQuery::new(vec![
                Term::from_field_text(body, "beta"),
                Term::from_field_text(body, "gamma"),
            ]))
        };
        let plan = Plan {
            must: vec![phrase()],
            must_not: vec![excluded(body)],
            ..plan
        };
        let full = BooleanQuery::new(vec![
            (Occur::Must, phrase()),
            (Occur::MustNot, excluded(body)),
            (Occur::Should, Box::new(union)),
        ]);
        assert_same(
            all_matches(&plan, &searcher).unwrap(),
            tantivy_scores(&searcher, &full),
        );
    }

    #[test]
    fn only_an_exclusion_matches_everything_else() {
        let dir = tempfile::tempdir().unwrap();
        let (index, _, body) = index(dir.path());
        let searcher = index.reader().unwrap().searcher();
        let plan = Plan {
            must_not: vec![excluded(body)],
            ..Plan::default()
        };
        let everything_but = BooleanQuery::new(vec![
            (Occur::Must, Box::new(tantivy::query::AllQuery)),
            (Occur::MustNot, excluded(body)),
        ]);
        let ours: Vec<DocAddress> = all_matches(&plan, &searcher)
            .unwrap()
            .into_iter()
            .map(|(a, _)| a)
            .collect();
        let mut theirs: Vec<DocAddress> = searcher
            .search(&everything_but, &DocSetCollector)
            .unwrap()
            .into_iter()
            .collect();
        theirs.sort();
        // tantivy's collector skips deleted documents; the pass keeps them
        // for the caller to drop.
        let alive: Vec<DocAddress> = ours
            .into_iter()
            .filter(|a| {
                searcher
                    .segment_reader(a.segment_ord)
                    .alive_bitset()
                    .is_none_or(|b| b.is_alive(a.doc_id))
            })
            .collect();
        assert_eq!(alive, theirs);
    }

    #[test]
    fn scores_are_cleared_between_searches_even_after_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let (index, _, body) = index(dir.path());
        let searcher = index.reader().unwrap().searcher();
        let term = Term::from_field_text(body, "delta");
        let plan = Plan {
            terms: vec![(
                term.clone(),
                Bm25::for_term(&searcher, &term, Bm25Params::default(), 1.0).unwrap(),
            )],
            ..Plan::default()
        };
        let first = all_matches(&plan, &searcher).unwrap();
        let prepared = Prepared::new(&plan, &searcher, true).unwrap();
        let reader = &searcher.segment_readers()[0];
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = prepared.segment(reader, |_, _| panic!("a search that fails half way"));
        }));
        assert!(panicked.is_err());
        assert_eq!(all_matches(&plan, &searcher).unwrap(), first);
    }
}
