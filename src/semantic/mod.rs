//! Semantic search: the multilingual embedding model (multilingual-e5-small,
//! 4-bit, run in our process by `crates/embed`), its installation, passages
//! and their vectors, and search over them.

pub mod corpus;
pub mod graph;
pub mod install;
pub mod passages;
pub mod recent;
pub mod search;
pub mod vectors;

use std::path::Path;
use std::sync::Arc;

use recent::Recent;

use crate::core::relevance::{Calibration, CalibrationError, SHIPPED};

pub use egovkb_embed::{Kind, Model};

/// The dimension of the model's vectors (multilingual-e5-small).
pub const DIM: usize = 384;

/// Query vectors kept for queries asked again (a page's next page, a
/// facet clicked, a popular question): embedding one costs milliseconds.
pub const QUERY_CACHE: usize = 1_024;

/// Pieces of the model's vocabulary per Hangul syllable and per other
/// letter from which a query is not read as words (measured on
/// development questions and random strings: BENCHMARKS.md, "Relevance").
pub const MAX_PIECES_PER_SYLLABLE: f32 = 0.9;
pub const MAX_PIECES_PER_LETTER: f32 = 0.5;

/// The model the engine embeds with, and the name its vectors are known
/// by (a generation built with another model's vectors is not searched by
/// meaning).
pub struct Semantic {
    pub model: Model,
    pub name: String,
    /// The similarities from which a document counts by meaning, measured
    /// with this model.
    pub calibration: Calibration,
    queries: Recent<String, Arc<[f32]>>,
}

/// Why the installed model cannot search by meaning.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the embedding model did not load: {0}")]
    Model(#[from] egovkb_embed::Error),
    #[error("{0}")]
    Calibration(#[from] CalibrationError),
    #[error("the calibration {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

impl std::fmt::Debug for Semantic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Semantic")
            .field("name", &self.name)
            .finish()
    }
}

impl Semantic {
    /// Load the model installed under `root` with its calibration: the
    /// file `calibration` when given, else the one shipped for it;
    /// `Ok(None)` when no model is installed. A calibration measured with
    /// another model is refused.
    pub fn load_installed(
        root: &Path,
        calibration: Option<&Path>,
    ) -> Result<Option<Self>, LoadError> {
        let Some(file) = install::installed_model_file(root) else {
            return Ok(None);
        };
        let name = install::MODEL_NAME;
        let calibration = match calibration {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                Calibration::parse(&text, &path.display().to_string(), name)?
            }
            None => Calibration::parse(SHIPPED, "shipped with egovkb", name)?,
        };
        Ok(Some(Self::new(
            Model::load(&file)?,
            name.to_string(),
            calibration,
        )))
    }

    pub fn new(model: Model, name: String, calibration: Calibration) -> Self {
        Self {
            model,
            name,
            calibration,
            queries: Recent::new(QUERY_CACHE),
        }
    }

    /// What a generation's vectors are known by: the model, and how
    /// documents were cut into passages (vectors of another cut are made
    /// again by `egovkb index`).
    pub fn vectors_name(&self) -> String {
        format!(
            "{}; cut {} (passages of at most {} tokens)",
            self.name,
            passages::CUT,
            passages::BUDGET
        )
    }

    /// Whether the model reads `text` as words of a language: the pieces
    /// its vocabulary cuts the letters into are few. Strings of random
    /// letters or syllables fall apart into pieces of one or two letters
    /// (and lie near every passage); words, names and acronyms do not
    /// (BENCHMARKS.md, "Relevance").
    pub fn reads_as_words(&self, text: &str) -> bool {
        let (mut hangul, mut other) = (0usize, 0usize);
        for c in text.chars().filter(|c| c.is_alphanumeric()) {
            match crate::analysis::korean::is_hangul(c) {
                true => hangul += 1,
                false => other += 1,
            }
        }
        let letters = hangul + other;
        if letters == 0 {
            return false;
        }
        let pieces = text
            .split_whitespace()
            .map(|w| self.model.tokenizer().encode(w).len())
            .sum::<usize>() as f32;
        // Pieces a letter at most, Hangul syllables and other letters
        // weighed by their share.
        let most = (hangul as f32 * MAX_PIECES_PER_SYLLABLE + other as f32 * MAX_PIECES_PER_LETTER)
            / letters as f32;
        pieces / letters as f32 <= most
    }

    /// The vector of a query, from the cache when it was asked lately.
    pub fn embed_query(&self, text: &str) -> Arc<[f32]> {
        if let Some(v) = self.queries.get(text) {
            return v;
        }
        let v: Arc<[f32]> = self.model.embed(text, Kind::Query).into();
        self.queries.put(text.to_string(), Arc::clone(&v));
        v
    }
}
