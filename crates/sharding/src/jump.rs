//! Jump consistent hash (Lamping and Veach, 2014).
//!
//! No memory, perfectly balanced, and `n -> n + 1` moves exactly the `1 / (n + 1)` of keys
//! that the new bucket takes. Its limits: buckets are numbered `0..n` and only the **last**
//! bucket can be removed (use [`Memento`](crate::Memento) when any shard may leave), and the
//! lookup loop runs `O(ln n)` steps, so it slows down slowly as `n` grows.

use crate::{HashSharder, ShardId, ShardingError};

/// The jump consistent hash of a 64-bit key hash into `0..buckets` (`buckets >= 1`).
///
/// The reference algorithm of the paper, with its 64-bit linear congruential generator. Its
/// floating-point steps are exact IEEE-754 operations, so the result is the same everywhere.
/// Returns 0 when `buckets` is 0.
#[inline]
pub fn jump_hash(mut key: u64, buckets: u32) -> u32 {
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    let n = i64::from(buckets);
    while j < n {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b.max(0) as u32
}

/// Jump consistent hash over the buckets `0..n` (shard ids `0..n`).
///
/// ```
/// use keel_sharding::{Jump, Sharder};
/// let mut s = Jump::new(10)?;
/// let before = s.shard("user:42");
/// s.add_bucket();
/// let after = s.shard("user:42");
/// assert!(after == before || after.0 == 10); // a key only ever moves to the new bucket
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jump {
    n: u32,
}

impl Jump {
    /// `n` buckets. Fails on `n == 0`.
    pub fn new(n: u32) -> Result<Self, ShardingError> {
        if n == 0 {
            return Err(ShardingError::EmptyTopology);
        }
        Ok(Jump { n })
    }

    /// The number of buckets.
    pub fn len(&self) -> u32 {
        self.n
    }

    /// Always `false`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Adds bucket `n` and returns its id.
    pub fn add_bucket(&mut self) -> ShardId {
        let id = ShardId(self.n);
        self.n = self.n.saturating_add(1);
        id
    }

    /// Removes the last bucket (the only one jump can remove). Fails when it is the only one.
    pub fn remove_last_bucket(&mut self) -> Result<ShardId, ShardingError> {
        if self.n <= 1 {
            return Err(ShardingError::LastShard(ShardId(0)));
        }
        self.n -= 1;
        Ok(ShardId(self.n))
    }

    /// Heap memory used, in bytes (none).
    pub fn memory_bytes(&self) -> usize {
        0
    }
}

impl HashSharder for Jump {
    #[inline]
    fn shard_for_hash(&self, hash: u64) -> ShardId {
        ShardId(jump_hash(hash, self.n))
    }
}
