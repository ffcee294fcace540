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
    /// Shard ids, sorted, parallel to `loads`.
    ids: Vec<ShardId>,
    loads: Vec<u64>,
    total: u64,
}

impl BoundedLoads {
    /// Bounds the loads of `ring` to `(1 + epsilon)` times the mean. `epsilon` must be finite
    /// and above 0 (0.25 is a common choice).
    pub fn new(ring: Ring, epsilon: f64) -> Result<Self, ShardingError> {
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(ShardingError::InvalidEpsilon(epsilon));
        }
        let mut ids: Vec<ShardId> = ring.shards().iter().map(|s| s.id).collect();
        ids.sort_unstable();
        let loads = vec![0; ids.len()];
        Ok(BoundedLoads {
            ring,
            epsilon,
            ids,
            loads,
            total: 0,
        })
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
        self.ids
            .iter()
            .copied()
            .zip(self.loads.iter().copied())
            .collect()
    }

    /// The capacity of each shard for the next assignment.
    pub fn capacity(&self) -> u64 {
        let n = self.ids.len().max(1) as u64;
        let m = self.total + 1;
        let ceil_mean = m.div_ceil(n);
        let bound = ((1.0 + self.epsilon) * m as f64 / n as f64).floor() as u64;
        ceil_mean.max(bound)
    }

    /// Heap memory used, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.ring.memory_bytes() + self.ids.capacity() * 4 + self.loads.capacity() * 8
    }

    #[inline]
    fn slot(&self, shard: ShardId) -> Option<usize> {
        self.ids.binary_search(&shard).ok()
    }

    /// Places `key` and counts it against its shard.
    pub fn assign<K: ShardKey + ?Sized>(&mut self, key: &K) -> ShardId {
        self.assign_hash(key.shard_hash())
    }

    /// [`BoundedLoads::assign`] for a precomputed key hash.
    pub fn assign_hash(&mut self, hash: u64) -> ShardId {
        let shard = self.shard_for_hash(hash);
        if let Some(i) = self.slot(shard)
            && let Some(l) = self.loads.get_mut(i)
        {
            *l += 1;
            self.total += 1;
        }
        shard
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
        let pos = self.ids.partition_point(|&id| id < shard.id);
        self.ids.insert(pos, shard.id);
        self.loads.insert(pos, 0);
        Ok(())
    }

    /// Removes a shard; its assignments are dropped from the count (re-assign those keys).
    pub fn remove_shard(&mut self, id: ShardId) -> Result<(), ShardingError> {
        self.ring.remove_shard(id)?;
        if let Some(i) = self.slot(id) {
            self.ids.remove(i);
            let l = self.loads.remove(i);
            self.total -= l;
        }
        Ok(())
    }
}

impl HashSharder for BoundedLoads {
    /// Where a key with this hash would be assigned now (the first shard clockwise under
    /// capacity). Does not count it.
    #[inline]
    fn shard_for_hash(&self, hash: u64) -> ShardId {
        let cap = self.capacity();
        let found = self.ring.walk_from(hash, |id| {
            self.slot(id)
                .and_then(|i| self.loads.get(i))
                .is_some_and(|&l| l < cap)
        });
        // Some shard is always under capacity (n * capacity > total), so `found` is Some;
        // fall back to the plain ring answer rather than fail.
        found.unwrap_or_else(|| self.ring.shard_for_hash(hash))
    }
}
