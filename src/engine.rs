//! The engine's parts that every command shares: the analyzers (with the
//! Korean dictionary) and the enricher (gazetteer and taxonomy), loaded once.

use std::path::Path;
use std::sync::Arc;

use crate::analysis::{Analyzers, dict};
use crate::enrich::{Enricher, VocabularyError};
use crate::ranking::Ranking;
use crate::semantic::Semantic;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Dict(#[from] dict::DictError),
    #[error(transparent)]
    Vocabulary(#[from] VocabularyError),
    #[error("{0}")]
    Ranking(String),
}

/// Analyzers and enrichment, ready to index or search.
#[derive(Clone)]
pub struct Engine {
    pub analyzers: Analyzers,
    pub enricher: Arc<Enricher>,
    /// Ranking weights (the defaults, or `EGOVKB_RANKING`'s).
    pub ranking: Ranking,
    /// The embedding model, when one is installed and loaded: documents
    /// get passage vectors and searches may be semantic or hybrid.
    pub semantic: Option<Arc<Semantic>>,
}

impl Engine {
    /// Load with the dictionary installed under `dict_root` and the
    /// vocabularies of `corpus` (built-in ones when it has none).
    pub fn load(dict_root: &Path, corpus: Option<&Path>) -> Result<Self, EngineError> {
        let analyzers = Analyzers::load(dict_root)?;
        let enricher = Arc::new(Enricher::load(analyzers.clone(), corpus)?);
        Ok(Self {
            analyzers,
            enricher,
            ranking: Ranking::from_env().map_err(EngineError::Ranking)?,
            semantic: None,
        })
    }

    /// The same engine embedding with `semantic`.
    pub fn with_semantic(mut self, semantic: Option<Arc<Semantic>>) -> Self {
        self.semantic = semantic;
        self
    }

    /// The same analyzers and weights with the vocabularies of `corpus`
    /// read again (after an admin edited them).
    pub fn with_vocabularies_of(&self, corpus: Option<&Path>) -> Result<Self, EngineError> {
        Ok(Self {
            analyzers: self.analyzers.clone(),
            enricher: Arc::new(Enricher::load(self.analyzers.clone(), corpus)?),
            ranking: self.ranking,
            semantic: self.semantic.clone(),
        })
    }
}
