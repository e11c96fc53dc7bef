//! A small cache of the latest values used, by key: the least recently
//! used goes first when it is full. Query vectors and the graph's walks
//! are kept in one for queries asked again (a page's next page, a facet
//! clicked, a popular question).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Up to `capacity` values by key, shared between searches.
pub struct Recent<K, V> {
    capacity: usize,
    inner: Mutex<Entries<K, V>>,
}

struct Entries<K, V> {
    map: HashMap<K, (V, u64)>,
    clock: u64,
}

impl<K: Hash + Eq + Clone, V: Clone> Recent<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Entries {
                map: HashMap::new(),
                clock: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        // A poisoned lock only means another search panicked mid-update;
        // the map itself is always whole.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value kept for `key`, now the most recently used.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        let (v, used) = entries.map.get_mut(key)?;
        *used = now;
        Some(v.clone())
    }

    /// Keep `v` for `key`, the least recently used out when full (a scan:
    /// it happens once per new key, and the map is small).
    pub fn put(&self, key: K, v: V) {
        let mut entries = self.lock();
        if entries.map.len() >= self.capacity && !entries.map.contains_key(&key) {
            let oldest = entries
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entries.map.remove(&oldest);
            }
        }
        entries.clock += 1;
        let now = entries.clock;
        entries.map.insert(key, (v, now));
    }

    /// Values kept.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_used_are_kept() {
        let cache: Recent<String, f32> = Recent::new(2);
        cache.put("a".into(), 1.0);
        cache.put("b".into(), 2.0);
        assert_eq!(cache.get("a"), Some(1.0));
        cache.put("c".into(), 3.0); // "b" was used least lately
        assert_eq!(cache.get("b"), None);
        assert_eq!(cache.get("a"), Some(1.0));
        assert_eq!(cache.get("c"), Some(3.0));
        cache.put("c".into(), 4.0); // replacing evicts nothing
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("c"), Some(4.0));
        assert_eq!(cache.get("a"), Some(1.0));
    }
}
