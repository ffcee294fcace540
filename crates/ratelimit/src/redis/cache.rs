//! A short local memory of keys known to be over their limit.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use crate::Decision;
use crate::clock::{Clock, duration_nanos};

/// A cached denial: cached at, denied until (local nanoseconds), the decisions.
type Entry = (u64, u64, Arc<[Decision]>);

/// Shards of a large cache, so concurrent checks rarely meet on one lock.
const SHARDS: usize = 16;
/// Caches smaller than this keep one shard (and so their exact capacity).
const SHARDED_FROM: usize = 1024;

/// One shard: its entries and the earliest time any of them expires.
struct Shard {
    entries: HashMap<String, Entry>,
    /// No entry expires before this (local nanoseconds); a full shard is swept only once it
    /// has passed, so a flood of denials on a full cache costs no scan per insert.
    earliest: u64,
}

/// Keys (or sets of keys checked together) denied a unit request, each until its retry time
/// (local clock).
///
/// A cached key is denied without a Redis round trip. This is never wrong: other instances'
/// requests can only push a key's retry time later, never earlier. The map is bounded; when
/// full, expired entries are dropped and, if none expired, the new denial is simply not cached.
/// Large caches are split into shards by key hash, each bounded by its share of the capacity.
pub(crate) struct DenyCache {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
    capacity: usize,
    hasher: foldhash::fast::RandomState,
    clock: Arc<dyn Clock>,
}

impl DenyCache {
    pub(crate) fn new(capacity: usize, clock: Arc<dyn Clock>) -> Self {
        let shards = if capacity >= SHARDED_FROM { SHARDS } else { 1 };
        Self {
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: HashMap::new(),
                        earliest: u64::MAX,
                    })
                })
                .collect(),
            per_shard: capacity / shards,
            capacity,
            hasher: foldhash::fast::RandomState::default(),
            clock,
        }
    }

    fn shard(&self, key: &str) -> Option<&Mutex<Shard>> {
        let n = self.shards.len() as u64;
        let i = self.hasher.hash_one(key) % n.max(1);
        self.shards.get(usize::try_from(i).unwrap_or(0))
    }

    /// The cached decisions of `key`, their times counted down, if the denial is in force.
    pub(crate) fn get(&self, key: &str) -> Option<Vec<Decision>> {
        if self.capacity == 0 {
            return None;
        }
        let now = self.clock.now();
        let mut shard = self.shard(key)?.lock();
        let (since, until, decisions) = shard.entries.get(key)?;
        if now >= *until {
            shard.entries.remove(key);
            return None;
        }
        let elapsed = now.saturating_sub(*since);
        Some(
            decisions
                .iter()
                .map(|d| {
                    let reset = duration_nanos(d.reset_after).saturating_sub(elapsed);
                    let retry = duration_nanos(d.retry_after).saturating_sub(elapsed);
                    if d.allowed || retry == 0 {
                        Decision::allow(d.limit, d.remaining, reset)
                    } else {
                        Decision::deny(d.limit, d.remaining, reset, retry)
                    }
                })
                .collect(),
        )
    }

    /// Remembers the decisions of a denied unit request on `key`, until every denying check
    /// would admit.
    pub(crate) fn insert(&self, key: &str, decisions: &[Decision]) {
        let wait = decisions
            .iter()
            .filter(|d| !d.allowed)
            .map(|d| duration_nanos(d.retry_after))
            .max()
            .unwrap_or(0);
        if self.capacity == 0 || wait == 0 {
            return;
        }
        let now = self.clock.now();
        let until = now.saturating_add(wait);
        let Some(shard) = self.shard(key) else {
            return;
        };
        let mut shard = shard.lock();
        if shard.entries.len() >= self.per_shard && !shard.entries.contains_key(key) {
            if now < shard.earliest {
                return; // full, and nothing can have expired yet
            }
            shard.entries.retain(|_, (_, u, _)| *u > now);
            shard.earliest = shard
                .entries
                .values()
                .map(|e| e.1)
                .min()
                .unwrap_or(u64::MAX);
            if shard.entries.len() >= self.per_shard {
                return;
            }
        }
        shard.earliest = shard.earliest.min(until);
        shard
            .entries
            .insert(key.to_owned(), (now, until, decisions.into()));
    }

    /// Keys currently cached.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().entries.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use std::time::Duration;

    #[test]
    fn expires_at_retry_time_and_stays_bounded() {
        let clock = ManualClock::new(1_000_000_000);
        let cache = DenyCache::new(2, Arc::new(clock.clone()));
        let deny = Decision::deny(5, 0, 2_000_000_000, 1_000_000_000);
        cache.insert("a", &[deny]);
        clock.advance(Duration::from_millis(400));
        let d = cache.get("a").unwrap()[0];
        assert!(!d.allowed);
        assert_eq!(d.retry_after, Duration::from_millis(600));
        cache.insert("b", &[deny]);
        cache.insert("c", &[deny]); // full, nothing expired: not cached
        assert!(cache.get("c").is_none());
        clock.advance(Duration::from_millis(600));
        assert!(cache.get("a").is_none());
        cache.insert("c", &[deny]); // "b" expired (retry 1 s) only at +1.4 s, "a" is gone
        assert!(cache.get("c").is_some());
        assert!(cache.len() <= 2);
    }

    #[test]
    fn a_large_cache_is_sharded_and_stays_bounded() {
        let clock = ManualClock::new(1_000_000_000);
        let cache = DenyCache::new(2048, Arc::new(clock.clone()));
        assert_eq!(cache.shards.len(), SHARDS);
        let deny = Decision::deny(5, 0, 2_000_000_000, 1_000_000_000);
        for i in 0..4096 {
            cache.insert(&format!("ip{i}"), &[deny]);
        }
        let n = cache.len();
        assert!(n <= 2048 && n > 1024, "{n}");
        // Every cached key answers; once their retry time passed, the full shards are swept
        // on the next insert and take new keys.
        assert!((0..4096).any(|i| cache.get(&format!("ip{i}")).is_some()));
        clock.advance(Duration::from_secs(2));
        for i in 0..4096 {
            cache.insert(&format!("next{i}"), &[deny]);
        }
        assert!((0..4096).all(|i| cache.get(&format!("ip{i}")).is_none()));
        assert!(cache.len() > 1024);
    }
}
