//! Semantic search: the multilingual embedding model (multilingual-e5-small,
//! 4-bit, run in our process by `crates/embed`), its installation, passages
//! and their vectors, and search over them.

pub mod corpus;
pub mod graph;
pub mod install;
pub mod passages;
pub mod search;
pub mod vectors;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

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
    queries: Mutex<QueryCache>,
}

/// The latest query vectors, by text; the least recently used goes first.
#[derive(Default)]
struct QueryCache {
    entries: HashMap<String, (Arc<[f32]>, u64)>,
    clock: u64,
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
            queries: Mutex::default(),
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
        // A poisoned lock only means another search panicked mid-update;
        // the map itself is always whole.
        let lock = || self.queries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = lock().get(text) {
            return v;
        }
        let v: Arc<[f32]> = self.model.embed(text, Kind::Query).into();
        lock().put(text, Arc::clone(&v), QUERY_CACHE);
        v
    }
}

impl QueryCache {
    fn get(&mut self, text: &str) -> Option<Arc<[f32]>> {
        self.clock += 1;
        let now = self.clock;
        let (v, used) = self.entries.get_mut(text)?;
        *used = now;
        Some(Arc::clone(v))
    }

    /// Keep `v` for `text`, the least recently used out when `capacity`
    /// are kept (a scan: it happens once per new query, and the map is
    /// small).
    fn put(&mut self, text: &str, v: Arc<[f32]>, capacity: usize) {
        if self.entries.len() >= capacity && !self.entries.contains_key(text) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.clock += 1;
        self.entries.insert(text.to_string(), (v, self.clock));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_cache_keeps_the_latest_used() {
        let mut cache = QueryCache::default();
        let v = |x: f32| -> Arc<[f32]> { Arc::from(vec![x]) };
        cache.put("a", v(1.0), 2);
        cache.put("b", v(2.0), 2);
        assert_eq!(cache.get("a").as_deref(), Some(&[1.0][..]));
        cache.put("c", v(3.0), 2); // "b" was used least lately
        assert!(cache.get("b").is_none());
        assert_eq!(cache.get("a").as_deref(), Some(&[1.0][..]));
        assert_eq!(cache.get("c").as_deref(), Some(&[3.0][..]));
        cache.put("c", v(4.0), 2); // replacing evicts nothing
        assert_eq!(cache.entries.len(), 2);
        assert_eq!(cache.get("c").as_deref(), Some(&[4.0][..]));
    }
}
