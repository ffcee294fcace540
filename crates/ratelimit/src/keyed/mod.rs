//! The keyed limiter: one state per key in a sharded, bounded map.
//!
//! # Layout and cost
//! Keys hash (foldhash, seeded per limiter) to one of a power-of-two number of shards, each a
//! spin lock (yielding while it waits) over a `hashbrown` table of `(key, state)` pairs, padded to its own cache
//! line. A check is one clock read, one hash, one uncontended lock and one probe; there is no
//! separate atomic per key, so a `u64` key with GCRA costs 16 bytes plus hashbrown's control
//! byte. Many shards (default: 16 per core, at least 64) keep two threads from meeting on a
//! lock.
//!
//! # Bounded by default
//! The map never grows past `max_keys` (default 1,048,576), and it sweeps itself, with no thread
//! of its own:
//! - a key whose state is *idle* (fully refilled: it would decide exactly as a fresh key) can be
//!   dropped without changing any decision;
//! - when a shard's table is full and a new key arrives, the inserting caller sweeps that shard
//!   (one shard, `1 / shards` of the keys), dropping idle keys, before the table would grow; a
//!   sweep runs at most once per `capacity / 8` inserts in a shard, so its cost is amortised O(1)
//!   per insert;
//! - at the cap, with no idle key to drop, the key closest to idle among a sample of 8 is evicted
//!   (counted in [`KeyedStats::evicted_active`]: that key gets a fresh allowance).
//!
//! A denied request never inserts its key, so a flood of denials does not grow the map.

mod shard;

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};

use crate::algorithm::{Algorithm, FromQuota, Gcra};
use crate::clock::{Clock, SystemClock};
use crate::{Decision, InsufficientCapacity, Quota};
use shard::{Padded, Shard};

/// A shard's lock: a test-and-set spin lock that yields the CPU while it waits.
///
/// Its unlock is a plain release store, where a parking mutex needs a second atomic
/// read-modify-write to look for parked waiters; the critical section is a probe and a few
/// arithmetic operations (no allocation except a table's rare growth, no I/O, no await), so a
/// waiter that yields finds it free almost at once.
type ShardLock<T> = spin::mutex::SpinMutex<T, spin::relax::Yield>;

/// A shard behind its lock, on its own cache line.
type LockedShard<K, A> = Padded<ShardLock<Shard<K, A>>>;

/// Default bound on the number of keys.
pub const DEFAULT_MAX_KEYS: usize = 1 << 20;

/// Counters of a keyed limiter, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyedStats {
    /// Keys currently stored.
    pub keys: usize,
    /// Keys dropped because they were idle (no decision changed).
    pub evicted_idle: u64,
    /// Keys evicted at the cap while not idle (each got a fresh allowance).
    pub evicted_active: u64,
    /// Sweeps run.
    pub sweeps: u64,
}

/// Builder for a [`KeyedLimiter`].
#[derive(Debug, Clone)]
pub struct KeyedBuilder {
    max_keys: usize,
    shards: usize,
}

impl Default for KeyedBuilder {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            max_keys: DEFAULT_MAX_KEYS,
            shards: (cores * 16).max(64),
        }
    }
}

impl KeyedBuilder {
    /// Default settings: 1,048,576 keys, 16 shards per core (at least 64).
    pub fn new() -> Self {
        Self::default()
    }

    /// The most keys the limiter stores (at least one per shard). Default 1,048,576.
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// The number of shards, rounded up to a power of two (1 to 65,536).
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// Builds a limiter running `A` for `quota` on `clock`.
    pub fn build<K, A: FromQuota, C: Clock>(self, quota: Quota, clock: C) -> KeyedLimiter<K, A, C> {
        self.build_with(&A::from_quota(quota), clock)
    }

    /// Builds a limiter running `algorithm` on `clock`.
    pub fn build_with<K, A: Algorithm + Clone, C: Clock>(
        self,
        algorithm: &A,
        clock: C,
    ) -> KeyedLimiter<K, A, C> {
        let shards = self.shards.clamp(1, 1 << 16).next_power_of_two();
        let per_shard = self.max_keys.div_ceil(shards).max(1);
        KeyedLimiter {
            shards: (0..shards)
                .map(|_| Padded(ShardLock::new(Shard::new(algorithm.clone(), per_shard))))
                .collect(),
            mask: shards - 1,
            hasher: foldhash::fast::RandomState::default(),
            clock,
        }
    }
}

/// A limiter with one state per key (user id, IP, API key, endpoint, or a tuple of these).
///
/// ```
/// use keel_ratelimit::{Gcra, KeyedLimiter, ManualClock, Quota};
/// let clock = ManualClock::starting_now();
/// let limiter: KeyedLimiter<String, Gcra, _> =
///     KeyedLimiter::with_clock(Quota::per_minute(2)?, clock.clone());
/// assert!(limiter.check("alice").allowed);
/// assert!(limiter.check("alice").allowed);
/// assert!(!limiter.check("alice").allowed);
/// assert!(limiter.check("bob").allowed);
/// assert_eq!(limiter.peek("bob").remaining, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct KeyedLimiter<K, A: Algorithm = Gcra, C: Clock = SystemClock> {
    shards: Box<[LockedShard<K, A>]>,
    mask: usize,
    hasher: foldhash::fast::RandomState,
    clock: C,
}

