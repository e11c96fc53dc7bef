//! A stored document by id, and the documents related to it.

use std::collections::BTreeMap;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, Term};

use super::respond::{Marks, to_hit};
use super::{SearchError, TantivySearcher, term_query};
use crate::analysis::AnalyzerName;
use crate::core::query::Clause;
use crate::core::request::MAX_LIMIT;
use crate::core::response::{Hit, Version};
use crate::document::Document;
use crate::enrich::searchable_text;
use crate::semantic::passages::Span;

impl TantivySearcher {
    /// A whole document, as enriched for the index.
    pub fn document(&self, id: &str) -> Result<Document, SearchError> {
        let searcher = self.reader.searcher();
        self.address(&searcher, id)
            .and_then(|addr| self.stored(&searcher, addr))
            .ok_or_else(|| SearchError::NotFound(id.to_string()))
    }

    /// Where the live document with this id is.
    fn address(&self, searcher: &tantivy::Searcher, id: &str) -> Option<DocAddress> {
        crate::index::versions::address(searcher, self.fields.id, id)
    }

    /// The passage of a document nearest `query` by meaning (its words and
    /// phrases, as a search gives them to the model); none without the
    /// model or the generation's vectors, or for a query the model cannot
    /// read as words.
    pub fn nearest_passage(&self, id: &str, query: &str) -> Option<Span> {
        let semantic = self.engine.semantic.as_ref()?;
        let vectors = self.vectors.as_ref().ok()?;
        let words: Vec<String> = crate::core::query::parse(query)
            .into_iter()
            .filter_map(|c| match c {
                Clause::Words(t) | Clause::Phrase(t) => Some(t),
                _ => None,
            })
            .collect();
        let meaning = words.join(" ");
        if meaning.trim().is_empty() || !semantic.reads_as_words(&meaning) {
            return None;
        }
        let searcher = self.reader.searcher();
        let addr = self.address(&searcher, id)?;
        let vector = semantic.embed_query(crate::core::query::for_model(&meaning));
        let prepared = vectors.prepare(&vector)?;
        vectors.hit(&prepared, addr).map(|h| h.span)
    }

    /// The other versions of a document's story, best first, and its
    /// translations.
    pub fn versions(&self, id: &str) -> (Vec<Version>, Vec<Version>) {
        let searcher = self.reader.searcher();
        match self.address(&searcher, id) {
            Some(addr) => (
                self.other_versions(&searcher, addr),
                self.translations(&searcher, addr),
            ),
            None => (Vec::new(), Vec::new()),
        }
    }

    /// Documents like this one: shared topics, countries, event and terms.
    pub fn related(&self, id: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        if limit == 0 || limit > MAX_LIMIT {
            return Err(SearchError::BadRequest(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let doc = self.document(id)?;
        let f = &self.fields;
        let view = f.view(AnalyzerName::for_lang(
            doc.lang.as_ref().map_or("", |l| l.as_str()),
        ));
        let body: String = searchable_text(&doc).chars().take(20_000).collect();
        let searcher = self.reader.searcher();
        let telling = self.telling_terms(
            &searcher,
            view.analyzer,
            &[(view.title, &doc.title), (view.body, &body)],
        )?;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = telling
            .into_iter()
            .map(|(term, boost)| -> (Occur, Box<dyn Query>) {
                let query = TermQuery::new(term, IndexRecordOption::Basic);
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), boost)),
                )
            })
            .collect();
        for t in &doc.topics {
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(term_query(f.topics, t), 3.0)),
            ));
        }
        for c in &doc.countries {
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(term_query(f.countries, c), 1.5)),
            ));
        }
        if let Some(e) = &doc.event {
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(term_query(f.event, e), 3.0)),
            ));
        }
        // Not the document itself, nor another version of its story.
        clauses.push((Occur::MustNot, term_query(f.id, &doc.id)));
        for v in self.versions(&doc.id).0 {
            clauses.push((Occur::MustNot, term_query(f.id, &v.id)));
        }
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(limit).order_by_score(),
        )?;
        Ok(top
            .into_iter()
            .filter_map(|(score, addr)| {
                let d = self.stored(&searcher, addr)?;
                let (snippet, page) = self.snippet(&d, &Marks::new());
                Some(to_hit(d, score, snippet, page))
            })
            .collect())
    }

    /// A document's most telling terms, as tantivy's MoreLikeThis chooses
    /// them: each term of its texts (analysed as they were indexed) scored
    /// by its frequency in them times its rarity in the index (BM25's
    /// idf), the best
    /// [`RELATED_TERMS`], each boosted by its score over the best one's.
    /// Ties go to the field and the term, so that every process asks the
    /// same question.
    fn telling_terms(
        &self,
        searcher: &tantivy::Searcher,
        analyzer: AnalyzerName,
        texts: &[(Field, &str)],
    ) -> Result<Vec<(Term, f32)>, SearchError> {
        let mut frequencies: BTreeMap<Term, u32> = BTreeMap::new();
        for (field, text) in texts {
            for t in crate::index::build::analyse(&self.engine, analyzer, text) {
                *frequencies
                    .entry(Term::from_field_text(*field, &t.text))
                    .or_default() += 1;
            }
        }
        // Deleted documents too, as the document frequencies count them.
        let documents: u64 = searcher
            .segment_readers()
            .iter()
            .map(|r| u64::from(r.max_doc()))
            .sum();
        let mut scored = Vec::with_capacity(frequencies.len());
        for (term, tf) in frequencies {
            let df = searcher.doc_freq(&term)?;
            if df == 0 || df > documents {
                continue;
            }
            let (n, df) = (documents as f32, df as f32);
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            scored.push((term, tf as f32 * idf));
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        scored.truncate(RELATED_TERMS);
        let best = scored.first().map_or(1.0, |t| t.1);
        Ok(scored.into_iter().map(|(t, s)| (t, s / best)).collect())
    }
}

/// At most this many of a document's terms ask for documents like it.
const RELATED_TERMS: usize = 30;
