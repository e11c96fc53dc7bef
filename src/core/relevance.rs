//! Relevance you can count: when a document is a result of a search, and
//! how a hit says why it is one.
//!
//! A document is counted (in `total`, the facet counts, the charts and the
//! pages) only on evidence:
//! - **by words**, when it has at least [`Ranking::min_coverage`] of the
//!   query's rarer words, each weighed by its idf ([`Words`]). A word is
//!   a clause; a country or topic the query names is one clause, which a
//!   document tagged with it has (whatever its language); stop words and
//!   words in more than a quarter of the documents are no clauses. A query
//!   with no clause left (only common words) counts whatever its words
//!   match.
//! - **by meaning**, when its best passage's similarity to the query
//!   reaches the model's calibrated bar for the query's language and the
//!   document's ([`Calibration`]), among the documents nearest the query.
//!
//! Either suffices. Quoted phrases, exclusions and filters hold on top;
//! browsing (no words) counts every document that passes the filters.
//!
//! [`Ranking::min_coverage`]: crate::ranking::Ranking::min_coverage

use serde::{Deserialize, Serialize};

use crate::analysis::{AnalyzerName, Analyzers, Mode};
use crate::enrich::Enricher;

/// How a hit matched the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MatchedBy {
    /// It has enough of the query's words.
    Words,
    /// It is tagged with the countries or topics the query names (in any
    /// language), and has none of its other words.
    Concept,
    /// Its best passage means what the query asks.
    Meaning,
    /// Words (or concepts) and meaning.
    Both,
}

/// How strongly a hit matched, as a band a person reads (not a raw score).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// Counted: enough of the words, or a passage near enough.
    Fair,
    /// Every rarer word of the query, or a passage as near as most
    /// passages that answer a question are.
    Strong,
}

/// Why a hit is a result: how it matched, which of the query's words and
/// concepts it has, and how strongly.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Matched {
    pub by: MatchedBy,
    pub strength: Strength,
    /// The query's words it has (as the query writes them).
    pub words: Vec<String>,
    /// The countries and topics the query names that it is tagged with.
    pub concepts: Vec<String>,
}

/// One clause of the words rule: a query word, or a country or topic the
/// query names, with its weight (idf).
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// The word as the query writes it, or the concept's key.
    pub label: String,
    pub concept: bool,
    pub weight: f32,
}

/// The words rule of one query: its clauses and the share of their
/// weight a document must have.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Words {
    pub clauses: Vec<Clause>,
    pub min_share: f32,
}

/// A clause's weight: BM25's idf of a word in `df` of `docs` documents.
/// A word no document has weighs as one that a single document has: the
/// query asks for something the knowledge base lacks.
pub fn idf(df: u64, docs: u64) -> f32 {
    let df = df.max(1) as f32;
    let docs = docs.max(1) as f32;
    (1.0 + (docs - df + 0.5).max(0.0) / (df + 0.5)).ln()
}

/// Whether a word in `df` of `docs` documents is too common to be
/// evidence (more than a quarter of them, and more than ten).
pub fn too_common(df: u64, docs: u64) -> bool {
    df > (docs / 4).max(10)
}

impl Words {
    /// Whether the rule asks anything (a query of common words only, or
    /// of no words, asks nothing: what its words match counts).
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The share of the clauses' weight that a document with the clauses
    /// `has` says it has; 1 without clauses.
    pub fn share(&self, has: impl Fn(usize) -> bool) -> f32 {
        let total: f32 = self.clauses.iter().map(|c| c.weight).sum();
        if total <= 0.0 {
            return 1.0;
        }
        let found: f32 = self
            .clauses
            .iter()
            .enumerate()
            .filter(|(i, _)| has(*i))
            .map(|(_, c)| c.weight)
            .sum();
        found / total
    }

    /// Whether a document with `share` of the weight counts by words.
    pub fn counts(&self, share: f32) -> bool {
        // A rounding error must not drop a document with every clause.
        share + 1e-6 >= self.min_share
    }
}

