//! Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, 2018).
//!
//! A ring whose shards each accept at most `capacity = max(⌈m/n⌉, ⌊(1 + ε) · m/n⌋)`
//! assignments, where `m` counts assignments including the one being placed. A key goes to
//! the first shard clockwise from its position that is under capacity, so no shard ever holds
//! more than `(1 + ε)` times the mean (up to rounding to whole keys), even when a few keys are
//! hot. Smaller `ε` means flatter loads and longer walks (about `1/ε²` steps when nearly full).
//!
//! Placement depends on the current loads, so it is for assigning work (sessions, requests,
//! cache fills) whose assignment you record: [`BoundedLoads::assign`] places and counts,
//! [`BoundedLoads::release`] uncounts, and [`Sharder::shard`](crate::Sharder::shard) answers
//! where a key would go now without counting it.

use std::collections::HashMap;

use crate::{HashSharder, Ring, ShardId, ShardKey, ShardingError, WeightedShard};

/// A consistent-hash ring with a load bound.
///
/// ```
/// use keel_sharding::{BoundedLoads, Ring, ShardId};
/// let ring = Ring::new((0..4).map(ShardId), 100)?;
/// let mut b = BoundedLoads::new(ring, 0.25)?;
/// for i in 0..1000u64 {
///     b.assign(&i);
/// }
/// assert!(b.max_load() <= 313); // 1.25 * 1000 / 4 = 312.5, rounded down, or the ceiling
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct BoundedLoads {
    ring: Ring,
    epsilon: f64,
    /// Loads, aligned with `ring.shards()`.
    loads: Vec<u64>,
    /// Shard id to position in `ring.shards()`.
    positions: HashMap<ShardId, usize>,
    total: u64,
    /// The capacity for the next assignment, kept current on every change.
    cap: u64,
}

impl BoundedLoads {
    /// Bounds the loads of `ring` to `(1 + epsilon)` times the mean. `epsilon` must be finite
    /// and above 0 (0.25 is a common choice).
    pub fn new(ring: Ring, epsilon: f64) -> Result<Self, ShardingError> {
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(ShardingError::InvalidEpsilon(epsilon));
        }
        let mut b = BoundedLoads {
            loads: vec![0; ring.len()],
            positions: HashMap::new(),
            ring,
            epsilon,
            total: 0,
            cap: 1,
        };
        b.refresh();
        Ok(b)
    }

    fn refresh(&mut self) {
        self.positions = self
            .ring
            .shards()
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id, i))
            .collect();
        self.refresh_cap();
    }

    fn refresh_cap(&mut self) {
        let n = self.loads.len().max(1) as u64;
        let m = self.total + 1;
        let ceil_mean = m.div_ceil(n);
        let bound = ((1.0 + self.epsilon) * m as f64 / n as f64).floor() as u64;
        self.cap = ceil_mean.max(bound);
    }

    /// The ring underneath.
    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// The load bound factor ε.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// Total assignments counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The load of one shard (0 for an unknown shard).
    pub fn load(&self, shard: ShardId) -> u64 {
        self.slot(shard)
            .and_then(|i| self.loads.get(i).copied())
            .unwrap_or(0)
    }

    /// The largest load of any shard.
    pub fn max_load(&self) -> u64 {
        self.loads.iter().copied().max().unwrap_or(0)
    }

    /// `(shard, load)` for every shard, by id.
    pub fn loads(&self) -> Vec<(ShardId, u64)> {
        let mut v: Vec<(ShardId, u64)> = self
            .ring
            .shards()
            .iter()
            .map(|s| s.id)
            .zip(self.loads.iter().copied())
            .collect();
        v.sort_unstable();
        v
    }

    /// The capacity of each shard for the next assignment.
    pub fn capacity(&self) -> u64 {
        self.cap
    }

    /// Heap memory used, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.ring.memory_bytes()
            + self.loads.capacity() * 8
            + self.positions.capacity() * (size_of::<(ShardId, usize)>() + 1)
    }

    #[inline]
    fn slot(&self, shard: ShardId) -> Option<usize> {
        self.positions.get(&shard).copied()
    }

    /// The position in `ring.shards()` where `hash` would be assigned now.
    #[inline]
    fn place(&self, hash: u64) -> usize {
        let first = self.ring.ordinal_for_hash(hash);
        if self.loads.get(first).is_some_and(|&l| l < self.cap) {
            return first;
        }
        // Some shard is always under capacity (n * capacity > total); if none were found,
        // the plain ring answer is the safe fallback.
        self.ring
            .walk_from(hash, |i| self.loads.get(i).is_some_and(|&l| l < self.cap))
            .unwrap_or(first)
    }

    /// Places `key` and counts it against its shard.
    pub fn assign<K: ShardKey + ?Sized>(&mut self, key: &K) -> ShardId {
        self.assign_hash(key.shard_hash())
    }

    /// [`BoundedLoads::assign`] for a precomputed key hash.
    pub fn assign_hash(&mut self, hash: u64) -> ShardId {
        let i = self.place(hash);
        if let Some(l) = self.loads.get_mut(i) {
            *l += 1;
            self.total += 1;
            self.refresh_cap();
        }
        self.id_at(i)
    }

    fn id_at(&self, i: usize) -> ShardId {
        self.ring.shards().get(i).map_or(ShardId(0), |s| s.id)
    }

    /// Uncounts one assignment from `shard` (the key left, the request finished). Fails for a
    /// shard not in the ring or one with no assignment.
    pub fn release(&mut self, shard: ShardId) -> Result<(), ShardingError> {
        let Some(i) = self.slot(shard) else {
            return Err(ShardingError::UnknownShard(shard));
        };
        match self.loads.get_mut(i) {
            Some(l) if *l > 0 => {
                *l -= 1;
                self.total -= 1;
                self.refresh_cap();
                Ok(())
            }
            _ => Err(ShardingError::InvalidParameter {
                name: "release",
                reason: format!(
                    "shard {shard} has no assignment to release; release once per assign"
                ),
            }),
        }
    }

    /// Adds a shard (with no load).
    pub fn add_shard(&mut self, shard: WeightedShard) -> Result<(), ShardingError> {
        self.ring.add_shard(shard.id, shard.weight)?;
        self.loads.push(0);
        self.refresh();
        Ok(())
    }

    /// Removes a shard; its assignments are dropped from the count (re-assign those keys).
    pub fn remove_shard(&mut self, id: ShardId) -> Result<(), ShardingError> {
        let pos = self.slot(id);
        self.ring.remove_shard(id)?;
        if let Some(i) = pos
            && i < self.loads.len()
        {
            let l = self.loads.remove(i);
            self.total -= l;
        }
        self.refresh();
        Ok(())
    }
}

impl HashSharder for BoundedLoads {
    /// Where a key with this hash would be assigned now (the first shard clockwise under
    /// capacity). Does not count it.
    #[inline]
    fn shard_for_hash(&self, hash: u64) -> ShardId {
        self.id_at(self.place(hash))
    }
}
