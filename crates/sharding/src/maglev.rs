//! Maglev hashing (Eisenbud et al., NSDI 2016): a lookup table filled from per-shard
//! permutations.
//!
//! Each shard `s` has a permutation of the table slots given by `offset(s)` and `skip(s)`;
//! shards take turns claiming their next free preferred slot until the table is full, so every
//! shard owns within one slot of `M / n` entries (weighted: proportional to its weight). A
//! lookup is one table read.
//!
//! # Two ways to change membership
//! - [`Maglev::add_shard`] / [`Maglev::remove_shard`] rebuild the table from the shard list,
//!   as in the paper: the table is a pure function of the shards, so every process computes the
//!   same one. The price is extra churn: keys also move between old shards. Measured with
//!   `n -> n + 1`: 1.5x the ideal `1 / (n + 1)` at 100 shards with 655 slots per shard, 6x at
//!   1,000 shards with 128 slots per shard (more slots per shard, less churn).
//! - [`Maglev::add_shard_minimal`] / [`Maglev::remove_shard_minimal`] update the table in
//!   place: the new shard takes slots only from shards above their new quota, following its
//!   own permutation; a removed shard's slots go to shards below quota. Exactly the ideal keys
//!   move and every shard stays within one slot of its quota, but the table now depends on the
//!   order of changes: apply the same changes in the same order everywhere, or ship the table
//!   ([`Maglev::table`], [`Maglev::from_table`]).
//!
//! The table size `M` is a prime; by default the smallest prime at or above
//! `max(65_537, 128 * total weight)`.

use crate::{
    HashSharder, ShardId, ShardingError, WeightedShard,
    hash::{fast_range, mix64, shard_seed},
};

/// The largest supported table size.
pub const MAX_TABLE_SIZE: u64 = 1 << 26;

/// A Maglev lookup table.
///
/// ```
/// use keel_sharding::{Maglev, Sharder, ShardId};
/// let m = Maglev::new((0..10).map(ShardId))?;
/// assert!(m.shard("user:42").0 < 10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maglev {
    shards: Vec<WeightedShard>,
    table: Vec<u32>,
}

impl Maglev {
    /// Equally weighted shards, default table size.
    pub fn new(shards: impl IntoIterator<Item = ShardId>) -> Result<Self, ShardingError> {
        Self::weighted(shards.into_iter().map(|id| WeightedShard::new(id, 1)), None)
    }

    /// Weighted shards; `table_size` (rounded up to a prime) or the default.
    pub fn weighted(
        shards: impl IntoIterator<Item = WeightedShard>,
        table_size: Option<u64>,
    ) -> Result<Self, ShardingError> {
        let shards = crate::sharder::validate_shards(shards)?;
        let total_weight: u64 = shards.iter().map(|s| u64::from(s.weight)).sum();
        let wanted = table_size.unwrap_or_else(|| (128 * total_weight).max(65_537));
        let wanted = wanted.max(total_weight).max(2);
        // Checked before searching for a prime, so absurd sizes fail fast.
        let m = if wanted > MAX_TABLE_SIZE {
            wanted
        } else {
            next_prime(wanted)
        };
        if m > MAX_TABLE_SIZE {
            return Err(ShardingError::InvalidParameter {
                name: "table_size",
                reason: format!(
                    "the table would need {m} slots, above the limit of {MAX_TABLE_SIZE}; use \
                     fewer shards or smaller weights"
                ),
            });
        }
        let table = populate(&shards, m);
        Ok(Maglev { shards, table })
    }

    /// The shards.
    pub fn shards(&self) -> &[WeightedShard] {
        &self.shards
    }

    /// The number of shards.
    pub fn len(&self) -> usize {
        self.shards.len()
    }

    /// Always `false`.
    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// The table size `M` (a prime).
    pub fn table_size(&self) -> usize {
        self.table.len()
    }

