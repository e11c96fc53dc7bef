//! Enrichment: what a document is about, found in its text before it is
//! indexed. Its language (when the source did not say), its date, the
//! countries it concerns (gazetteer) and its e-government topics (taxonomy).
//! What the source said is kept; enrichment only adds.

pub mod dates;
pub mod lang;
pub mod matcher;
pub mod vocabulary;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

pub use vocabulary::{UiLang, Vocabulary, VocabularyError};

use crate::analysis::Analyzers;
use crate::document::Document;

/// How much of a long text enrichment reads (dates come early; countries and
/// topics that matter are named early too).
const MAX_SCAN_CHARS: usize = 50_000;
/// A topic needs its name in the title, or this many mentions in the text.
const TOPIC_BODY_MENTIONS: usize = 2;

/// Gazetteer, taxonomy and the analyzers they match with.
pub struct Enricher {
    pub analyzers: Analyzers,
    pub countries: Vocabulary,
    pub topics: Vocabulary,
}

fn prefix(text: &str, chars: usize) -> &str {
    match text.char_indices().nth(chars) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

impl Enricher {
    /// Built-in gazetteer and taxonomy, extended by the corpus's own files.
    pub fn load(analyzers: Analyzers, corpus: Option<&Path>) -> Result<Self, VocabularyError> {
        Ok(Self {
            countries: Vocabulary::countries(&analyzers, corpus)?,
            topics: Vocabulary::topics(&analyzers, corpus)?,
            analyzers,
        })
    }

    /// A hash of the vocabularies: a change means the index must be rebuilt.
    pub fn fingerprint(&self) -> String {
        format!(
            "{}-{}",
            self.countries.fingerprint(),
            self.topics.fingerprint()
        )
    }

    /// The document with language, date, countries and topics filled in.
    pub fn enrich(&self, doc: &Document) -> Document {
        let mut d = doc.clone();
        let text: String = if !doc.body.trim().is_empty() {
            prefix(&doc.body, MAX_SCAN_CHARS).to_string()
        } else {
            prefix(&doc.pages.join("\n\n"), MAX_SCAN_CHARS).to_string()
        };
        if d.lang.is_none() {
            d.lang = lang::detect(&format!("{}\n{}", doc.title, prefix(&text, 5_000)));
        }
        if d.published.is_none() {
            d.published =
                dates::find_date(&doc.title).or_else(|| dates::find_date(prefix(&text, 2_000)));
        }

        // Analyse title and text once, for both vocabularies.
        let title = matcher::analyse(&self.analyzers, &doc.title);
        let body = matcher::analyse(&self.analyzers, &text);

        let mut countries: BTreeSet<String> = d.countries.iter().cloned().collect();
        for (code, _) in self
            .countries
            .find_analysed(&title)
            .into_iter()
            .chain(self.countries.find_analysed(&body))
        {
            countries.insert(code.to_string());
        }
        d.countries = countries.into_iter().collect();

        let mut topics: BTreeSet<String> = d.topics.iter().cloned().collect();
        for (slug, _) in self.topics.find_analysed(&title) {
            topics.insert(slug.to_string());
        }
        let mut mentions: HashMap<&str, usize> = HashMap::new();
        for (slug, _) in self.topics.find_analysed(&body) {
            *mentions.entry(slug).or_default() += 1;
        }
        for (slug, n) in mentions {
            if n >= TOPIC_BODY_MENTIONS {
                topics.insert(slug.to_string());
            }
        }
        d.topics = topics.into_iter().collect();
        d
    }
}
