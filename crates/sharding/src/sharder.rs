//! [`ShardId`] and the [`Sharder`] trait every strategy implements.

use crate::hash::ShardKey;

/// The id of a shard (a database, a node, a bucket).
///
/// Ids are chosen by you and need not be dense, except for the bucket-numbered strategies
/// ([`HashMod`](crate::HashMod), [`Jump`](crate::Jump), [`Memento`](crate::Memento)), whose
/// shards are the buckets `0..n`. Hash-derived placement depends on the id, never on its
/// position in a list, so adding a shard leaves every other shard's keys where they were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct ShardId(pub u32);

impl std::fmt::Display for ShardId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl From<u32> for ShardId {
    fn from(value: u32) -> Self {
        ShardId(value)
    }
}

/// Maps a key to the shard that holds it.
///
/// Every strategy implements it: the hash-based ones for every [`ShardKey`] (through
/// [`HashSharder`]), range sharding for its ordered key type, the directory for its key type.
pub trait Sharder<K: ?Sized> {
    /// The shard that holds `key`.
    fn shard(&self, key: &K) -> ShardId;
}

/// A strategy that places a key by its stable hash alone.
///
/// Implementing it gives [`Sharder`] for every [`ShardKey`].
pub trait HashSharder {
    /// The shard for a key whose stable hash is `hash`.
    fn shard_for_hash(&self, hash: u64) -> ShardId;
}

impl<K: ShardKey + ?Sized, S: HashSharder> Sharder<K> for S {
    #[inline]
    fn shard(&self, key: &K) -> ShardId {
        self.shard_for_hash(key.shard_hash())
    }
}

/// A shard and its relative weight (share of keys proportional to the weight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WeightedShard {
    /// The shard.
    pub id: ShardId,
    /// Its weight, at least 1 (1 when omitted in a config file).
    #[cfg_attr(feature = "serde", serde(default = "one"))]
    pub weight: u32,
}

#[cfg(feature = "serde")]
fn one() -> u32 {
    1
}

impl WeightedShard {
    /// A shard of weight `weight`.
    pub fn new(id: impl Into<ShardId>, weight: u32) -> Self {
        WeightedShard {
            id: id.into(),
            weight,
        }
    }
}

/// Checks a shard list: non-empty, no duplicate ids, no zero weight.
pub(crate) fn validate_shards(
    shards: impl IntoIterator<Item = WeightedShard>,
) -> Result<Vec<WeightedShard>, crate::ShardingError> {
    let shards: Vec<WeightedShard> = shards.into_iter().collect();
    if shards.is_empty() {
        return Err(crate::ShardingError::EmptyTopology);
    }
    let mut seen: Vec<ShardId> = shards.iter().map(|s| s.id).collect();
    seen.sort_unstable();
    if let Some(w) = seen.windows(2).find(|w| w.first() == w.get(1))
        && let Some(&id) = w.first()
    {
        return Err(crate::ShardingError::DuplicateShard(id));
    }
    if let Some(s) = shards.iter().find(|s| s.weight == 0) {
        return Err(crate::ShardingError::ZeroWeight(s.id));
    }
    Ok(shards)
}

impl<T: HashSharder + ?Sized> HashSharder for Box<T> {
    #[inline]
    fn shard_for_hash(&self, hash: u64) -> ShardId {
        (**self).shard_for_hash(hash)
    }
}

impl<T: HashSharder + ?Sized> HashSharder for std::sync::Arc<T> {
    #[inline]
    fn shard_for_hash(&self, hash: u64) -> ShardId {
        (**self).shard_for_hash(hash)
    }
}

impl<T: HashSharder + ?Sized> HashSharder for &T {
    #[inline]
    fn shard_for_hash(&self, hash: u64) -> ShardId {
        (**self).shard_for_hash(hash)
    }
}
