//! Semantic search: the multilingual embedding model (multilingual-e5-small, 4-bit), its installation, and the encoder that runs it in our process.

pub mod corpus;
pub mod install;
pub mod passages;
pub mod search;
pub mod vectors;

use std::path::Path;

pub use egovkb_embed::{Kind, Model};

/// The model the engine embeds with, and the name its vectors are known
/// by (a generation built with another model's vectors is not searched by
/// meaning).
pub struct Semantic {
    pub model: Model,
    pub name: String,
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
        Ok(Some(Self {
            model: Model::load(&file)?,
            name: install::MODEL_NAME.to_string(),
        }))
    }
}
