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

use tantivy::fieldnorm::FieldNormReader;
use tantivy::query::{Bm25StatisticsProvider, EnableScoring, Query, Weight};
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

use crate::ranking::Bm25Params;

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

    /// The BM25 weight of `term` over the documents `scoped` scores it
    /// over, with `params`, times `boost`.
    pub fn bm25(
        &self,
        searcher: &Searcher,
        term: &Term,
        hangul: bool,
        params: Bm25Params,
        boost: f32,
    ) -> tantivy::Result<Bm25> {
        let scope = self.scope(term.field(), hangul);
        let provider: &dyn Bm25StatisticsProvider = match &scope {
            Some(scope) => &Stats {
                searcher,
                scope: *scope,
            },
            None => searcher,
        };
        Bm25::for_term(provider, term, params, boost)
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

/// A term's BM25 weight, computed as tantivy computes it but with
/// parameters of our choosing (tantivy's are fixed at k1 1.2, b 0.75).
#[derive(Clone)]
pub struct Bm25 {
    /// idf × (k1 + 1) × boost.
    weight: f32,
    /// k1 × (1 - b + b × length / average length), for every encoded
    /// field length.
    norms: Box<[f32; 256]>,
}

impl Bm25 {
    /// `term`'s weight under `stats`.
    pub fn for_term(
        stats: &dyn Bm25StatisticsProvider,
        term: &Term,
        params: Bm25Params,
        boost: f32,
    ) -> tantivy::Result<Self> {
        let docs = stats.total_num_docs()?;
        let average = stats.total_num_tokens(term.field())? as f32 / docs as f32;
        Ok(Self::new(
            stats.doc_freq(term)?,
            docs,
            average,
            params,
            boost,
        ))
    }

    /// The weight of a term found in `doc_freq` of `docs` documents whose
    /// field has `average` tokens.
    pub fn new(doc_freq: u64, docs: u64, average: f32, params: Bm25Params, boost: f32) -> Self {
        let doc_freq = doc_freq.min(docs);
        let x = ((docs - doc_freq) as f32 + 0.5) / (doc_freq as f32 + 0.5);
        let idf = (1.0 + x).ln();
        let Bm25Params { k1, b } = params;
        let mut norms = Box::new([0.0f32; 256]);
        for (id, norm) in norms.iter_mut().enumerate() {
            let length = FieldNormReader::id_to_fieldnorm(id as u8) as f32;
            *norm = k1 * (1.0 - b + b * length / average);
        }
        Self {
            weight: idf * (1.0 + k1) * boost,
            norms,
        }
    }

    /// The score of a document whose field's encoded length is
    /// `fieldnorm_id` and that holds the term `tf` times.
    #[inline]
    pub fn score(&self, fieldnorm_id: u8, tf: u32) -> f32 {
        let tf = tf as f32;
        self.weight * (tf / (tf + self.norms[usize::from(fieldnorm_id)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::query::Bm25Weight;
    use tantivy::schema::{Schema, TEXT};

    #[test]
    fn with_tantivys_parameters_it_scores_as_tantivy() {
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT);
        let index = tantivy::Index::create_in_ram(schema.build());
        let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
        for text in [
            "alpha beta",
            "alpha alpha gamma delta epsilon",
            "beta",
            "alpha",
        ] {
            writer.add_document(tantivy::doc!(body => text)).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let term = Term::from_field_text(body, "alpha");
        let ours = Bm25::for_term(&searcher, &term, Bm25Params::default(), 0.3).unwrap();
        let theirs = Bm25Weight::for_terms(&searcher, std::slice::from_ref(&term))
            .unwrap()
            .boost_by(0.3);
        for id in 0..=255u8 {
            for tf in [1, 2, 7] {
                assert_eq!(ours.score(id, tf), theirs.score(id, tf), "{id} {tf}");
            }
        }
        // Other parameters: a longer document loses less with a smaller b,
        // and repetitions count more with a larger k1.
        let short_b =
            Bm25::for_term(&searcher, &term, Bm25Params { k1: 1.2, b: 0.2 }, 1.0).unwrap();
        let default = Bm25::for_term(&searcher, &term, Bm25Params::default(), 1.0).unwrap();
        assert!(short_b.score(40, 1) > default.score(40, 1));
        let high_k1 =
            Bm25::for_term(&searcher, &term, Bm25Params { k1: 3.0, b: 0.75 }, 1.0).unwrap();
        assert!(
            high_k1.score(5, 4) / high_k1.score(5, 1) > default.score(5, 4) / default.score(5, 1)
        );
    }
}
