//! Maglev hashing (Eisenbud et al., NSDI 2016): a lookup table filled from per-shard
//! permutations.
//!
//! Each shard `s` has a permutation of the table slots given by `offset(s)` and `skip(s)`;
//! shards take turns claiming their next free preferred slot until the table is full, so every
//! shard owns within one slot of `M / n` entries (weighted: proportional to its weight). A
//! lookup is one table read. A membership change rebuilds the table, and moves slightly more
//! than the ideal `1 / (n + 1)` of keys; a table of about 100+ slots per shard keeps that extra
//! small.
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
        let m = next_prime(wanted.max(total_weight).max(2));
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
    let perms: Vec<(u64, u64)> = order
        .iter()
        .map(|s| {
            let seed = shard_seed(s.id.0);
            let offset = mix64(seed ^ 0x6f66_6673_6574) % m; // "offset"
            let skip = mix64(seed ^ 0x736b_6970) % (m - 1) + 1; // "skip"
            (offset, skip)
        })
        .collect();
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
