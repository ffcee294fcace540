//! Directory sharding: an explicit key-to-shard table, a fallback strategy for keys not in
//! it, live remapping, and a small trait for where the table is persisted.
//!
//! The table lives in memory behind a read-write lock, so lookups run concurrently with
//! remaps. A persisted remap writes the store first and updates memory only when the store
//! accepted it, so memory never claims what the store does not hold.

use std::{
    collections::HashMap,
    future::Future,
    hash::Hash,
    sync::{Mutex, RwLock},
};

use crate::{ShardId, Sharder, ShardingError};

/// Where a directory's table is persisted (a PostgreSQL table, a config service, a file).
///
/// The methods are `async` without naming a runtime. A PostgreSQL store is a table
/// `(key TEXT PRIMARY KEY, shard INTEGER NOT NULL)`: `load_all` is a `SELECT`, `put` an
/// `INSERT ... ON CONFLICT (key) DO UPDATE`, `delete` a `DELETE`. Map failures to
/// [`ShardingError::Store`].
pub trait DirectoryStore<K> {
    /// Every persisted entry.
    fn load_all(&self) -> impl Future<Output = Result<Vec<(K, ShardId)>, ShardingError>> + Send;
    /// Inserts or replaces one entry.
    fn put(
        &self,
        key: &K,
        shard: ShardId,
    ) -> impl Future<Output = Result<(), ShardingError>> + Send;
    /// Removes one entry (absent is fine).
    fn delete(&self, key: &K) -> impl Future<Output = Result<(), ShardingError>> + Send;
}

/// A [`DirectoryStore`] in memory (tests, single-process services).
#[derive(Debug, Default)]
pub struct MemoryDirectoryStore<K> {
    entries: Mutex<HashMap<K, ShardId>>,
}

impl<K: Hash + Eq + Clone + Send + Sync> DirectoryStore<K> for MemoryDirectoryStore<K> {
    async fn load_all(&self) -> Result<Vec<(K, ShardId)>, ShardingError> {
        let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        Ok(map.iter().map(|(k, s)| (k.clone(), *s)).collect())
    }

    async fn put(&self, key: &K, shard: ShardId) -> Result<(), ShardingError> {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(key.clone(), shard);
        Ok(())
    }

    async fn delete(&self, key: &K) -> Result<(), ShardingError> {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(key);
        Ok(())
    }
}

/// An explicit key-to-shard table with a fallback strategy.
///
/// ```
/// use keel_sharding::{Directory, Jump, Sharder, ShardId};
/// let dir = Directory::new(Jump::new(4)?);
/// dir.assign("tenant:big".to_owned(), ShardId(9)); // a big tenant gets its own shard
/// assert_eq!(dir.shard(&"tenant:big".to_owned()), ShardId(9));
/// assert!(dir.shard(&"tenant:small".to_owned()).0 < 4); // everyone else: jump over 4
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Directory<K, F> {
    table: RwLock<HashMap<K, ShardId>>,
    fallback: F,
}

impl<K: Hash + Eq + Clone, F: Sharder<K>> Directory<K, F> {
    /// An empty table: every key goes to the fallback.
    pub fn new(fallback: F) -> Self {
        Directory {
            table: RwLock::new(HashMap::new()),
            fallback,
        }
    }

    /// A table loaded from `store`.
    pub async fn load<S: DirectoryStore<K>>(store: &S, fallback: F) -> Result<Self, ShardingError> {
        let entries = store.load_all().await?;
        Ok(Directory {
            table: RwLock::new(entries.into_iter().collect()),
            fallback,
        })
    }

    /// The fallback strategy.
    pub fn fallback(&self) -> &F {
        &self.fallback
    }

    /// The explicit entry for `key`, if any.
    pub fn entry(&self, key: &K) -> Option<ShardId> {
        self.read().get(key).copied()
    }

    /// All explicit entries (a snapshot).
    pub fn entries(&self) -> Vec<(K, ShardId)> {
        self.read().iter().map(|(k, s)| (k.clone(), *s)).collect()
    }

    /// The number of explicit entries.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the table has no explicit entry.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Maps `key` to `shard` in memory only; returns the previous explicit entry.
    pub fn assign(&self, key: K, shard: ShardId) -> Option<ShardId> {
        self.write().insert(key, shard)
    }

    /// Drops the explicit entry of `key` (it falls back again); returns it.
    pub fn unassign(&self, key: &K) -> Option<ShardId> {
        self.write().remove(key)
    }

    /// Maps `key` to `shard` in `store`, then in memory. On a store error memory is unchanged.
    pub async fn remap<S: DirectoryStore<K>>(
        &self,
        store: &S,
        key: K,
        shard: ShardId,
    ) -> Result<Option<ShardId>, ShardingError> {
        store.put(&key, shard).await?;
        Ok(self.assign(key, shard))
    }

    /// Drops the entry of `key` in `store`, then in memory.
    pub async fn remove<S: DirectoryStore<K>>(
        &self,
        store: &S,
        key: &K,
    ) -> Result<Option<ShardId>, ShardingError> {
        store.delete(key).await?;
        Ok(self.unassign(key))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<K, ShardId>> {
        // A panic while holding the lock cannot leave the map half-updated (single insert or
        // remove), so a poisoned lock is still consistent.
        self.table.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<K, ShardId>> {
        self.table.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl<K: Hash + Eq + Clone, F: Sharder<K>> Sharder<K> for Directory<K, F> {
    fn shard(&self, key: &K) -> ShardId {
        match self.entry(key) {
            Some(s) => s,
            None => self.fallback.shard(key),
        }
    }
}
