//! Range sharding: sorted split points, each range on one shard.
//!
//! Keys keep their order, so a key range maps to the few shards it touches (range queries and
//! time-ordered scans stay local). Ranges split (a hot or large range gives its upper part to
//! another shard) and merge (two neighbours become one). Placement is by the key's order, not
//! its hash, so no stable hash is involved.

use std::ops::{Bound, RangeBounds};

use crate::{ShardId, Sharder, ShardingError};

/// One range of keys and its shard: `start <= key < end`, `None` meaning unbounded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KeyRange<K> {
    /// First key of the range (inclusive), `None` for the smallest key.
    pub start: Option<K>,
    /// End of the range (exclusive), `None` for past the largest key.
    pub end: Option<K>,
    /// The shard that holds it.
    pub shard: ShardId,
}

/// Range sharding over an ordered key type.
///
/// ```
/// use keel_sharding::{RangeSharder, Sharder, ShardId};
/// let mut r = RangeSharder::new(ShardId(0));        // one range: every key on shard 0
/// r.split("m".to_owned(), ShardId(1))?;             // keys >= "m" now on shard 1
/// assert_eq!(r.shard(&"apple".to_owned()), ShardId(0));
/// assert_eq!(r.shard(&"zebra".to_owned()), ShardId(1));
/// let touched = r.shards_for_range("k".to_owned().."p".to_owned());
/// assert_eq!(touched, vec![ShardId(0), ShardId(1)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeSharder<K> {
    /// Strictly increasing split points; range `i` is `[splits[i-1], splits[i])`.
    splits: Vec<K>,
    /// One shard per range: `splits.len() + 1` entries.
    shards: Vec<ShardId>,
}

impl<K: Ord + Clone> RangeSharder<K> {
    /// Every key on one shard.
    pub fn new(shard: ShardId) -> Self {
        RangeSharder {
            splits: Vec::new(),
            shards: vec![shard],
        }
    }

    /// Split points and the shard of each range (`shards.len() == splits.len() + 1`); the
    /// split points must be strictly increasing.
    pub fn from_splits(splits: Vec<K>, shards: Vec<ShardId>) -> Result<Self, ShardingError> {
        if shards.is_empty() {
            return Err(ShardingError::EmptyTopology);
        }
        if shards.len() != splits.len() + 1 {
            return Err(ShardingError::InvalidRangeChange(format!(
                "{} split points make {} ranges but {} shards were given; give one shard per \
                 range",
                splits.len(),
                splits.len() + 1,
                shards.len()
            )));
        }
        for (i, w) in splits.windows(2).enumerate() {
            if let [a, b] = w {
                if a == b {
                    return Err(ShardingError::OverlappingRanges {
                        index: i + 1,
                        previous: i,
                    });
                }
                if a > b {
                    return Err(ShardingError::InvalidRangeChange(format!(
                        "split point {} is smaller than split point {i}; sort the split points",
                        i + 1
                    )));
                }
            }
        }
        Ok(RangeSharder { splits, shards })
    }

    /// Builds from explicit ranges, which must cover every key exactly once, in order: the
    /// first starts unbounded, each starts where the previous ends, the last ends unbounded.
    pub fn from_ranges(ranges: &[KeyRange<K>]) -> Result<Self, ShardingError> {
        let Some(first) = ranges.first() else {
            return Err(ShardingError::EmptyTopology);
        };
        if first.start.is_some() {
            return Err(ShardingError::UncoveredRange(
                "the first range has a start key, so smaller keys have no shard",
            ));
        }
        let mut splits = Vec::with_capacity(ranges.len().saturating_sub(1));
        let mut shards = Vec::with_capacity(ranges.len());
        for (i, r) in ranges.iter().enumerate() {
            shards.push(r.shard);
            if let (Some(s), Some(e)) = (&r.start, &r.end)
                && s >= e
            {
                return Err(ShardingError::InvalidRangeChange(format!(
                    "range {i} is empty or reversed (start >= end); give it a start below its end"
                )));
            }
            if i == 0 {
                continue;
            }
            let Some(prev) = ranges.get(i - 1) else {
                continue;
            };
            match (&prev.end, &r.start) {
                (None, _) | (Some(_), None) => {
                    return Err(ShardingError::OverlappingRanges {
                        index: i,
                        previous: i - 1,
                    });
                }
                (Some(e), Some(s)) if s < e => {
                    return Err(ShardingError::OverlappingRanges {
                        index: i,
                        previous: i - 1,
                    });
                }
                (Some(e), Some(s)) if s > e => {
                    return Err(ShardingError::GappedRanges {
                        index: i,
                        previous: i - 1,
                    });
                }
                (Some(_), Some(s)) => splits.push(s.clone()),
            }
        }
        if ranges.last().is_some_and(|r| r.end.is_some()) {
            return Err(ShardingError::UncoveredRange(
                "the last range has an end key, so larger keys have no shard",
            ));
        }
        Ok(RangeSharder { splits, shards })
    }

