//! Text analysis: the analyzers that turn text into index terms, one per
//! language, and their registration with tantivy.
//!
//! - `ko`: lindera with mecab-ko-dic ([`korean`]); particles and endings
//!   dropped by part of speech, compound nouns indexed whole and split.
//! - `es`, `en`: word split, lower case, stop words, Snowball stemming,
//!   accent folding that keeps `ñ` ([`latin`]).
//! - `other`: word split and folding for Latin-script text; character
//!   bigrams for scripts written without spaces ([`latin`]).

pub mod dict;
pub mod korean;
pub mod latin;

use std::sync::Arc;

use tantivy::tokenizer::{Token as TantivyToken, TokenStream, Tokenizer};

/// Bump when the analyzers change in a way that needs a reindex.
pub const ANALYSIS_VERSION: u32 = 3;

/// What terms text becomes depends on this: the analyzers' version, the
/// dictionary, the Korean terms and the stop words. An index records it.
pub fn fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(korean::KO_TERMS_TOML.as_bytes());
    h.update(latin::STOPWORDS_TOML.as_bytes());
    format!(
        "analysis-v{ANALYSIS_VERSION}/{}/{}",
        dict::DICT_NAME,
        hex::encode(&h.finalize()[..6])
    )
}

/// Longest term kept, in bytes: longer "words" are noise (base64, runs of one
/// character) and would bloat the term dictionary.
pub const MAX_TERM_BYTES: usize = 120;

/// One index term, with where it came from in the text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Term {
    pub text: String,
    /// Byte offsets into the analysed text.
    pub start: usize,
    pub end: usize,
    /// Token position (terms at the same position are alternatives).
    pub position: usize,
    /// Given for indexing only (a Korean compound or glued run whole, beside
    /// its parts): the query-mode analysis is the other terms.
    #[serde(skip)]
    pub index_only: bool,
}

/// Whether terms are produced for indexing or for a query. They differ only
/// for Korean compounds: a document gets the compound whole and its parts, a
/// query its parts, so that 전자정부 and 전자 정부 find each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Index,
    Query,
}

/// An analyzer: text in, terms out. Never panics, whatever the text.
pub trait Analyzer: Send + Sync + 'static {
    fn analyze(&self, text: &str, mode: Mode) -> Vec<Term>;
}

/// The analyzers this build knows, by the name they are registered under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnalyzerName {
    Korean,
    Spanish,
    English,
    Other,
}

impl AnalyzerName {
    pub const ALL: [AnalyzerName; 4] = [Self::Korean, Self::Spanish, Self::English, Self::Other];

    /// The tantivy tokenizer name (and `--lang` value).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Korean => "ko",
            Self::Spanish => "es",
            Self::English => "en",
            Self::Other => "other",
        }
    }

    /// The analyzer for an ISO 639-1 language code; unknown codes get `other`.
    pub fn for_lang(code: &str) -> Self {
        match code.to_ascii_lowercase().as_str() {
            "ko" | "kor" => Self::Korean,
            "es" | "spa" => Self::Spanish,
            "en" | "eng" => Self::English,
            _ => Self::Other,
        }
    }
}

/// Guess which analyzer suits a text when nobody said: Hangul means Korean;
/// otherwise Spanish when its function words or letters outnumber English
/// ones. (Enrichment has the real language detector; this is for `analyze`.)
pub fn guess_analyzer(text: &str) -> AnalyzerName {
    let hangul = text.chars().filter(|c| korean::is_hangul(*c)).count();
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if hangul > 0 && hangul * 4 >= letters {
        return AnalyzerName::Korean;
    }
    let (mut es, mut en) = (0usize, 0usize);
    for w in text.split(|c: char| !c.is_alphabetic()) {
        let w = w.to_lowercase();
        if w.contains(['ñ', 'á', 'é', 'í', 'ó', 'ú', '¿', '¡']) {
            es += 1;
        }
        match w.as_str() {
            "de" | "la" | "el" | "los" | "las" | "y" | "en" | "del" | "para" | "por" | "con"
            | "que" | "una" | "un" => es += 1,
            "the" | "of" | "and" | "to" | "in" | "for" | "with" | "is" | "on" | "a" | "an" => {
                en += 1
            }
            _ => {}
        }
    }
    if es > en {
        AnalyzerName::Spanish
    } else {
        AnalyzerName::English
    }
}

