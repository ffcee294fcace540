//! Remedies for hot spots: spread a hot key over `k` sub-keys, and split a hot range.
//!
//! A key too hot for one shard is written as one of `k` sub-keys (`key#0` .. `key#{k-1}`,
//! chosen by the caller's salt, e.g. a request id), which hash to different shards; a read
//! gathers all `k` sub-keys (with [`scatter`](crate::scatter) under feature `tokio`) and
//! merges. Writes spread `k` ways, reads cost `k` lookups.

use crate::{HashSharder, RangeSharder, ShardId, ShardingError, stable_hash};

/// Spreads hot keys over `fanout` sub-keys.
///
/// ```
/// use keel_sharding::{KeySpreader, Jump};
/// let spread = KeySpreader::new(4)?;
/// let jump = Jump::new(16)?;
/// let write_to = spread.write_key(b"celebrity:1", 12345); // one sub-key per write
/// assert!(write_to.starts_with(b"celebrity:1#"));
/// let reads = spread.read_plan(b"celebrity:1", &jump);   // every sub-key and its shard
/// assert_eq!(reads.len(), 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpreader {
    fanout: u32,
}

impl KeySpreader {
    /// Spread over `fanout` sub-keys (2 to 1024).
    pub fn new(fanout: u32) -> Result<Self, ShardingError> {
        if !(2..=1024).contains(&fanout) {
            return Err(ShardingError::InvalidParameter {
                name: "fanout",
                reason: format!("got {fanout}; spread over 2 to 1024 sub-keys"),
            });
        }
        Ok(KeySpreader { fanout })
    }

    /// The number of sub-keys.
    pub fn fanout(&self) -> u32 {
        self.fanout
    }

    /// Sub-key `i` of `key`: `key#i`.
    pub fn sub_key(&self, key: &[u8], i: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(key.len() + 5);
        out.extend_from_slice(key);
        out.push(b'#');
        out.extend_from_slice((i % self.fanout).to_string().as_bytes());
        out
    }

    /// The sub-key one write goes to, picked by `salt` (a request id, a counter).
    pub fn write_key(&self, key: &[u8], salt: u64) -> Vec<u8> {
        let i = (stable_hash(&salt.to_le_bytes()) % u64::from(self.fanout)) as u32;
        self.sub_key(key, i)
    }

    /// Every sub-key of `key` (what a read gathers).
    pub fn read_keys(&self, key: &[u8]) -> Vec<Vec<u8>> {
        (0..self.fanout).map(|i| self.sub_key(key, i)).collect()
    }

    /// Every sub-key of `key` with the shard that holds it.
    pub fn read_plan(&self, key: &[u8], sharder: &impl HashSharder) -> Vec<(Vec<u8>, ShardId)> {
        self.read_keys(key)
            .into_iter()
            .map(|k| {
                let s = sharder.shard_for_hash(stable_hash(&k));
                (k, s)
            })
            .collect()
    }

    /// The distinct shards a read of `key` touches.
    pub fn read_shards(&self, key: &[u8], sharder: &impl HashSharder) -> Vec<ShardId> {
        let mut out: Vec<ShardId> = Vec::new();
        for (_, s) in self.read_plan(key, sharder) {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }
}

/// Splits the range holding the accessed keys at their median, giving the upper half to
/// `new_shard`: half the traffic of a hot range moves. `accessed` is a sample of keys read or
/// written in the hot range (for example the top keys of a
/// [`HotKeyDetector`](crate::HotKeyDetector)). Returns the split point.
///
/// Fails when the sample is empty or when the median already starts a range (the range holds
/// a single hot key: spread it with [`KeySpreader`] instead).
pub fn split_hot_range<K: Ord + Clone>(
    ranges: &mut RangeSharder<K>,
    accessed: &[K],
    new_shard: ShardId,
) -> Result<K, ShardingError> {
    let mut sample: Vec<&K> = accessed.iter().collect();
    sample.sort();
    let Some(&median) = sample.get(sample.len() / 2) else {
        return Err(ShardingError::InvalidRangeChange(
            "no accessed keys given; pass a sample of the hot range's keys".to_owned(),
        ));
    };
    let at = median.clone();
    ranges.split(at.clone(), new_shard)?;
    Ok(at)
}