/// The similarity a document's best passage needs to count by meaning,
/// and the one from which it matches strongly, for one pair of a query's
/// language and a document's.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Bar {
    /// The query's language (`ko`, `es`, `en`), or `*` for any.
    pub query: String,
    /// The document's language, or `*` for any.
    pub document: String,
    /// A document counts from this similarity...
    pub counts: f32,
    /// ...and matches strongly from this one.
    pub strong: f32,
}

/// The bars of one embedding model, measured on development sets of
/// related and unrelated question-passage pairs (`eval/calibrate.py`).
/// A calibration belongs to the model it was measured with and to no
/// other: similarities of two models are not comparable.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Calibration {
    /// The model's name, as its vectors are known by.
    pub model: String,
    /// How and on what the bars were measured.
    pub measured: String,
    #[serde(rename = "bar")]
    pub bars: Vec<Bar>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CalibrationError {
    #[error("the calibration {0} is not valid: {1}")]
    Invalid(String, String),
    #[error(
        "the calibration {path} was measured with the model `{found}`, not with `{wanted}`, \
         which searches by meaning here: measure one for it (eval/calibrate.py)"
    )]
    OtherModel {
        path: String,
        found: String,
        wanted: String,
    },
}

/// The calibration shipped for the model `model install` installs.
pub const SHIPPED: &str = include_str!("calibration.toml");

impl Calibration {
    /// Read a calibration (`origin` names it in errors) and check that it
    /// belongs to `model`.
    pub fn parse(text: &str, origin: &str, model: &str) -> Result<Self, CalibrationError> {
        let c: Calibration = toml::from_str(text)
            .map_err(|e| CalibrationError::Invalid(origin.to_string(), e.message().to_string()))?;
        if c.model != model {
            return Err(CalibrationError::OtherModel {
                path: origin.to_string(),
                found: c.model,
                wanted: model.to_string(),
            });
        }
        let any = c.bars.iter().any(|b| b.query == "*" && b.document == "*");
        if !any {
            return Err(CalibrationError::Invalid(
                origin.to_string(),
                "it needs a bar for any languages (query = \"*\", document = \"*\")".into(),
            ));
        }
        let sound = |b: &Bar| {
            b.strong.is_finite() && (-1.0..=1.0).contains(&b.counts) && b.counts <= b.strong
        };
        if let Some(b) = c.bars.iter().find(|b| !sound(b)) {
            return Err(CalibrationError::Invalid(
                origin.to_string(),
                format!(
                    "the bar for {} → {} is not two similarities with counts ≤ strong",
                    b.query, b.document
                ),
            ));
        }
        Ok(c)
    }

    /// The bar for a query in `query` (when told) and a document in
    /// `document`: the pair's own, else the query language's, else the
    /// document language's, else any.
    pub fn bar(&self, query: Option<&str>, document: Option<&str>) -> &Bar {
        let q = query.unwrap_or("*");
        let d = document.unwrap_or("*");
        let find = |q: &str, d: &str| self.bars.iter().find(|b| b.query == q && b.document == d);
        find(q, d)
            .or_else(|| find(q, "*"))
            .or_else(|| find("*", d))
            .or_else(|| find("*", "*"))
            .unwrap_or(&self.bars[0])
    }
}

/// What a search knows of one hit, to say why it is a result.
pub struct Evidence<'a> {
    /// The words rule's share the hit has, when the words found it.
    pub words_share: Option<f32>,
    /// Which clauses it has.
    pub has: &'a dyn Fn(usize) -> bool,
    /// Its best passage's similarity, and the bar for its languages, when
    /// it counts by meaning.
    pub meaning: Option<(f32, &'a Bar)>,
}

/// Why a counted hit is there.
pub fn why(words: &Words, e: &Evidence<'_>) -> Matched {
    let mut found_words = Vec::new();
    let mut concepts = Vec::new();
    for (i, c) in words.clauses.iter().enumerate() {
        if (e.has)(i) {
            match c.concept {
                true => concepts.push(c.label.clone()),
                false => found_words.push(c.label.clone()),
            }
        }
    }
    let by_words = e.words_share.is_some();
    let by_meaning = e.meaning.is_some();
    let by = match (by_words, by_meaning) {
        (true, true) => MatchedBy::Both,
        (false, true) => MatchedBy::Meaning,
        _ if found_words.is_empty() && !concepts.is_empty() => MatchedBy::Concept,
        _ => MatchedBy::Words,
    };
    let words_strong = e
        .words_share
        .is_some_and(|s| !words.is_empty() && s >= 0.999);
    let meaning_strong = e.meaning.is_some_and(|(s, bar)| s >= bar.strong);
    let strength = if words_strong || meaning_strong {
        Strength::Strong
    } else {
        Strength::Fair
    };
    Matched {
        by,
        strength,
        words: found_words,
        concepts,
    }
}

