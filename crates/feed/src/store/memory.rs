//! Timelines in process memory: sharded maps of capped ordered sets.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};

use super::{DeliverOptions, Delivery, TimelineSlice, TimelineStore};
use crate::error::Result;
use crate::model::{Position, PostId, TimelineEntry, UserId};

const SHARDS: usize = 64;

#[derive(Debug, Default)]
struct Timeline {
    last_active_ms: u64,
    /// Entries older than the oldest one kept may be missing (trimmed, or never rebuilt).
    partial: bool,
    entries: BTreeMap<Position, UserId>,
}

impl Timeline {
    fn older_than_oldest(&self, e: &TimelineEntry) -> bool {
        self.entries
            .first_key_value()
            .is_some_and(|(oldest, _)| e.position < *oldest)
    }

    /// Inserts and trims to `cap`; returns whether the entry is new and kept. `backfill` entries
    /// of a partial timeline must be newer than its oldest entry (else they would leave a gap).
    fn insert(&mut self, e: TimelineEntry, cap: usize, backfill: bool) -> bool {
        if self.partial && (self.older_than_oldest(&e) || (backfill && self.entries.is_empty())) {
            return false;
        }
        if self.entries.len() >= cap && self.older_than_oldest(&e) {
            // Older than everything a full timeline keeps: it would be trimmed at once.
            self.partial = true;
            return false;
        }
        let new = self.entries.insert(e.position, e.author).is_none();
        while self.entries.len() > cap {
            self.entries.pop_first();
            self.partial = true;
        }
        new
    }
}

type Shard = Mutex<HashMap<UserId, Timeline>>;

/// Timelines in memory: 64 shards, each a map of user to a capped ordered set.
///
/// Tombstones are kept for the life of the store (one id per deleted post).
#[derive(Debug)]
pub struct MemoryStore {
    shards: Box<[Shard]>,
    // Deliveries hold the read side for the whole batch and a delete takes the write side to
    // add a tombstone, so a delivery either sees the tombstone or finishes before the delete
    // starts removing: a deleted post can never be written back.
    tombstones: RwLock<HashSet<PostId>>,
    hasher: BuildHasherDefault<DefaultHasher>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            tombstones: RwLock::default(),
            hasher: BuildHasherDefault::default(),
        }
    }

    fn shard(&self, user: UserId) -> Option<&Shard> {
        let h = self.hasher.hash_one(user.0);
        #[allow(clippy::cast_possible_truncation)]
        self.shards.get((h as usize) % SHARDS)
    }

    /// How many entries `user`'s timeline holds (`None` when missing).
    pub fn len(&self, user: UserId) -> Option<usize> {
        self.shard(user)?.lock().get(&user).map(|t| t.entries.len())
    }
}

#[async_trait]
impl TimelineStore for MemoryStore {
    async fn deliver(
        &self,
        users: &[UserId],
        entry: TimelineEntry,
        opts: DeliverOptions,
    ) -> Result<Delivery> {
        let tomb = self.tombstones.read();
        if tomb.contains(&entry.post()) {
            return Ok(Delivery::Tombstoned);
        }
        let mut n = 0;
        for &u in users {
            let Some(shard) = self.shard(u) else { continue };
            let mut shard = shard.lock();
            if let Some(t) = shard.get_mut(&u)
                && t.last_active_ms >= opts.active_since_ms
                && t.insert(entry, opts.cap, false)
            {
                n += 1;
            }
        }
        drop(tomb);
        Ok(Delivery::Delivered(n))
    }

    async fn insert(&self, user: UserId, entries: &[TimelineEntry], cap: usize) -> Result<usize> {
        let tomb = self.tombstones.read();
        let Some(shard) = self.shard(user) else {
            return Ok(0);
        };
        let mut shard = shard.lock();
        let Some(t) = shard.get_mut(&user) else {
            return Ok(0);
        };
        let mut n = 0;
        for e in entries {
            if !tomb.contains(&e.post()) && t.insert(*e, cap, true) {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn remove(&self, user: UserId, entries: &[TimelineEntry]) -> Result<()> {
        if let Some(shard) = self.shard(user)
            && let Some(t) = shard.lock().get_mut(&user)
        {
            for e in entries {
                t.entries.remove(&e.position);
            }
        }
        Ok(())
    }

    async fn remove_from_many(&self, users: &[UserId], entry: TimelineEntry) -> Result<()> {
        for &u in users {
            if let Some(shard) = self.shard(u)
                && let Some(t) = shard.lock().get_mut(&u)
            {
                t.entries.remove(&entry.position);
            }
        }
        Ok(())
    }

    async fn page(
        &self,
        user: UserId,
        before: Option<Position>,
        limit: usize,
    ) -> Result<Option<TimelineSlice>> {
        let Some(shard) = self.shard(user) else {
            return Ok(None);
        };
        let shard = shard.lock();
        let Some(t) = shard.get(&user) else {
            return Ok(None);
        };
        let to_entry = |(p, a): (&Position, &UserId)| TimelineEntry {
            position: *p,
            author: *a,
        };
        let entries = match before {
            Some(b) => t
                .entries
                .range(..b)
                .rev()
                .take(limit)
                .map(to_entry)
                .collect(),
            None => t.entries.iter().rev().take(limit).map(to_entry).collect(),
        };
        Ok(Some(TimelineSlice {
            entries,
            last_active_ms: t.last_active_ms,
        }))
    }

    async fn create(&self, user: UserId, now_ms: u64) -> Result<()> {
        if let Some(shard) = self.shard(user) {
            let mut shard = shard.lock();
            let t = shard.entry(user).or_default();
            t.last_active_ms = t.last_active_ms.max(now_ms);
        }
        Ok(())
    }

    async fn touch(&self, user: UserId, now_ms: u64) -> Result<()> {
        if let Some(shard) = self.shard(user)
            && let Some(t) = shard.lock().get_mut(&user)
        {
            t.last_active_ms = t.last_active_ms.max(now_ms);
        }
        Ok(())
    }

    async fn mark_partial(&self, user: UserId) -> Result<()> {
        if let Some(shard) = self.shard(user)
            && let Some(t) = shard.lock().get_mut(&user)
        {
            t.partial = true;
        }
        Ok(())
    }

    async fn evict(&self, user: UserId) -> Result<()> {
        if let Some(shard) = self.shard(user) {
            shard.lock().remove(&user);
        }
        Ok(())
    }

    async fn tombstone(&self, post: PostId) -> Result<()> {
        self.tombstones.write().insert(post);
        Ok(())
    }

    async fn is_tombstoned(&self, post: PostId) -> Result<bool> {
        Ok(self.tombstones.read().contains(&post))
    }
}
