//! Semantic search: the multilingual embedding model (multilingual-e5-small, 4-bit), its installation, and the encoder that runs it in our process.

pub mod install;