/// A clause of the words rule as the query writes it, before an engine
/// turns it into its terms or queries.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryClause {
    /// The word as the query writes it, a Korean morpheme, or the
    /// concept's key.
    pub label: String,
    /// A country or topic the query names: had by the tag...
    pub concept: Option<Concept>,
    /// ...or by any of these words (analysed by each language's view);
    /// for a Korean morpheme, the morpheme (the Korean view's term).
    pub words: Vec<String>,
    pub morpheme: bool,
}

/// A country or a topic, by its key.
#[derive(Debug, Clone, PartialEq)]
pub enum Concept {
    Country(String),
    Topic(String),
}

/// The clauses of the words rule of `text` (a query's words and phrases,
/// corrected) in `lang` (when told): each country or topic named is one
/// clause; each other Latin-script word one; each Korean morpheme one.
/// Stop words of the query's language (of Spanish or English when it is
/// not told) are none. Each clause once.
pub fn query_clauses(
    analyzers: &Analyzers,
    enricher: &Enricher,
    text: &str,
    lang: Option<&str>,
) -> Vec<QueryClause> {
    let mut out: Vec<QueryClause> = Vec::new();
    let mut push = |c: QueryClause| {
        if !c.words.is_empty() && !out.iter().any(|o| o.label == c.label) {
            out.push(c);
        }
    };
    let analysed = crate::enrich::matcher::analyse(analyzers, text);
    let mut named: Vec<(usize, usize)> = Vec::new();
    for (vocabulary, is_country) in [(&enricher.countries, true), (&enricher.topics, false)] {
        for (key, found) in vocabulary.find_in_query(&analysed) {
            named.push((found.start, found.end));
            let concept = match is_country {
                true => Concept::Country(key.to_string()),
                false => Concept::Topic(key.to_string()),
            };
            let words = words_of(&text[found.start..found.end])
                .map(|(_, w)| w.to_string())
                .collect();
            push(QueryClause {
                label: key.to_string(),
                concept: Some(concept),
                words,
                morpheme: false,
            });
        }
    }
    let analyzer = |name: AnalyzerName| analyzers.get(name).ok();
    let dropped = |name: AnalyzerName, word: &str| {
        analyzer(name).is_some_and(|a| a.analyze(word, Mode::Query).is_empty())
    };
    let stop = |word: &str| match lang {
        Some("es") => dropped(AnalyzerName::Spanish, word),
        Some("en") => dropped(AnalyzerName::English, word),
        _ => dropped(AnalyzerName::Spanish, word) || dropped(AnalyzerName::English, word),
    };
    for (start, word) in words_of(text) {
        let end = start + word.len();
        if named.iter().any(|&(a, b)| a < end && start < b) {
            continue;
        }
        if word.chars().any(crate::analysis::korean::is_hangul) {
            let Some(korean) = analyzer(AnalyzerName::Korean) else {
                continue;
            };
            for t in korean.analyze(word, Mode::Query) {
                push(QueryClause {
                    label: t.text.clone(),
                    concept: None,
                    words: vec![t.text],
                    morpheme: true,
                });
            }
        } else if !stop(word) {
            push(QueryClause {
                label: word.to_string(),
                concept: None,
                words: vec![word.to_string()],
                morpheme: false,
            });
        }
    }
    out
}

