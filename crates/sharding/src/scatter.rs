//! Scatter-gather across shards (feature `tokio`).
//!
//! [`scatter`] runs one async query per shard with a concurrency limit and a per-shard
//! timeout, and returns every answer together with every failure by shard: a failing or slow
//! shard is named in [`Gathered::failed`], never a silent gap. [`scatter_merge`] does the same
//! for queries that return rows sorted by a key, and merges them in order up to a limit, so a
//! cross-shard, time-ordered, paginated query is one call; the page says whether it is
//! complete.
//!
//! Timeouts use tokio's timer, so tests drive them with tokio's paused clock
//! (`#[tokio::test(start_paused = true)]`), never with real sleeps.

use std::{cmp::Ordering, collections::BinaryHeap, future::Future, time::Duration};

use futures_util::{StreamExt, stream};

use crate::{ShardId, ShardingError};

/// How to fan out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScatterConfig {
    /// At most this many shard queries run at once (at least 1).
    pub concurrency: usize,
    /// Each shard query fails as [`ShardFailure::TimedOut`] after this long.
    pub per_shard_timeout: Duration,
}

impl ScatterConfig {
    /// A configuration; fails on a concurrency of 0 or a zero timeout.
    pub fn new(concurrency: usize, per_shard_timeout: Duration) -> Result<Self, ShardingError> {
        if concurrency == 0 {
            return Err(ShardingError::InvalidParameter {
                name: "concurrency",
                reason: "use at least 1 concurrent shard query".to_owned(),
            });
        }
        if per_shard_timeout.is_zero() {
            return Err(ShardingError::InvalidParameter {
                name: "per_shard_timeout",
                reason: "use a timeout above zero (e.g. 500 ms)".to_owned(),
            });
        }
        Ok(ScatterConfig {
            concurrency,
            per_shard_timeout,
        })
    }
}

/// Why one shard has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardFailure<E> {
    /// The query returned an error.
    Failed(E),
    /// The query did not finish within the per-shard timeout.
    TimedOut,
}

/// Answers and failures, by shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gathered<T, E> {
    /// Shards that answered, in the order they were given.
    pub ok: Vec<(ShardId, T)>,
    /// Shards that did not, in the order they were given.
    pub failed: Vec<(ShardId, ShardFailure<E>)>,
}

impl<T, E> Gathered<T, E> {
    /// Whether every shard answered.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Runs `query` on every shard in `shards` (duplicates queried once).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use keel_sharding::{ScatterConfig, ShardId, scatter};
/// let cfg = ScatterConfig::new(8, Duration::from_millis(500))?;
/// let shards = [ShardId(0), ShardId(1), ShardId(2)];
/// let got = scatter(&shards, cfg, |s| async move {
///     if s == ShardId(1) { Err("connection refused") } else { Ok(s.0 * 10) }
/// }).await;
/// assert_eq!(got.ok, vec![(ShardId(0), 0), (ShardId(2), 20)]);
/// assert_eq!(got.failed.len(), 1); // shard 1 is named, not silently missing
/// # Ok(()) }
/// ```
pub async fn scatter<T, E, F, Fut>(
    shards: &[ShardId],
    config: ScatterConfig,
    query: F,
) -> Gathered<T, E>
where
    F: Fn(ShardId) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut unique: Vec<ShardId> = Vec::with_capacity(shards.len());
    for s in shards {
        if !unique.contains(s) {
            unique.push(*s);
        }
    }
    let timeout = config.per_shard_timeout;
    let query = &query;
    let mut results: Vec<(usize, ShardId, Result<T, ShardFailure<E>>)> =
        stream::iter(unique.iter().copied().enumerate())
            .map(|(i, s)| async move {
                let r = match tokio::time::timeout(timeout, query(s)).await {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(e)) => Err(ShardFailure::Failed(e)),
                    Err(_) => Err(ShardFailure::TimedOut),
                };
                (i, s, r)
            })
            .buffer_unordered(config.concurrency.max(1))
            .collect()
            .await;
    results.sort_by_key(|(i, _, _)| *i);
    let mut out = Gathered {
        ok: Vec::new(),
        failed: Vec::new(),
    };
    for (_, s, r) in results {
        match r {
            Ok(v) => out.ok.push((s, v)),
            Err(f) => out.failed.push((s, f)),
        }
    }
    out
}

