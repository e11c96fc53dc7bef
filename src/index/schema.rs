//! The tantivy schema: per-language text fields (title boosted over body),
//! an all-languages view, normalised facet fields and the stored enriched
//! document.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use super::terms;
use crate::analysis::AnalyzerName;

/// Bump when the schema changes: an index built with another one is
/// rebuilt by `serve` and refused by the other commands, which say to run
/// `egovkb reindex` (2: text fields index terms analysed before tantivy;
/// 3: each document's signature for finding its versions).
pub const SCHEMA_VERSION: u32 = 3;

/// The text views of a document: which analyzer, and its two fields.
#[derive(Debug, Clone, Copy)]
pub struct TextView {
    pub analyzer: AnalyzerName,
    pub title: Field,
    pub body: Field,
}

/// Every field, resolved once.
#[derive(Debug, Clone)]
pub struct Fields {
    pub id: Field,
    pub hash: Field,
    pub doc: Field,
    pub ko: TextView,
    pub es: TextView,
    pub en: TextView,
    pub other: TextView,
    /// Every document in every language, folded words and Hangul bigrams:
    /// one set of statistics over the whole corpus, for languages with few
    /// documents whose own fields say little.
    pub all: TextView,
    pub countries: Field,
    pub topics: Field,
    pub doc_type: Field,
    pub lang: Field,
    pub event: Field,
    pub source: Field,
    pub parent: Field,
    pub year: Field,
    /// YYYYMMDD, for sorting by date.
    pub day: Field,
    /// The MinHash signature that finds other versions of the document
    /// (`versions.rs`); none for a short one.
    pub versions: Field,
}

fn text(tokenizer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

/// Build the schema.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING | STORED | FAST);
    let hash = b.add_text_field("hash", STRING | FAST);
    let doc = b.add_text_field("doc", STORED);
    // Every text field indexes terms analysed before they reach tantivy.
    let mut view = |name: &'static str, analyzer| TextView {
        analyzer,
        title: b.add_text_field(&format!("title_{name}"), text(terms::TOKENIZER)),
        body: b.add_text_field(&format!("body_{name}"), text(terms::TOKENIZER)),
    };
    let ko = view("ko", AnalyzerName::Korean);
    let es = view("es", AnalyzerName::Spanish);
    let en = view("en", AnalyzerName::English);
    let other = view("other", AnalyzerName::Other);
    let all = view("all", AnalyzerName::Other);
    let facet = STRING | FAST;
    let fields = Fields {
        id,
        hash,
        doc,
        ko,
        es,
        en,
        other,
        all,
        countries: b.add_text_field("countries", facet.clone()),
        topics: b.add_text_field("topics", facet.clone()),
        doc_type: b.add_text_field("doc_type", facet.clone()),
        lang: b.add_text_field("lang", facet.clone()),
        event: b.add_text_field("event", facet.clone()),
        source: b.add_text_field("source", facet.clone()),
        parent: b.add_text_field("parent", STRING),
        year: b.add_u64_field("year", INDEXED | FAST),
        day: b.add_u64_field("day", FAST),
        versions: b.add_bytes_field("versions", FAST),
    };
    (b.build(), fields)
}

impl Fields {
    /// The view a language's analyzer writes: the one mapping from a
    /// language (`AnalyzerName::for_lang`) to its fields.
    pub fn view(&self, analyzer: AnalyzerName) -> TextView {
        match analyzer {
            AnalyzerName::Korean => self.ko,
            AnalyzerName::Spanish => self.es,
            AnalyzerName::English => self.en,
            AnalyzerName::Other => self.other,
        }
    }

    /// Resolve the fields of an opened index's schema.
    pub fn of(schema: &Schema) -> tantivy::Result<Self> {
        let (expected, fields) = build();
        if expected != *schema {
            return Err(tantivy::TantivyError::SchemaError(
                "the index was built with another schema; run `egovkb reindex`".into(),
            ));
        }
        Ok(fields)
    }
}
