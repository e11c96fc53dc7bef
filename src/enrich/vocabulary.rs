//! The gazetteer (countries) and the taxonomy (topics): entries with a key
//! (ISO 3166-1 alpha-2 code, topic slug), a label in each interface language
//! and names in Korean, Spanish and English. Built-in data comes from
//! `data/countries.toml` and `data/topics.toml`; a corpus may extend them
//! with files of the same name and format (new entries, more names, other
//! labels), which take effect on the next reindex (and at once for queries).

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::matcher::{Found, PhraseMatcher};
use crate::analysis::{AnalyzerName, Analyzers, Mode};

const COUNTRIES_TOML: &str = include_str!("../../data/countries.toml");
const TOPICS_TOML: &str = include_str!("../../data/topics.toml");

/// An interface language for labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UiLang {
    #[default]
    En,
    Es,
    Ko,
}

impl UiLang {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Self::En),
            "es" => Some(Self::Es),
            "ko" => Some(Self::Ko),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
            Self::Ko => "ko",
        }
    }
    fn index(self) -> usize {
        match self {
            Self::En => 0,
            Self::Es => 1,
            Self::Ko => 2,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VocabularyError {
    #[error("{file}: {reason}")]
    Invalid { file: String, reason: String },
}

/// One country or topic.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    /// Labels in English, Spanish, Korean.
    labels: [String; 3],
    /// Names (or synonyms) by the analyzer of their language.
    pub names: Vec<(AnalyzerName, String)>,
    /// Names that are also common words or other places: understood in
    /// queries, but not enough to tag a document.
    pub ambiguous: Vec<String>,
}

impl Entry {
    pub fn label(&self, ui: UiLang) -> &str {
        &self.labels[ui.index()]
    }
}

/// Countries or topics, with a matcher over their names.
pub struct Vocabulary {
    entries: Vec<Entry>,
    by_key: HashMap<String, usize>,
    /// Every name (queries).
    matcher: PhraseMatcher,
    /// Unambiguous names only (documents).
    strict: PhraseMatcher,
    /// A hash of the data, recorded in the index (a change needs a reindex).
    fingerprint: String,
}

/// Which vocabulary a TOML file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Countries,
    Topics,
}

const LANGS: [(&str, AnalyzerName); 3] = [
    ("en", AnalyzerName::English),
    ("es", AnalyzerName::Spanish),
    ("ko", AnalyzerName::Korean),
];

impl Vocabulary {
    /// The country gazetteer: built-in data, extended by `<corpus>/countries.toml`.
    pub fn countries(
        analyzers: &Analyzers,
        corpus: Option<&Path>,
    ) -> Result<Self, VocabularyError> {
        Self::load(
            analyzers,
            Kind::Countries,
            COUNTRIES_TOML,
            corpus.map(|c| c.join("countries.toml")),
        )
    }

    /// The topic taxonomy: built-in data, extended by `<corpus>/topics.toml`.
    pub fn topics(analyzers: &Analyzers, corpus: Option<&Path>) -> Result<Self, VocabularyError> {
        Self::load(
            analyzers,
            Kind::Topics,
            TOPICS_TOML,
            corpus.map(|c| c.join("topics.toml")),
        )
    }

