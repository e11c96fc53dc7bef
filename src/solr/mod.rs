//! SolrCloud as a second backend: the configset egovkb writes, a client
//! for the cluster, and the sync that pushes the corpus into a collection.

pub mod client;
pub mod configset;
mod hybrid;
mod meaning;
pub mod search;
pub mod sync;
mod words;