/// One merged page of a cross-shard query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedPage<T, E> {
    /// Up to `limit` rows, in sort-key order, from every shard that answered.
    pub items: Vec<T>,
    /// Shards with no answer: when not empty, the page may miss rows from them.
    pub failed: Vec<(ShardId, ShardFailure<E>)>,
    /// Whether some shard may hold more rows after the last item (ask for the next page).
    pub has_more: bool,
}

impl<T, E> MergedPage<T, E> {
    /// Whether every shard answered (the page has no gap).
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

struct Head<T, S> {
    key: S,
    shard: usize,
    item: T,
}

impl<T, S: Ord> PartialEq for Head<T, S> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T, S: Ord> Eq for Head<T, S> {}
impl<T, S: Ord> PartialOrd for Head<T, S> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T, S: Ord> Ord for Head<T, S> {
    // Reversed: BinaryHeap is a max-heap and we pop the smallest key (ties by shard order).
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .key
            .cmp(&self.key)
            .then_with(|| other.shard.cmp(&self.shard))
    }
}

/// Runs a sorted, limited query on every shard and merges the rows in order of `sort_key`
/// (ascending; wrap the key in [`std::cmp::Reverse`] for newest-first), up to `limit`.
///
/// Each shard must return its rows sorted by the same key and at most `limit` of them (a
/// shard never needs more to fill one page). For the next page, query again with each shard
/// filtered to rows after the last item's key (keyset pagination).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::{cmp::Reverse, time::Duration};
/// use keel_sharding::{ScatterConfig, ShardId, scatter_merge};
/// // Posts (timestamp, id) on three shards; newest first, 4 per page.
/// let posts = |s: ShardId| -> Vec<(u64, u32)> {
///     (0..5).map(|i| (100 - (i * 3 + u64::from(s.0)), s.0)).collect()
/// };
/// let cfg = ScatterConfig::new(3, Duration::from_secs(1))?;
/// let page = scatter_merge(&[ShardId(0), ShardId(1), ShardId(2)], cfg, 4, |p: &(u64, u32)| Reverse(p.0),
///     |s| { let rows = posts(s); async move { Ok::<_, ()>(rows.into_iter().take(4).collect()) } }).await;
/// let times: Vec<u64> = page.items.iter().map(|p| p.0).collect();
/// assert_eq!(times, vec![100, 99, 98, 97]);
/// assert!(page.has_more && page.is_complete());
/// # Ok(()) }
/// ```
pub async fn scatter_merge<T, S, E, K, F, Fut>(
    shards: &[ShardId],
    config: ScatterConfig,
    limit: usize,
    sort_key: K,
    query: F,
) -> MergedPage<T, E>
where
    S: Ord,
    K: Fn(&T) -> S,
    F: Fn(ShardId) -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
{
    let gathered = scatter(shards, config, query).await;
    let mut heap = BinaryHeap::new();
    let mut rests: Vec<std::vec::IntoIter<T>> = Vec::with_capacity(gathered.ok.len());
    let mut full_shard = false;
    for (i, (_, rows)) in gathered.ok.into_iter().enumerate() {
        if rows.len() >= limit {
            full_shard = true;
        }
        let mut it = rows.into_iter();
        if let Some(item) = it.next() {
            heap.push(Head {
                key: sort_key(&item),
                shard: i,
                item,
            });
        }
        rests.push(it);
    }
    let mut items = Vec::with_capacity(limit.min(1024));
    while items.len() < limit {
        let Some(head) = heap.pop() else { break };
        if let Some(next) = rests.get_mut(head.shard).and_then(Iterator::next) {
            heap.push(Head {
                key: sort_key(&next),
                shard: head.shard,
                item: next,
            });
        }
        items.push(head.item);
    }
    // More rows exist if any were left unmerged, or a shard filled its whole limit.
    let has_more = !heap.is_empty() || (full_shard && items.len() == limit);
    MergedPage {
        items,
        failed: gathered.failed,
        has_more,
    }
}