/// A tantivy [`Tokenizer`] over one of our analyzers.
#[derive(Clone)]
pub struct TantivyAdapter {
    analyzer: Arc<dyn Analyzer>,
    mode: Mode,
}

impl TantivyAdapter {
    pub fn new(analyzer: Arc<dyn Analyzer>, mode: Mode) -> Self {
        Self { analyzer, mode }
    }
}

/// The terms of one text, handed to tantivy one at a time.
pub struct TermStream {
    terms: std::vec::IntoIter<Term>,
    current: TantivyToken,
}

impl TokenStream for TermStream {
    fn advance(&mut self) -> bool {
        match self.terms.next() {
            Some(t) => {
                self.current = TantivyToken {
                    offset_from: t.start,
                    offset_to: t.end,
                    position: t.position,
                    text: t.text,
                    position_length: 1,
                };
                true
            }
            None => false,
        }
    }
    fn token(&self) -> &TantivyToken {
        &self.current
    }
    fn token_mut(&mut self) -> &mut TantivyToken {
        &mut self.current
    }
}

impl Tokenizer for TantivyAdapter {
    type TokenStream<'a> = TermStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> TermStream {
        TermStream {
            terms: self.analyzer.analyze(text, self.mode).into_iter(),
            current: TantivyToken::default(),
        }
    }
}

/// The set of analyzers, built once (the Korean one loads the dictionary).
#[derive(Clone)]
pub struct Analyzers {
    korean: Option<Arc<korean::KoreanAnalyzer>>,
    spanish: Arc<latin::LatinAnalyzer>,
    english: Arc<latin::LatinAnalyzer>,
    other: Arc<latin::LatinAnalyzer>,
}

impl Analyzers {
    /// Load every analyzer; the Korean dictionary must be installed at `dict_root`.
    pub fn load(dict_root: &std::path::Path) -> Result<Self, dict::DictError> {
        Ok(Self {
            korean: Some(Arc::new(korean::KoreanAnalyzer::load(dict_root)?)),
            ..Self::without_korean()
        })
    }

    /// The analyzers that need no dictionary; asking for Korean is an error.
    pub fn without_korean() -> Self {
        Self {
            korean: None,
            spanish: Arc::new(latin::LatinAnalyzer::spanish()),
            english: Arc::new(latin::LatinAnalyzer::english()),
            other: Arc::new(latin::LatinAnalyzer::other()),
        }
    }

    pub fn korean(&self) -> Result<&Arc<korean::KoreanAnalyzer>, dict::DictError> {
        self.korean.as_ref().ok_or_else(|| dict::DictError::Load {
            path: std::path::PathBuf::from(dict::DICT_NAME),
            reason: "the Korean analyzer was not loaded".into(),
        })
    }

    pub fn get(&self, name: AnalyzerName) -> Result<Arc<dyn Analyzer>, dict::DictError> {
        Ok(match name {
            AnalyzerName::Korean => self.korean()?.clone(),
            AnalyzerName::Spanish => self.spanish.clone(),
            AnalyzerName::English => self.english.clone(),
            AnalyzerName::Other => self.other.clone(),
        })
    }

    /// Register every analyzer with an index, under its name for indexing
    /// (`ko`, `es`, ...) and with a `_query` suffix for queries.
    pub fn register(&self, index: &tantivy::Index) -> Result<(), dict::DictError> {
        let manager = index.tokenizers();
        for name in AnalyzerName::ALL {
            let a = self.get(name)?;
            manager.register(name.as_str(), TantivyAdapter::new(a.clone(), Mode::Index));
            manager.register(
                &format!("{}_query", name.as_str()),
                TantivyAdapter::new(a, Mode::Query),
            );
        }
        Ok(())
    }
}
