//! The one error type of the crate.

use crate::ShardId;

/// What went wrong when building or changing a sharding strategy or topology.
///
/// Every message says what was wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ShardingError {
    /// A strategy or topology was given no shards at all.
    #[error("the topology has no shards; add at least one shard before building a sharder")]
    EmptyTopology,
    /// The same shard id appears twice.
    #[error("shard {0} is listed twice; give every shard a distinct id")]
    DuplicateShard(ShardId),
    /// A shard has weight zero, which would give it no keys.
    #[error("shard {0} has weight 0; use a weight of at least 1, or remove the shard")]
    ZeroWeight(ShardId),
    /// An operation named a shard that is not part of the topology.
    #[error("shard {0} is not in this topology; add it first or check the id")]
    UnknownShard(ShardId),
    /// Removing this shard would leave no shard to hold the keys.
    #[error("cannot remove shard {0}: it is the last one; add another shard first")]
    LastShard(ShardId),
    /// A ring would hold more virtual nodes than it can index.
    #[error(
        "the ring would hold {points} virtual nodes, more than the limit of {limit}; lower the \
         virtual node count or the weights"
    )]
    TooManyPoints {
        /// The number of virtual nodes asked for.
        points: u64,
        /// The largest supported number.
        limit: u64,
    },
    /// The load-bound factor epsilon is not a positive finite number.
    #[error("epsilon must be a finite number above 0 (0.25 allows 25% above the mean); got {0}")]
    InvalidEpsilon(f64),
    /// A parameter is out of its allowed range.
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// What is allowed.
        reason: String,
    },
    /// Two ranges of a range topology overlap.
    #[error(
        "range {index} starts before range {previous} ends; make each range start exactly where \
         the previous one ends"
    )]
    OverlappingRanges {
        /// Position of the offending range in the list.
        index: usize,
        /// Position of the range it overlaps.
        previous: usize,
    },
    /// Two consecutive ranges of a range topology leave keys in between unowned.
    #[error(
        "range {index} starts after range {previous} ends, leaving keys in between with no shard; \
         make each range start exactly where the previous one ends"
    )]
    GappedRanges {
        /// Position of the offending range in the list.
        index: usize,
        /// Position of the range before the gap.
        previous: usize,
    },
    /// A range topology does not start at the smallest key or does not end open.
    #[error("{0}; the ranges must cover every key, from an unbounded start to an unbounded end")]
    UncoveredRange(&'static str),
    /// A range split or merge named a key or position that does not fit.
    #[error("{0}")]
    InvalidRangeChange(String),
    /// The geographic topology has no group for a region and no default group.
    #[error(
        "region {0:?} has no shard group and no default group is set; add the region or a default"
    )]
    UnknownRegion(String),
    /// The directory's persistent store failed.
    #[error(
        "directory store failed: {0}; the in-memory table was left unchanged, retry the change"
    )]
    Store(String),
}
