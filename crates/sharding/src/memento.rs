//! MementoHash (Coluzzi, Brocco, Antonucci and Leidi, 2023): jump hash where any bucket can
//! leave.
//!
//! Jump can only drop its last bucket. Memento keeps jump's balance and speed, and remembers
//! each removed bucket in a small table: `removed bucket -> (replacer, previously removed)`.
//! A key that jump sends to a removed bucket is rehashed into the buckets that were still
//! working when that bucket left, following replacers until it lands on a working bucket.
//! Removing a bucket moves only that bucket's keys; adding one back (buckets return in the
//! reverse order of removal, then new ones at the end) moves only the keys it takes.
//! With none removed, a lookup is exactly a jump lookup.
//!
//! The paper keeps the removal table in a hash map (`O(removed)` memory). Here it is a dense
//! array, 8 bytes per bucket ever created, so a lookup reads one array slot instead of hashing
//! into a map: 8 KB for 1,000 buckets, and faster lookups.

use crate::{HashSharder, ShardId, ShardingError, hash::mix64, jump::jump_hash};

/// `replacer` value of a working bucket.
const WORKING: u32 = u32::MAX;
const WORKING_ENTRY: Removal = Removal {
    replacer: WORKING,
    prev_removed: WORKING,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Removal {
    /// The number of working buckets right after this one was removed, or [`WORKING`].
    replacer: u32,
    /// The bucket removed before this one (the next to restore after it).
    prev_removed: u32,
}

/// MementoHash over bucket ids `0..n`, any of which can be removed and later restored.
///
/// ```
/// use keel_sharding::{Memento, Sharder, ShardId};
/// let mut m = Memento::new(5)?;
/// m.remove_bucket(ShardId(2))?;          // not the last one: jump could not do this
/// assert_ne!(m.shard("user:42"), ShardId(2));
/// assert_eq!(m.add_bucket(), ShardId(2)); // restores the most recently removed bucket
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memento {
    /// One past the highest bucket id ever in use (jump's bucket count).
    size: u32,
    /// One entry per bucket below `size`; removed ones have a replacer.
    table: Vec<Removal>,
    /// How many buckets below `size` are removed.
    removed: u32,
    /// The most recently removed bucket, or `size` when none is pending restore.
    last_removed: u32,
}

impl Memento {
    /// The largest number of buckets (the removal table takes 8 bytes per bucket).
    pub const MAX_BUCKETS: u32 = 1 << 22;

    /// `n` working buckets `0..n`. Fails on `n == 0` or `n` above [`Memento::MAX_BUCKETS`].
    pub fn new(n: u32) -> Result<Self, ShardingError> {
        if n == 0 {
            return Err(ShardingError::EmptyTopology);
        }
        if n > Self::MAX_BUCKETS {
            return Err(ShardingError::InvalidParameter {
                name: "buckets",
                reason: format!("got {n}; use at most {} buckets", Self::MAX_BUCKETS),
            });
        }
        Ok(Memento {
            size: n,
            table: vec![WORKING_ENTRY; n as usize],
            removed: 0,
            last_removed: n,
        })
    }

    /// The number of working buckets.
    pub fn len(&self) -> u32 {
        self.size - self.removed
    }

    /// Always `false`: the last bucket cannot be removed.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether `bucket` is a working bucket.
    pub fn contains(&self, bucket: ShardId) -> bool {
        bucket.0 < self.size && self.replacer(bucket.0).is_none()
    }

    /// The working buckets, in increasing order.
    pub fn buckets(&self) -> Vec<ShardId> {
        (0..self.size)
            .filter(|&b| self.replacer(b).is_none())
            .map(ShardId)
            .collect()
    }

    /// Removes any working bucket; only its keys move. Fails when the bucket is not working
    /// or is the last one.
    pub fn remove_bucket(&mut self, bucket: ShardId) -> Result<(), ShardingError> {
        if !self.contains(bucket) {
            return Err(ShardingError::UnknownShard(bucket));
        }
        if self.len() == 1 {
            return Err(ShardingError::LastShard(bucket));
        }
        let b = bucket.0;
        if self.removed == 0 && b + 1 == self.size {
            // The plain jump case: shrink.
            self.size = b;
            self.table.truncate(b as usize);
            self.last_removed = b;
            return Ok(());
        }
        let replacer = self.len() - 1;
        if let Some(e) = self.table.get_mut(b as usize) {
            *e = Removal {
                replacer,
                prev_removed: self.last_removed,
            };
            self.removed += 1;
        }
        self.last_removed = b;
        Ok(())
    }

    /// Adds a bucket: the most recently removed one if any, else a new one at the end.
    /// Returns its id. Only the keys it takes move.
    /// At [`Memento::MAX_BUCKETS`] buckets with none removed, the bucket count stays put and
    /// the returned bucket is the last one, already working.
    pub fn add_bucket(&mut self) -> ShardId {
        if self.removed == 0 && self.size >= Self::MAX_BUCKETS {
            return ShardId(self.size - 1);
        }
        let bucket = self.last_removed;
        let restored = match self.table.get_mut(bucket as usize) {
            Some(e) if e.replacer != WORKING => {
                let prev = e.prev_removed;
                *e = WORKING_ENTRY;
                Some(prev)
            }
            _ => None,
        };
        self.last_removed = match restored {
            Some(prev) => {
                self.removed -= 1;
                prev
            }
            None => bucket.saturating_add(1),
        };
        if self.size <= bucket {
            self.size = bucket.saturating_add(1);
            self.table.resize(self.size as usize, WORKING_ENTRY);
        }
        ShardId(bucket)
    }

    /// Heap memory used, in bytes (the removal table).
    pub fn memory_bytes(&self) -> usize {
        self.table.capacity() * size_of::<Removal>()
    }

    #[inline]
    fn replacer(&self, bucket: u32) -> Option<u32> {
        match self.table.get(bucket as usize) {
            Some(e) if e.replacer != WORKING => Some(e.replacer),
            _ => None,
        }
    }
}

impl HashSharder for Memento {
    #[inline]
    fn shard_for_hash(&self, hash: u64) -> ShardId {
        let mut b = jump_hash(hash, self.size);
        if self.removed == 0 {
            return ShardId(b);
        }
        let mut r = self.replacer(b);
        while let Some(w) = r {
            // Rehash into the buckets 0..w that were working when `b` left.
            let h = mix64(hash ^ mix64(u64::from(b) + 1));
            let mut d = (h % u64::from(w.max(1))) as u32;
            // Follow buckets removed later than `b` (their replacer is >= w).
            while let Some(u) = self.replacer(d) {
                if u < w {
                    break;
                }
                d = u;
            }
            b = d;
            r = self.replacer(b);
        }
        ShardId(b)
    }
}
