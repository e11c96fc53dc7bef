//! egovkb: a search engine for a knowledge base of e-government case
//! studies in Korean, Spanish and English.
//!
//! The engine is this library; the `egovkb` binary is a thin command line
//! over it. Data flows crawl or import → extract → [`store`] → index (where
//! enrichment and embedding run) → search, as one [`document::Document`]
//! record. ARCHITECTURE.md is the map.

pub mod analysis;
pub mod config;
pub mod core;
pub mod crawl;
pub mod dates;
pub mod document;
pub mod engine;
pub mod enrich;
pub mod extract;
pub mod import;
pub mod index;
pub mod progress;
pub mod ranking;
pub mod semantic;
#[cfg(feature = "server")]
pub mod server;
pub mod solr;
pub mod store;

pub use document::{DocType, Document, Lang};
