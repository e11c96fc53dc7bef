//! Enrichment: what a document is about, found in its text before it is
//! indexed. Its language (when the source did not say), its date, the
//! countries it concerns (gazetteer) and its e-government topics (taxonomy).
//! What the source said is kept; enrichment only adds.

pub mod events;
pub mod lang;
pub mod matcher;
pub mod vocabulary;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

pub use vocabulary::{UiLang, Vocabulary, VocabularyError};

use matcher::Analysed;

use crate::analysis::{AnalyzerName, Analyzers, Mode, Term};
use crate::document::{Document, Lang};

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
    /// The labels of the corpus's events (`events.toml`).
    pub events: events::Events,
}

/// The text a document is searched and enriched by: its body, or its pages.
pub fn searchable_text(doc: &Document) -> Cow<'_, str> {
    if doc.body.trim().is_empty() {
        Cow::Owned(doc.pages.join("\n\n"))
    } else {
        Cow::Borrowed(&doc.body)
    }
}

/// The analysis indexing made of a document with one analyzer (index
/// mode), for enrichment to reuse.
pub struct Shared<'a> {
    pub analyzer: AnalyzerName,
    pub title: &'a [Term],
    /// Of [`searchable_text`].
    pub body: &'a [Term],
}

/// A text as the analyzers worth running on it see it, once for both
/// vocabularies. With `shared`, one analyzer's index-mode terms of the text
/// (or of a longer text it begins) are taken instead of analysing again:
/// less the wholes indexed beside their parts, and what lies past `text`.
fn analyse<'t>(
    analyzers: &Analyzers,
    text: &str,
    shared: Option<(AnalyzerName, &'t [Term])>,
) -> Vec<Analysed<'t>> {
    matcher::analyzers_for(text)
        .into_iter()
        .filter_map(|name| match shared {
            Some((shared_name, terms)) if shared_name == name => {
                let read = terms.iter().take_while(|t| t.end <= text.len()).count();
                let borrowable = !terms.iter().any(|t| t.index_only)
                    && terms[read..].iter().all(|t| t.end > text.len());
                let terms = if borrowable {
                    Cow::Borrowed(&terms[..read])
                } else {
                    terms
                        .iter()
                        .filter(|t| !t.index_only && t.end <= text.len())
                        .cloned()
                        .collect()
                };
                Some((name, terms))
            }
            _ => {
                let terms = analyzers.get(name).ok()?.analyze(text, Mode::Query);
                Some((name, Cow::Owned(terms)))
            }
        })
        .collect()
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
            events: corpus.map(events::Events::load).unwrap_or_default(),
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
        self.enrich_with(doc, None)
    }

    /// The language of a document: as its source says, or detected.
    pub fn language(&self, doc: &Document) -> Option<Lang> {
        doc.lang.clone().or_else(|| {
            let text = searchable_text(doc);
            lang::detect(&format!("{}\n{}", doc.title, prefix(&text, 5_000)))
        })
    }

    /// The countries and the topics a query names, in any language, each
    /// once, in the order met.
    pub fn concepts_in_query(&self, text: &str) -> (Vec<String>, Vec<String>) {
        let analysed = matcher::analyse(&self.analyzers, text);
        let mut countries: Vec<String> = Vec::new();
        for (code, _) in self.countries.find_in_query(&analysed) {
            if !countries.iter().any(|c| c == code) {
                countries.push(code.to_string());
            }
        }
        let mut topics: Vec<String> = Vec::new();
        for (slug, _) in self.topics.find_in_query(&analysed) {
            if !topics.iter().any(|t| t == slug) {
                topics.push(slug.to_string());
            }
        }
        (countries, topics)
    }

    /// The countries a file names in its title or text (as enrichment
    /// finds them), in code order.
    pub fn countries_named(&self, title: &str, text: &str) -> Vec<String> {
        let title = analyse(&self.analyzers, title, None);
        let body = analyse(&self.analyzers, prefix(text, MAX_SCAN_CHARS), None);
        let found: BTreeSet<&str> = self
            .countries
            .find_analysed(&title)
            .into_iter()
            .chain(self.countries.find_analysed(&body))
            .map(|(code, _)| code)
            .collect();
        found.into_iter().map(str::to_string).collect()
    }

    /// The same, reusing the analysis indexing made of the title and the
    /// body (or pages) with one analyzer, in index mode.
    pub fn enrich_with(&self, doc: &Document, shared: Option<Shared<'_>>) -> Document {
        let mut d = doc.clone();
        let scanned = searchable_text(doc);
        let text = prefix(&scanned, MAX_SCAN_CHARS);
        d.lang = self.language(doc);
        // A declared date from no plausible year is no date: the text may
        // still give one.
        d.published = doc
            .published
            .filter(|p| crate::dates::plausible(chrono::Datelike::year(p)));
        if d.published.is_none() {
            d.published = crate::dates::find_date(&doc.title)
                .or_else(|| crate::dates::find_date(prefix(text, 2_000)));
        }

        let title = analyse(
            &self.analyzers,
            &doc.title,
            shared.as_ref().map(|s| (s.analyzer, s.title)),
        );
        let body = analyse(
            &self.analyzers,
            text,
            shared.as_ref().map(|s| (s.analyzer, s.body)),
        );

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
