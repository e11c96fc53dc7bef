//! A stored document by id, and the documents related to it.

use tantivy::Term;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, MoreLikeThisQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, OwnedValue};

use super::request::MAX_LIMIT;
use super::respond::{Hit, Marks, to_hit};
use super::{SearchError, Searcher, term_query};
use crate::document::Document;
use crate::enrich::searchable_text;

impl Searcher {
    /// A whole document, as enriched for the index.
    pub fn document(&self, id: &str) -> Result<Document, SearchError> {
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &TermQuery::new(
                Term::from_field_text(self.fields.id, id),
                IndexRecordOption::Basic,
            ),
            &TopDocs::with_limit(1).order_by_score(),
        )?;
        top.first()
            .and_then(|(_, addr)| self.stored(&searcher, *addr))
            .ok_or_else(|| SearchError::NotFound(id.to_string()))
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
        let view = match doc.lang.as_ref().map(|l| l.as_str()) {
            Some("ko") => f.ko,
            Some("es") => f.es,
            Some("en") => f.en,
            _ => f.other,
        };
        // The fields read terms analysed beforehand ([`super::terms`]), so
        // the document's text goes to them analysed, as it was indexed.
        let body: String = searchable_text(&doc).chars().take(20_000).collect();
        let encoded = |text: &str| {
            let terms = crate::index::build::analyse(&self.engine, view.analyzer, text);
            OwnedValue::Str(crate::index::terms::encode(
                terms.iter().map(crate::index::terms::pair),
            ))
        };
        let mlt = MoreLikeThisQuery::builder()
            .with_min_doc_frequency(1)
            .with_max_doc_frequency(u64::MAX)
            .with_min_term_frequency(1)
            .with_max_query_terms(30)
            .with_document_fields(vec![
                (view.title, vec![encoded(&doc.title)]),
                (view.body, vec![encoded(&body)]),
            ]);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, Box::new(mlt))];
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
        clauses.push((Occur::MustNot, term_query(f.id, &doc.id)));
        let searcher = self.reader.searcher();
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
}
