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

pub use egovkb_embed::{Kind, Model};

/// The dimension of the model's vectors (multilingual-e5-small).
pub const DIM: usize = 384;

/// Query vectors kept for queries asked again (a page's next page, a
/// facet clicked, a popular question): embedding one costs milliseconds.
pub const QUERY_CACHE: usize = 1_024;

/// The model the engine embeds with, and the name its vectors are known
/// by (a generation built with another model's vectors is not searched by
/// meaning).
pub struct Semantic {
    pub model: Model,
    pub name: String,
    queries: Recent<String, Arc<[f32]>>,
}

impl std::fmt::Debug for Semantic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Semantic")
            .field("name", &self.name)
            .finish()
    }
}

impl Semantic {
    /// Load the model installed under `root`; `Ok(None)` when none is.
    pub fn load_installed(root: &Path) -> Result<Option<Self>, egovkb_embed::Error> {
        let Some(file) = install::installed_model_file(root) else {
            return Ok(None);
        };
        Ok(Some(Self::new(
            Model::load(&file)?,
            install::MODEL_NAME.to_string(),
        )))
    }

    pub fn new(model: Model, name: String) -> Self {
        Self {
            model,
            name,
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
