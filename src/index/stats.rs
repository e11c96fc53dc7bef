//! BM25 statistics per language. Each language has fields of its own, and
//! only that language's documents have text in them; tantivy's statistics
//! count every document of the index, so in a corpus a third Korean the
//! Korean fields' average length comes out a third of the truth (every
//! Korean document looks three times longer than average) and their idf is
//! computed over documents that cannot contain the term. A term of a
//! language field is scored here over the documents that have that field:
//! BM25 over the language's own documents. The same holds for the Hangul
//! bigrams of the all-languages view, scored over the Korean documents
//! (whose length there counts bigrams, not words).

use std::collections::HashMap;

use tantivy::query::{Bm25StatisticsProvider, Bm25Weight, EnableScoring, Query, Weight};
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

/// The documents a term is scored over: how many, and how many tokens they
/// have in the term's field (`None`: the whole field's).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scope {
    docs: u64,
    tokens: Option<u64>,
}

/// The scopes of the language fields and of the Hangul terms of the
/// all-languages view.
#[derive(Debug, Default)]
pub struct LanguageStats {
    fields: HashMap<Field, Scope>,
    /// The all-languages body field and its scope for Hangul terms.
    hangul: Option<(Field, Scope)>,
}

impl LanguageStats {
    /// Count, over every segment (deleted documents included, as tantivy
    /// counts them), the documents with text in each of `fields`; and the
    /// documents with text in `korean` with their length in `all`.
    pub fn count(
        searcher: &Searcher,
        fields: &[Field],
        korean: Field,
        all: Field,
    ) -> tantivy::Result<Self> {
        let mut docs: HashMap<Field, u64> = HashMap::new();
        let (mut korean_docs, mut korean_tokens) = (0u64, 0u64);
        for reader in searcher.segment_readers() {
            let norms = reader.fieldnorms_readers();
            for &field in fields {
                if let Some(norms) = norms.get_field(field)? {
                    let n = (0..reader.max_doc())
                        .filter(|&d| norms.fieldnorm_id(d) > 0)
                        .count() as u64;
                    *docs.entry(field).or_default() += n;
                }
            }
            if let (Some(ko), Some(all)) = (norms.get_field(korean)?, norms.get_field(all)?) {
                for d in (0..reader.max_doc()).filter(|&d| ko.fieldnorm_id(d) > 0) {
                    korean_docs += 1;
                    korean_tokens += u64::from(all.fieldnorm(d));
                }
            }
        }
        let scope = |docs| Scope { docs, tokens: None };
        Ok(Self {
            fields: docs.into_iter().map(|(f, n)| (f, scope(n))).collect(),
            hangul: (korean_docs > 0).then_some((
                all,
                Scope {
                    docs: korean_docs,
                    tokens: Some(korean_tokens),
                },
            )),
        })
    }

    /// `query`, on `field` alone, scored over its language's documents;
    /// `hangul` says that its terms are Hangul.
    pub fn scoped(&self, field: Field, hangul: bool, query: Box<dyn Query>) -> Box<dyn Query> {
        match self.scope(field, hangul) {
            Some(scope) => Box::new(Scoped { query, scope }),
            None => query,
        }
    }

    /// The BM25 weight of `term` as `scoped` scores it, times `boost`.
    pub fn bm25(
        &self,
        searcher: &Searcher,
        term: &Term,
        hangul: bool,
        boost: f32,
    ) -> tantivy::Result<Bm25Weight> {
        let terms = std::slice::from_ref(term);
        let weight = match self.scope(term.field(), hangul) {
            Some(scope) => Bm25Weight::for_terms(&Stats { searcher, scope }, terms)?,
            None => Bm25Weight::for_terms(searcher, terms)?,
        };
        Ok(weight.boost_by(boost))
    }

    /// The scope of `field`'s terms (of Hangul ones if `hangul`), if it is
    /// not the whole index.
    fn scope(&self, field: Field, hangul: bool) -> Option<Scope> {
        let scope = match self.hangul {
            Some((all, scope)) if all == field => hangul.then_some(scope),
            _ => self.fields.get(&field).copied(),
        };
        scope.filter(|s| s.docs > 0)
    }
}

/// A query scored with the statistics of a scope.
#[derive(Debug)]
struct Scoped {
    query: Box<dyn Query>,
    scope: Scope,
}

impl Clone for Scoped {
    fn clone(&self) -> Self {
        Self {
            query: self.query.box_clone(),
            scope: self.scope,
        }
    }
}

struct Stats<'a> {
    searcher: &'a Searcher,
    scope: Scope,
}

impl Bm25StatisticsProvider for Stats<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        match self.scope.tokens {
            Some(tokens) => Ok(tokens),
            None => self.searcher.total_num_tokens(field),
        }
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.scope.docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        // Never more than the documents counted (tantivy asserts it).
        Ok(self.searcher.doc_freq(term)?.min(self.scope.docs))
    }
}

impl Query for Scoped {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        match scoring {
            EnableScoring::Enabled { searcher, .. } => {
                let stats = Stats {
                    searcher,
                    scope: self.scope,
                };
                self.query
                    .weight(EnableScoring::enabled_from_statistics_provider(
                        &stats, searcher,
                    ))
            }
            disabled => self.query.weight(disabled),
        }
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.query.query_terms(visitor);
    }
}
