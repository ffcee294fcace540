//! Rendezvous hashing (highest random weight, Thaler and Ravishankar 1996), weighted.
//!
//! Every shard scores the key; the highest score wins. Removing a shard moves only its keys;
//! adding one moves only the keys it now wins, about `w / W` of them. Lookup costs one score
//! per shard, `O(n)`: the right choice for tens of shards, the wrong one for thousands.
//!
//! # Scores
//! The score of key hash `h` on shard `s` is `mix64(h ^ seed(s))`, a fixed integer function.
//! When all weights are equal the highest raw score wins (integer only). With unequal weights
//! the logarithmic method applies: `u = score / 2^64` in `(0, 1)` and the winner maximises
//! `w / -ln(u)`, which gives each shard a share exactly proportional to its weight.

use crate::{HashSharder, ShardId, ShardingError, WeightedShard, hash::mix64, hash::shard_seed};

#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    id: ShardId,
    seed: u64,
    weight: f64,
}

/// Weighted rendezvous hashing.
///
/// ```
/// use keel_sharding::{Rendezvous, Sharder, ShardId, WeightedShard};
/// let r = Rendezvous::weighted([WeightedShard::new(1, 1), WeightedShard::new(2, 3)])?;
/// let s = r.shard("user:42");
/// assert!(s == ShardId(1) || s == ShardId(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Rendezvous {
    entries: Vec<Entry>,
    uniform: bool,
}

impl Rendezvous {
    /// Equally weighted shards.
    pub fn new(shards: impl IntoIterator<Item = ShardId>) -> Result<Self, ShardingError> {
        Self::weighted(shards.into_iter().map(|id| WeightedShard::new(id, 1)))
    }

    /// Weighted shards: each gets a share of keys proportional to its weight.
    pub fn weighted(
        shards: impl IntoIterator<Item = WeightedShard>,
    ) -> Result<Self, ShardingError> {
        let shards = crate::sharder::validate_shards(shards)?;
        let mut r = Rendezvous {
            entries: Vec::with_capacity(shards.len()),
            uniform: true,
        };
        for s in shards {
            r.entries.push(entry(s));
        }
        r.refresh_uniform();
        Ok(r)
    }

    fn refresh_uniform(&mut self) {
        let first = self.entries.first().map(|e| e.weight);
        self.uniform = self.entries.iter().all(|e| Some(e.weight) == first);
    }

    /// The number of shards.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always `false`: the last shard cannot be removed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a shard; only the keys it wins move to it.
    pub fn add_shard(&mut self, shard: WeightedShard) -> Result<(), ShardingError> {
        if self.entries.iter().any(|e| e.id == shard.id) {
            return Err(ShardingError::DuplicateShard(shard.id));
        }
        if shard.weight == 0 {
            return Err(ShardingError::ZeroWeight(shard.id));
        }
        self.entries.push(entry(shard));
        self.refresh_uniform();
        Ok(())
    }

    /// Removes a shard; only its keys move.
    pub fn remove_shard(&mut self, id: ShardId) -> Result<(), ShardingError> {
        let Some(pos) = self.entries.iter().position(|e| e.id == id) else {
            return Err(ShardingError::UnknownShard(id));
        };
        if self.entries.len() == 1 {
            return Err(ShardingError::LastShard(id));
        }
        self.entries.remove(pos);
        self.refresh_uniform();
        Ok(())
    }

    /// The `k` highest-scoring distinct shards for a key hash, best first (replica sets).
    pub fn top_k_for_hash(&self, hash: u64, k: usize) -> Vec<ShardId> {
        let mut scored: Vec<(f64, u64, ShardId)> = self
            .entries
            .iter()
            .map(|e| {
                let raw = mix64(hash ^ e.seed);
                (self.weighted_score(raw, e.weight), raw, e.id)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        scored.into_iter().take(k).map(|(_, _, id)| id).collect()
    }

    /// Heap memory used, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.entries.capacity() * size_of::<Entry>()
    }

    #[inline]
    fn weighted_score(&self, raw: u64, weight: f64) -> f64 {
        if self.uniform {
            return raw as f64;
        }
        // u in (0, 1): 53 random bits, offset by half a step so it is never 0 or 1.
        let u = ((raw >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        weight / -u.ln()
    }
}

fn entry(s: WeightedShard) -> Entry {
    Entry {
        id: s.id,
        seed: shard_seed(s.id.0),
        weight: f64::from(s.weight),
    }
}

impl HashSharder for Rendezvous {
    #[inline]
    fn shard_for_hash(&self, hash: u64) -> ShardId {
        let Some(first) = self.entries.first() else {
            return ShardId(0);
        };
        let mut best = first.id;
        if self.uniform {
            let mut top = mix64(hash ^ first.seed);
            for e in self.entries.iter().skip(1) {
                let s = mix64(hash ^ e.seed);
                // Ties (probability 2^-64) go to the lower id, so the order of shards is moot.
                if s > top || (s == top && e.id < best) {
                    top = s;
                    best = e.id;
                }
            }
            return best;
        }
        let mut top = self.weighted_score(mix64(hash ^ first.seed), first.weight);
        for e in self.entries.iter().skip(1) {
            let s = self.weighted_score(mix64(hash ^ e.seed), e.weight);
            if s > top || (s == top && e.id < best) {
                top = s;
                best = e.id;
            }
        }
        best
    }
}
