//! Rebalance plans: given an old and a new topology, what moves where.
//!
//! - Range sharding: [`range_plan`] lists the key ranges whose shard changes, exactly.
//! - Directory: [`directory_plan`] lists the keys whose shard changes (explicit entries, each
//!   resolved through its directory's fallback when absent on one side).
//! - Hash-based strategies: [`key_move`] says whether one key moves, and [`MoveSummary`]
//!   summarises a key sample (fraction moved, flows between shards).

use std::{collections::BTreeMap, hash::Hash};

use crate::{Directory, KeyRange, RangeSharder, ShardId, Sharder};

/// One key's move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Move {
    /// Where the key is now.
    pub from: ShardId,
    /// Where it must go.
    pub to: ShardId,
}

/// Whether `key` moves from `old` to `new`, and where.
pub fn key_move<K: ?Sized>(old: &impl Sharder<K>, new: &impl Sharder<K>, key: &K) -> Option<Move> {
    let (from, to) = (old.shard(key), new.shard(key));
    (from != to).then_some(Move { from, to })
}

/// What a topology change does to a sample of keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveSummary {
    /// Keys examined.
    pub sampled: u64,
    /// Keys whose shard changes.
    pub moved: u64,
    /// Keys moved, by `(from, to)`.
    pub flows: BTreeMap<(ShardId, ShardId), u64>,
}

impl MoveSummary {
    /// Compares `old` and `new` over `keys`.
    ///
    /// ```
    /// use keel_sharding::{Jump, MoveSummary};
    /// let keys: Vec<u64> = (0..10_000).collect();
    /// let s = MoveSummary::sample(&Jump::new(10)?, &Jump::new(11)?, keys.iter());
    /// assert!((s.moved_fraction() - 1.0 / 11.0).abs() < 0.02);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sample<'k, K: ?Sized + 'k>(
        old: &impl Sharder<K>,
        new: &impl Sharder<K>,
        keys: impl IntoIterator<Item = &'k K>,
    ) -> Self {
        let mut s = MoveSummary::default();
        for k in keys {
            s.sampled += 1;
            if let Some(m) = key_move(old, new, k) {
                s.moved += 1;
                *s.flows.entry((m.from, m.to)).or_insert(0) += 1;
            }
        }
        s
    }

    /// `moved / sampled` (0 for an empty sample).
    pub fn moved_fraction(&self) -> f64 {
        if self.sampled == 0 {
            0.0
        } else {
            self.moved as f64 / self.sampled as f64
        }
    }

    /// Keys moved into `shard`.
    pub fn moved_into(&self, shard: ShardId) -> u64 {
        self.flows
            .iter()
            .filter(|((_, to), _)| *to == shard)
            .map(|(_, n)| n)
            .sum()
    }
}

/// A key range that changes shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeMove<K> {
    /// The keys that move (`start <= key < end`, `None` unbounded).
    pub range: KeyRange<K>,
    /// The shard that holds them now (`range.shard` is the new one).
    pub from: ShardId,
}

/// The exact key ranges that change shard between two range topologies, in key order,
/// adjacent pieces with the same move joined.
///
/// ```
/// use keel_sharding::{RangeSharder, ShardId, range_plan};
/// let old = RangeSharder::new(ShardId(0));
/// let mut new = old.clone();
/// new.split(100u64, ShardId(1))?;
/// let plan = range_plan(&old, &new);
/// assert_eq!(plan.len(), 1);
/// assert_eq!((plan[0].range.start, plan[0].range.end, plan[0].from, plan[0].range.shard),
///            (Some(100), None, ShardId(0), ShardId(1)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn range_plan<K: Ord + Clone>(
    old: &RangeSharder<K>,
    new: &RangeSharder<K>,
) -> Vec<RangeMove<K>> {
    // Pieces between the union of split points; each has one owner on each side.
    let mut bounds: Vec<K> = old.splits().iter().chain(new.splits()).cloned().collect();
    bounds.sort();
    bounds.dedup();
    let mut out: Vec<RangeMove<K>> = Vec::new();
    for i in 0..=bounds.len() {
        let start = i.checked_sub(1).and_then(|p| bounds.get(p).cloned());
        let end = bounds.get(i).cloned();
        // The owner of a piece is the owner of its first key; for the unbounded first piece,
        // range 0 on each side.
        let (from, to) = match &start {
            Some(k) => (old.shard(k), new.shard(k)),
            None => (first_shard(old), first_shard(new)),
        };
        if from == to {
            continue;
        }
        if let Some(last) = out.last_mut()
            && last.from == from
            && last.range.shard == to
            && last.range.end == start
        {
            last.range.end = end;
            continue;
        }
        out.push(RangeMove {
            range: KeyRange {
                start,
                end,
                shard: to,
            },
            from,
        });
    }
    out
}

fn first_shard<K: Ord + Clone>(r: &RangeSharder<K>) -> ShardId {
    r.ranges().first().map_or(ShardId(0), |r| r.shard)
}

/// A directory key that changes shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryMove<K> {
    /// The key.
    pub key: K,
    /// Where it is now.
    pub from: ShardId,
    /// Where it must go.
    pub to: ShardId,
}

/// The keys (explicit in either directory) whose shard differs between `old` and `new`.
/// Keys in neither table follow the fallbacks; compare those with [`MoveSummary::sample`].
pub fn directory_plan<K, F1, F2>(
    old: &Directory<K, F1>,
    new: &Directory<K, F2>,
) -> Vec<EntryMove<K>>
where
    K: Hash + Eq + Clone + Ord,
    F1: Sharder<K>,
    F2: Sharder<K>,
{
    let mut keys: Vec<K> = old
        .entries()
        .into_iter()
        .chain(new.entries())
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let (from, to) = (old.shard(&key), new.shard(&key));
            (from != to).then_some(EntryMove { key, from, to })
        })
        .collect()
}