    /// The ranges, in key order.
    pub fn ranges(&self) -> Vec<KeyRange<K>> {
        self.shards
            .iter()
            .enumerate()
            .map(|(i, &shard)| KeyRange {
                start: i.checked_sub(1).and_then(|p| self.splits.get(p).cloned()),
                end: self.splits.get(i).cloned(),
                shard,
            })
            .collect()
    }

    /// The number of ranges.
    pub fn len(&self) -> usize {
        self.shards.len()
    }

    /// Always `false`: there is always at least one range.
    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// The index of the range holding `key`.
    pub fn range_index(&self, key: &K) -> usize {
        self.splits.partition_point(|s| s <= key)
    }

    /// The range holding `key`.
    pub fn range_of(&self, key: &K) -> Option<KeyRange<K>> {
        self.ranges().into_iter().nth(self.range_index(key))
    }

    /// The distinct shards a key range touches, in key order (for range queries).
    pub fn shards_for_range(&self, range: impl RangeBounds<K>) -> Vec<ShardId> {
        let first = match range.start_bound() {
            Bound::Unbounded => 0,
            Bound::Included(k) | Bound::Excluded(k) => self.range_index(k),
        };
        let last = match range.end_bound() {
            Bound::Unbounded => self.shards.len().saturating_sub(1),
            Bound::Included(k) => self.range_index(k),
            // Keys below `k`: the range holding k only if k is not its first key.
            Bound::Excluded(k) => {
                let i = self.range_index(k);
                if i > 0 && self.splits.get(i - 1) == Some(k) {
                    i - 1
                } else {
                    i
                }
            }
        };
        let mut out: Vec<ShardId> = Vec::new();
        for s in self.shards.iter().take(last + 1).skip(first) {
            if !out.contains(s) {
                out.push(*s);
            }
        }
        out
    }

    /// Splits the range holding `at` in two: keys from `at` up to the range's end move to
    /// `shard`. Fails when `at` is already a split point.
    pub fn split(&mut self, at: K, shard: ShardId) -> Result<(), ShardingError> {
        let i = self.range_index(&at);
        if i > 0 && self.splits.get(i - 1) == Some(&at) {
            return Err(ShardingError::InvalidRangeChange(
                "that key already starts a range; to move the range, reassign it instead"
                    .to_owned(),
            ));
        }
        self.splits.insert(i, at);
        self.shards.insert(i + 1, shard);
        Ok(())
    }

    /// Merges range `index` with the range after it; the merged range stays on range
    /// `index`'s shard.
    pub fn merge(&mut self, index: usize) -> Result<(), ShardingError> {
        if index + 1 >= self.shards.len() {
            return Err(ShardingError::InvalidRangeChange(format!(
                "cannot merge range {index} with the next: there are {} ranges (indexes 0..{}); \
                 merge an index below the last",
                self.shards.len(),
                self.shards.len()
            )));
        }
        self.splits.remove(index);
        self.shards.remove(index + 1);
        Ok(())
    }

    /// Moves range `index` to `shard`.
    pub fn reassign(&mut self, index: usize, shard: ShardId) -> Result<(), ShardingError> {
        let len = self.shards.len();
        match self.shards.get_mut(index) {
            Some(s) => {
                *s = shard;
                Ok(())
            }
            None => Err(ShardingError::InvalidRangeChange(format!(
                "there is no range {index}; there are {len} ranges"
            ))),
        }
    }

    /// The split points.
    pub fn splits(&self) -> &[K] {
        &self.splits
    }
}

impl<K: Ord + Clone> Sharder<K> for RangeSharder<K> {
    fn shard(&self, key: &K) -> ShardId {
        let i = self.range_index(key);
        self.shards
            .get(i)
            .or_else(|| self.shards.last())
            .copied()
            .unwrap_or(ShardId(0))
    }
}