    fn load(
        analyzers: &Analyzers,
        kind: Kind,
        builtin: &str,
        extra: Option<std::path::PathBuf>,
    ) -> Result<Self, VocabularyError> {
        let mut v = Self {
            entries: Vec::new(),
            by_key: HashMap::new(),
            matcher: PhraseMatcher::default(),
            strict: PhraseMatcher::default(),
            fingerprint: String::new(),
        };
        let mut hash = Sha256::new();
        hash.update(builtin.as_bytes());
        v.merge(kind, builtin, "built-in data")?;
        if let Some(path) = extra
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            hash.update(text.as_bytes());
            v.merge(kind, &text, &path.display().to_string())?;
        }
        v.fingerprint = hex::encode(&hash.finalize()[..8]);
        let terms = |analyzer: AnalyzerName, name: &str| -> Vec<String> {
            analyzers
                .get(analyzer)
                .map(|a| {
                    a.analyze(name, Mode::Query)
                        .into_iter()
                        .map(|t| t.text)
                        .collect()
                })
                .unwrap_or_default()
        };
        for (key, entry) in v.entries.iter().enumerate() {
            // A name is ambiguous when it is listed so, or when it analyses
            // to what an ambiguous name does ("Americans" and "American"
            // both become `american`).
            let ambiguous: Vec<(AnalyzerName, Vec<String>)> = entry
                .names
                .iter()
                .filter(|(_, n)| entry.ambiguous.contains(n))
                .map(|(a, n)| (*a, terms(*a, n)))
                .collect();
            for (analyzer, name) in &entry.names {
                if !v.matcher.add(analyzers, *analyzer, name, key) {
                    tracing::debug!(key = %entry.key, name, "a name analyses to nothing; not matched");
                }
                let phrase = (*analyzer, terms(*analyzer, name));
                if !entry.ambiguous.contains(name) && !ambiguous.contains(&phrase) {
                    v.strict.add(analyzers, *analyzer, name, key);
                }
            }
        }
        Ok(v)
    }

    fn merge(&mut self, kind: Kind, text: &str, file: &str) -> Result<(), VocabularyError> {
        let invalid = |reason: String| VocabularyError::Invalid {
            file: file.to_string(),
            reason,
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        for (key, value) in table {
            let t = value
                .as_table()
                .ok_or_else(|| invalid(format!("[{key}] is not a table")))?;
            if kind == Kind::Countries
                && (key.len() != 2 || !key.bytes().all(|b| b.is_ascii_uppercase()))
            {
                return Err(invalid(format!(
                    "`{key}` is not an ISO 3166-1 alpha-2 code"
                )));
            }
            let mut names = Vec::new();
            let mut labels: [Option<String>; 3] = [None, None, None];
            for (i, (lang, analyzer)) in LANGS.iter().enumerate() {
                let list: Vec<String> = match t.get(*lang) {
                    Some(v) => v
                        .as_array()
                        .ok_or_else(|| invalid(format!("[{key}] {lang} is not a list")))?
                        .iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect(),
                    None => Vec::new(),
                };
                let label = match kind {
                    Kind::Countries => list.first().cloned(),
                    Kind::Topics => t
                        .get("label")
                        .and_then(|l| l.get(*lang))
                        .and_then(|l| l.as_str())
                        .map(str::to_string),
                };
                if let Some(l) = &label {
                    names.push((*analyzer, l.clone()));
                }
                labels[i] = label;
                names.extend(list.into_iter().map(|n| (*analyzer, n)));
            }
            let ambiguous: Vec<String> = t
                .get("ambiguous")
                .and_then(|a| a.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            self.add(key, labels, names, ambiguous);
        }
        Ok(())
    }

    /// An entry's labels, names and ambiguous names: a new entry (a
    /// label missing in a language falls back to another's, else the
    /// key), or added to the one of that key (labels given replace).
    fn add(
        &mut self,
        key: String,
        labels: [Option<String>; 3],
        names: Vec<(AnalyzerName, String)>,
        ambiguous: Vec<String>,
    ) {
        match self.by_key.get(&key) {
            Some(&i) => {
                let e = &mut self.entries[i];
                for (slot, l) in e.labels.iter_mut().zip(labels) {
                    if let Some(l) = l {
                        *slot = l;
                    }
                }
                e.names.extend(names);
                e.ambiguous.extend(ambiguous);
            }
            None => {
                let fallback = labels
                    .iter()
                    .flatten()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| key.clone());
                let labels = labels.map(|l| l.unwrap_or_else(|| fallback.clone()));
                self.by_key.insert(key.clone(), self.entries.len());
                self.entries.push(Entry {
                    key,
                    labels,
                    names,
                    ambiguous,
                });
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.by_key.get(key).map(|&i| &self.entries[i])
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The label of a key in an interface language (the key itself if unknown).
    pub fn label<'a>(&'a self, key: &'a str, ui: UiLang) -> &'a str {
        self.get(key).map(|e| e.label(ui)).unwrap_or(key)
    }

    /// Occurrences of known names in a document's text, with the entry's
    /// key; ambiguous names do not count.
    pub fn find<'a>(&'a self, analyzers: &Analyzers, text: &str) -> Vec<(&'a str, Found)> {
        self.strict
            .find(analyzers, text)
            .into_iter()
            .map(|f| (self.entries[f.key].key.as_str(), f))
            .collect()
    }

    /// [`Vocabulary::find`] on a text analysed once by [`super::matcher::analyse`].
    pub fn find_analysed(&self, analysed: &[super::matcher::Analysed<'_>]) -> Vec<(&str, Found)> {
        self.strict
            .find_analysed(analysed)
            .into_iter()
            .map(|f| (self.entries[f.key].key.as_str(), f))
            .collect()
    }

    /// Occurrences of any name, ambiguous ones included (for queries: who
    /// types "Jordan" into this search means the country), in a query
    /// analysed by [`super::matcher::analyse`].
    pub fn find_in_query(&self, analysed: &[super::matcher::Analysed<'_>]) -> Vec<(&str, Found)> {
        self.matcher
            .find_analysed(analysed)
            .into_iter()
            .map(|f| (self.entries[f.key].key.as_str(), f))
            .collect()
    }

    /// The analysed phrases of an entry in every language (query expansion).
    pub fn phrases(&self, key: &str) -> &[(AnalyzerName, Vec<String>)] {
        match self.by_key.get(key) {
            Some(&i) => self.matcher.phrases(i),
            None => &[],
        }
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}