impl<K: Hash + Eq + Clone, A: FromQuota + Clone> KeyedLimiter<K, A, SystemClock> {
    /// A bounded limiter for `quota` on the system clock, with default settings.
    pub fn new(quota: Quota) -> Self {
        KeyedBuilder::default().build(quota, SystemClock::new())
    }
}

impl<K: Hash + Eq + Clone, A: FromQuota + Clone, C: Clock> KeyedLimiter<K, A, C> {
    /// A bounded limiter for `quota` on `clock`, with default settings.
    pub fn with_clock(quota: Quota, clock: C) -> Self {
        KeyedBuilder::default().build(quota, clock)
    }

    /// Changes the default quota at run time; every key keeps its state.
    pub fn set_quota(&self, quota: Quota) {
        let algorithm = A::from_quota(quota);
        for shard in &self.shards {
            shard.0.lock().algorithm = algorithm.clone();
        }
    }

    /// Gives `key` its own quota (for example a customer's contract), keeping its state.
    ///
    /// Keys with their own quota sit in a hash table per shard, so a check costs the same
    /// with one such key or a million.
    pub fn set_key_quota(&self, key: K, quota: Quota) {
        let hash = self.hasher.hash_one(&key);
        let hasher = &self.hasher;
        self.shard(hash)
            .lock()
            .set_override(hash, key, A::from_quota(quota), |k| hasher.hash_one(k));
    }

    /// Puts `key` back on the limiter's quota, keeping its state.
    pub fn remove_key_quota<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        self.shard(hash).lock().remove_override(hash, key);
    }
}

impl<K: Hash + Eq + Clone, A: Algorithm, C: Clock> KeyedLimiter<K, A, C> {
    #[inline]
    fn shard(&self, hash: u64) -> &ShardLock<Shard<K, A>> {
        // Bits 32.. pick the shard; hashbrown uses the low bits and the top 7 inside a shard.
        // `mask` is `len - 1` for a power-of-two length, so the index is always in range.
        let index = (hash >> 32) as usize & self.mask;
        &self.shards[index].0
    }

    /// Checks one unit-cost request for `key`.
    ///
    /// The hot path is inlined into the caller, so a caller that reads only
    /// [`Decision::allowed`] pays for none of the other fields.
    #[inline(always)]
    pub fn check<Q>(&self, key: &Q) -> Decision
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.check_n(key, 1)
            .unwrap_or_else(|_| Decision::deny(1, 0, 0, 1))
    }

    /// Checks a request of `cost` for `key`; a denial consumes nothing and stores nothing.
    ///
    /// # Errors
    /// [`InsufficientCapacity`] when `cost` exceeds the key's limit.
    #[inline(always)]
    pub fn check_n<Q>(&self, key: &Q, cost: u64) -> Result<Decision, InsufficientCapacity>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let now = self.clock.now();
        let hasher = &self.hasher;
        self.shard(hash)
            .lock()
            .check(hash, key, now, cost, |k| hasher.hash_one(k))
    }

    /// What a unit request for `key` would get now, consuming and storing nothing.
    pub fn peek<Q>(&self, key: &Q) -> Decision
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let now = self.clock.now();
        self.shard(hash).lock().peek(hash, key, now)
    }

    /// A copy of `key`'s state (`None`: never seen or dropped as idle, i.e. a full allowance).
    pub fn state<Q>(&self, key: &Q) -> Option<A::State>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        self.shard(hash).lock().state(hash, key)
    }

    /// Forgets `key` (its next request gets a full allowance).
    pub fn remove<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        self.shard(hash).lock().remove(hash, key);
    }

    /// Drops every idle key now (the limiter also does this by itself as it fills).
    pub fn sweep(&self) {
        let now = self.clock.now();
        let rehash = |k: &K| self.hasher.hash_one(k);
        for shard in &self.shards {
            shard.0.lock().sweep(now, &rehash);
        }
    }

    /// Keys stored.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.0.lock().len()).sum()
    }

    /// Whether no key is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key count and eviction counters.
    pub fn stats(&self) -> KeyedStats {
        self.shards.iter().fold(KeyedStats::default(), |acc, s| {
            let s = s.0.lock();
            KeyedStats {
                keys: acc.keys + s.len(),
                evicted_idle: acc.evicted_idle + s.evicted_idle,
                evicted_active: acc.evicted_active + s.evicted_active,
                sweeps: acc.sweeps + s.sweeps,
            }
        })
    }

    /// Bytes allocated by the key tables (excluding what keys own on the heap, such as a
    /// `String`'s buffer).
    pub fn allocated_bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.0.lock().allocated_bytes())
            .sum()
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }
}

impl<K, A: Algorithm, C: Clock> fmt::Debug for KeyedLimiter<K, A, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedLimiter")
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}
