//! One `Config` for every command: flags > environment > defaults.
//! (A configuration file joins when there is something worth putting in one.)

use std::path::PathBuf;

use crate::analysis::dict;
use crate::semantic::install as model;

/// Where things live.
#[derive(Debug, Clone)]
pub struct Config {
    /// The corpus directory (`--corpus`, `EGOVKB_CORPUS`, `./corpus`).
    pub corpus: PathBuf,
    /// The index directory (`--index`, `EGOVKB_INDEX`, `./index`).
    pub index: PathBuf,
    /// Where the Korean dictionary is installed (`EGOVKB_DICT_DIR`, else the
    /// per-user data directory).
    pub dict_root: PathBuf,
    /// Where the embedding model is installed (`EGOVKB_MODEL_DIR`, else the
    /// per-user data directory).
    pub model_root: PathBuf,
}

impl Config {
    /// Build from the flags the user gave (clap already read the environment
    /// variables into them).
    pub fn new(corpus: Option<PathBuf>, index: Option<PathBuf>) -> Self {
        Self {
            corpus: corpus.unwrap_or_else(|| PathBuf::from("corpus")),
            index: index.unwrap_or_else(|| PathBuf::from("index")),
            dict_root: dict::default_dict_root(),
            model_root: model::default_model_root(),
        }
    }
}