    /// Heap memory used, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.table.capacity() * 4 + self.shards.capacity() * size_of::<WeightedShard>()
    }

    /// Adds a shard and rebuilds the table (same table size).
    pub fn add_shard(&mut self, shard: WeightedShard) -> Result<(), ShardingError> {
        if self.shards.iter().any(|s| s.id == shard.id) {
            return Err(ShardingError::DuplicateShard(shard.id));
        }
        if shard.weight == 0 {
            return Err(ShardingError::ZeroWeight(shard.id));
        }
        let mut shards = self.shards.clone();
        shards.push(shard);
        *self = Maglev::weighted(shards, Some(self.table.len() as u64))?;
        Ok(())
    }

    /// Removes a shard and rebuilds the table (same table size).
    pub fn remove_shard(&mut self, id: ShardId) -> Result<(), ShardingError> {
        if !self.shards.iter().any(|s| s.id == id) {
            return Err(ShardingError::UnknownShard(id));
        }
        if self.shards.len() == 1 {
            return Err(ShardingError::LastShard(id));
        }
        let shards: Vec<WeightedShard> =
            self.shards.iter().copied().filter(|s| s.id != id).collect();
        *self = Maglev::weighted(shards, Some(self.table.len() as u64))?;
        Ok(())
    }

    /// The lookup table: slot to shard id.
    pub fn table(&self) -> &[u32] {
        &self.table
    }

    /// A Maglev from a table shipped by another process (see [`Maglev::table`]). Every slot
    /// must name one of `shards`, and the table size must be a prime.
    pub fn from_table(
        shards: impl IntoIterator<Item = WeightedShard>,
        table: Vec<u32>,
    ) -> Result<Self, ShardingError> {
        let shards = crate::sharder::validate_shards(shards)?;
        if table.len() < 2 || !is_prime(table.len() as u64) {
            return Err(ShardingError::InvalidParameter {
                name: "table",
                reason: format!(
                    "the table has {} slots; a Maglev table has a prime number of slots",
                    table.len()
                ),
            });
        }
        if let Some(&bad) = table.iter().find(|&&t| !shards.iter().any(|s| s.id.0 == t)) {
            return Err(ShardingError::UnknownShard(ShardId(bad)));
        }
        Ok(Maglev { shards, table })
    }

    fn quota_floor(&self, weight: u32, total_weight: u64) -> u64 {
        self.table.len() as u64 * u64::from(weight) / total_weight.max(1)
    }

    fn counts(&self) -> std::collections::HashMap<u32, u64> {
        let mut c: std::collections::HashMap<u32, u64> =
            self.shards.iter().map(|s| (s.id.0, 0)).collect();
        for &t in &self.table {
            if let Some(n) = c.get_mut(&t) {
                *n += 1;
            }
        }
        c
    }

    /// Adds a shard by updating the table in place: it takes slots, in its permutation
    /// order, only from shards holding more than their new quota, so keys move only to it.
    /// See the module docs for the history dependence this brings.
    pub fn add_shard_minimal(&mut self, shard: WeightedShard) -> Result<(), ShardingError> {
        if self.shards.iter().any(|s| s.id == shard.id) {
            return Err(ShardingError::DuplicateShard(shard.id));
        }
        if shard.weight == 0 {
            return Err(ShardingError::ZeroWeight(shard.id));
        }
        self.shards.push(shard);
        let total: u64 = self.shards.iter().map(|s| u64::from(s.weight)).sum();
        let floors: std::collections::HashMap<u32, u64> = self
            .shards
            .iter()
            .map(|s| (s.id.0, self.quota_floor(s.weight, total)))
            .collect();
        let mut counts = self.counts();
        let target = floors.get(&shard.id.0).copied().unwrap_or(0);
        let m = self.table.len() as u64;
        let (offset, skip) = permutation(shard.id.0, m);
        let mut taken = 0u64;
        for j in 0..m {
            if taken >= target {
                break;
            }
            let slot = ((offset + j * skip) % m) as usize;
            let Some(owner) = self.table.get_mut(slot) else {
                continue;
            };
            let over = match (counts.get(owner), floors.get(owner)) {
                (Some(&c), Some(&f)) => c > f && *owner != shard.id.0,
                _ => false,
            };
            if over {
                if let Some(c) = counts.get_mut(owner) {
                    *c -= 1;
                }
                *owner = shard.id.0;
                taken += 1;
            }
        }
        Ok(())
    }

    /// Removes a shard by updating the table in place: only its slots change hands, each going
    /// to a shard below its new quota (shards take turns, each by its own permutation). See
    /// the module docs for the history dependence this brings.
    pub fn remove_shard_minimal(&mut self, id: ShardId) -> Result<(), ShardingError> {
        if !self.shards.iter().any(|s| s.id == id) {
            return Err(ShardingError::UnknownShard(id));
        }
        if self.shards.len() == 1 {
            return Err(ShardingError::LastShard(id));
        }
        self.shards.retain(|s| s.id != id);
        let m = self.table.len() as u64;
        let mut free: Vec<bool> = self.table.iter().map(|&t| t == id.0).collect();
        let mut left = free.iter().filter(|&&f| f).count();
        let total: u64 = self.shards.iter().map(|s| u64::from(s.weight)).sum();
        let mut order = self.shards.clone();
        order.sort_unstable_by_key(|s| s.id);
        let counts = self.counts();
        // Each shard may grow to the ceiling of its quota; the ceilings sum to at least M.
        let mut room: Vec<u64> = order
            .iter()
            .map(|s| {
                let ceil = (m * u64::from(s.weight)).div_ceil(total.max(1));
                ceil.saturating_sub(counts.get(&s.id.0).copied().unwrap_or(0))
            })
            .collect();
        let perms: Vec<(u64, u64)> = order.iter().map(|s| permutation(s.id.0, m)).collect();
        let mut next = vec![0u64; order.len()];
        while left > 0 {
            let mut progressed = false;
            for (i, s) in order.iter().enumerate() {
                if left == 0 {
                    break;
                }
                let (Some(r), Some(&(offset, skip)), Some(n)) =
                    (room.get_mut(i), perms.get(i), next.get_mut(i))
                else {
                    continue;
                };
                if *r == 0 {
                    continue;
                }
                while *n < m {
                    let slot = ((offset + *n * skip) % m) as usize;
                    *n += 1;
                    if let Some(f) = free.get_mut(slot)
                        && *f
                    {
                        *f = false;
                        if let Some(t) = self.table.get_mut(slot) {
                            *t = s.id.0;
                        }
                        *r -= 1;
                        left -= 1;
                        progressed = true;
                        break;
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        // Unreachable while the ceilings cover M, but never leave a slot on a removed shard.
        if left > 0
            && let Some(fallback) = order.first()
        {
            for (t, f) in self.table.iter_mut().zip(&free) {
                if *f {
                    *t = fallback.id.0;
                }
            }
        }
        Ok(())
    }
}

impl HashSharder for Maglev {
    #[inline]
    fn shard_for_hash(&self, hash: u64) -> ShardId {
        let slot = fast_range(hash, self.table.len() as u64) as usize;
        ShardId(self.table.get(slot).copied().unwrap_or_default())
    }
}

/// Fills the table: shards take turns (a shard of weight `w` takes `w` turns per round)
/// claiming the next free slot of their permutation.
fn populate(shards: &[WeightedShard], m: u64) -> Vec<u32> {
    const EMPTY: u32 = u32::MAX;
    // Sort by id so the table does not depend on the order the shards were listed in.
    let mut order: Vec<WeightedShard> = shards.to_vec();
    order.sort_unstable_by_key(|s| s.id);
    let perms: Vec<(u64, u64)> = order.iter().map(|s| permutation(s.id.0, m)).collect();
    let mut next = vec![0u64; order.len()];
    let mut table = vec![EMPTY; m as usize];
    // Slot ids are stored as shard ids; EMPTY is never a valid "filled" marker because
    // filled counts are tracked separately.
    let mut filled_flags = vec![false; m as usize];
    let mut filled = 0u64;
    'outer: loop {
        for (i, s) in order.iter().enumerate() {
            let (Some(&(offset, skip)), Some(n)) = (perms.get(i), next.get_mut(i)) else {
                continue;
            };
            for _ in 0..s.weight {
                loop {
                    let slot = ((offset + *n % m * skip) % m) as usize;
                    *n += 1;
                    if let Some(f) = filled_flags.get_mut(slot)
                        && !*f
                    {
                        *f = true;
                        if let Some(t) = table.get_mut(slot) {
                            *t = s.id.0;
                        }
                        filled += 1;
                        break;
                    }
                }
                if filled >= m {
                    break 'outer;
                }
            }
        }
    }
    table
}

/// A shard's preference order over the `m` slots: `offset + j * skip (mod m)`.
fn permutation(shard: u32, m: u64) -> (u64, u64) {
    let seed = shard_seed(shard);
    let offset = mix64(seed ^ 0x6f66_6673_6574) % m; // "offset"
    let skip = mix64(seed ^ 0x736b_6970) % (m - 1).max(1) + 1; // "skip"
    (offset, skip)
}

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n.is_multiple_of(2) {
        return n == 2;
    }
    let mut d = 3u64;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 2;
    }
    true
}

/// The smallest prime at or above `n`.
pub(crate) fn next_prime(n: u64) -> u64 {
    let mut c = n.max(2);
    while !is_prime(c) {
        c += 1;
    }
    c
}
