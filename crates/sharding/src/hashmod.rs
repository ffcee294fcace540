//! Hash-mod sharding: `hash(key) % n`.
//!
//! # Resharding cost
//! Going from `n` to `n + 1` shards keeps a key in place only when `h % n == h % (n + 1)`,
//! which holds for about `1 / (n + 1)` of the keys: **nearly every key moves** (`n / (n + 1)`,
//! 91% at 10 shards, 99.9% at 1,000). Use it only when the shard count never changes, or when
//! a full reshuffle on resize is acceptable; otherwise use [`Jump`](crate::Jump),
//! [`Memento`](crate::Memento), [`Ring`](crate::Ring), [`Rendezvous`](crate::Rendezvous) or
//! [`Maglev`](crate::Maglev), which move about `1 / (n + 1)`.

use crate::{HashSharder, ShardId, ShardingError};

/// `hash(key) % n` over the buckets `0..n` (shard ids `0..n`).
///
/// ```
/// use keel_sharding::{HashMod, Sharder, ShardId};
/// let s = HashMod::new(4)?;
/// assert!(s.shard("user:42").0 < 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashMod {
    n: u32,
}

impl HashMod {
    /// `n` buckets. Fails on `n == 0`.
    pub fn new(n: u32) -> Result<Self, ShardingError> {
        if n == 0 {
            return Err(ShardingError::EmptyTopology);
        }
        Ok(HashMod { n })
    }

    /// The number of buckets.
    pub fn len(&self) -> u32 {
        self.n
    }

    /// Always `false`: a `HashMod` has at least one bucket.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Heap memory used, in bytes (none).
    pub fn memory_bytes(&self) -> usize {
        0
    }
}

impl HashSharder for HashMod {
    #[inline]
    fn shard_for_hash(&self, hash: u64) -> ShardId {
        ShardId((hash % u64::from(self.n)) as u32)
    }
}