/// The words of `text` (split at spaces, punctuation around them
/// trimmed), each with its byte offset.
pub fn words_of(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_whitespace().filter_map(move |w| {
        let trimmed = w.trim_matches(|c: char| !c.is_alphanumeric());
        if trimmed.is_empty() {
            return None;
        }
        let start = trimmed.as_ptr() as usize - text.as_ptr() as usize;
        Some((start, trimmed))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(label: &str, concept: bool, weight: f32) -> Clause {
        Clause {
            label: label.into(),
            concept,
            weight,
        }
    }

    #[test]
    fn words_keep_their_offsets_without_punctuation() {
        let text = "¿Cómo se inscribe, 주민등록을 \"Paraguay\"?";
        let words: Vec<(usize, &str)> = words_of(text).collect();
        assert_eq!(words.len(), 5);
        for (start, w) in &words {
            assert_eq!(&text[*start..*start + w.len()], *w);
        }
        assert_eq!(words[0].1, "Cómo");
        assert_eq!(words[4].1, "Paraguay");
    }

    #[test]
    fn idf_weighs_rare_words_more_and_absent_ones_as_the_rarest() {
        assert!(idf(1, 1000) > idf(10, 1000));
        assert_eq!(idf(0, 1000), idf(1, 1000));
        assert!(idf(1000, 1000) >= 0.0);
        assert!(too_common(300, 1000) && !too_common(200, 1000));
        // A small corpus: nothing under eleven documents is too common.
        assert!(!too_common(10, 12));
    }

    #[test]
    fn a_document_counts_with_enough_of_the_weight() {
        let w = Words {
            clauses: vec![clause("resident", false, 1.0), clause("PY", true, 3.0)],
            min_share: 0.5,
        };
        assert_eq!(w.share(|i| i == 1), 0.75);
        assert!(w.counts(w.share(|i| i == 1)));
        assert!(!w.counts(w.share(|i| i == 0)));
        assert!(w.counts(w.share(|_| true)));
        let none = Words::default();
        assert!(none.is_empty() && none.share(|_| false) == 1.0);
    }

    #[test]
    fn why_names_the_way_and_the_band() {
        let w = Words {
            clauses: vec![clause("registro", false, 1.0), clause("PY", true, 1.0)],
            min_share: 0.5,
        };
        let bar = Bar {
            query: "*".into(),
            document: "*".into(),
            counts: 0.8,
            strong: 0.85,
        };
        let only_tag = |i: usize| i == 1;
        let m = why(
            &w,
            &Evidence {
                words_share: Some(0.5),
                has: &only_tag,
                meaning: None,
            },
        );
        assert_eq!(m.by, MatchedBy::Concept);
        assert_eq!(m.concepts, ["PY"]);
        assert_eq!(m.strength, Strength::Fair);
        let both = |_: usize| true;
        let m = why(
            &w,
            &Evidence {
                words_share: Some(1.0),
                has: &both,
                meaning: Some((0.81, &bar)),
            },
        );
        assert_eq!((m.by, m.strength), (MatchedBy::Both, Strength::Strong));
        assert_eq!(m.words, ["registro"]);
        let nothing = |_: usize| false;
        let m = why(
            &w,
            &Evidence {
                words_share: None,
                has: &nothing,
                meaning: Some((0.9, &bar)),
            },
        );
        assert_eq!((m.by, m.strength), (MatchedBy::Meaning, Strength::Strong));
    }

    #[test]
    fn a_calibration_belongs_to_its_model() {
        let text = r#"
model = "m1"
measured = "test"
[[bar]]
query = "*"
document = "*"
counts = 0.8
strong = 0.85
[[bar]]
query = "ko"
document = "en"
counts = 0.75
strong = 0.8
"#;
        let c = Calibration::parse(text, "test.toml", "m1").unwrap();
        assert_eq!(c.bar(Some("ko"), Some("en")).counts, 0.75);
        assert_eq!(c.bar(Some("ko"), Some("es")).counts, 0.8);
        assert_eq!(c.bar(None, None).counts, 0.8);
        let other = Calibration::parse(text, "test.toml", "m2").unwrap_err();
        assert!(matches!(other, CalibrationError::OtherModel { .. }));
        assert!(other.to_string().contains("m1") && other.to_string().contains("m2"));
        let no_default = text.replace("query = \"*\"", "query = \"es\"");
        assert!(Calibration::parse(&no_default, "t", "m1").is_err());
        let inverted = text.replace("strong = 0.85", "strong = 0.5");
        assert!(Calibration::parse(&inverted, "t", "m1").is_err());
        assert!(Calibration::parse("model = ", "t", "m1").is_err());
    }
}
