//! # keel-sharding
//!
//! Where each key lives when one database is not enough: every common partitioning strategy
//! behind one [`Sharder`] trait, a hash that is stable across processes and releases, plans
//! of what moves when shards come and go, hot-key detection and its remedies, and
//! scatter-gather queries across shards.
//!
//! ```
//! use keel_sharding::{Jump, Memento, MoveSummary, Ring, Sharder, ShardId};
//!
//! // A consistent-hash ring: 8 shards, 200 virtual nodes each.
//! let mut ring = Ring::new((0..8).map(ShardId), 200)?;
//! let home = ring.shard("user:42");
//! let replicas = ring.replicas("user:42", 3); // three distinct shards, `home` first
//! assert_eq!(replicas[0], home);
//!
//! // Add a shard at run time: only keys the new shard takes move.
//! let before = ring.clone();
//! ring.add_shard(ShardId(8), 1)?;
//! let keys: Vec<String> = (0..10_000).map(|i| format!("user:{i}")).collect();
//! let plan = MoveSummary::sample(&before, &ring, keys.iter());
//! assert_eq!(plan.moved, plan.moved_into(ShardId(8)));
//! assert!((plan.moved_fraction() - 1.0 / 9.0).abs() < 0.05);
//!
//! // Jump hash for numbered buckets, Memento when any bucket may leave.
//! let mut memento = Memento::new(10)?;
//! memento.remove_bucket(ShardId(3))?;
//! assert_ne!(memento.shard("user:42"), ShardId(3));
//! assert!(Jump::new(10)?.shard("user:42").0 < 10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Choosing a strategy
//! | strategy | lookup | balance | moves on N -> N+1 | remove any shard | weights |
//! |---|---|---|---|---|---|
//! | [`HashMod`] | O(1) | perfect | ~all keys | - | - |
//! | [`Jump`] | O(log N) | perfect | 1/(N+1) | last only | - |
//! | [`Memento`] | O(log N) | perfect | 1/(N+1) | yes | - |
//! | [`Ring`] | O(1), prefix index | 1/sqrt(vnodes) spread | ~1/(N+1) | yes | yes |
//! | [`Rendezvous`] | O(N) | sampling only | 1/(N+1) | yes | yes |
//! | [`Maglev`] | O(1), one table read | within one slot | ~1/(N+1) plus small churn | yes | yes |
//! | [`BoundedLoads`] | O(1) + walk | at most (1 + ε) x mean | small, load-dependent | yes | yes |
//! | [`RangeSharder`] | O(log R) | as the ranges | the ranges you move | merge | - |
//! | [`Directory`] | hash map | as assigned | the entries you change | yes | - |
//! | [`Geo`] | region + inner | inner's | inner's | inner's | inner's |
//!
//! `cargo run --release -p keel-sharding --example shard-report` prints the measured numbers.
//!
//! # Stable hashing
//! Hash-based strategies place a key by [`stable_hash`]: XXH3-64 (seed 0) over the key's
//! canonical bytes ([`ShardKey`]), the same on every platform, process and release; tests pin
//! it against fixed vectors. `std`'s randomly seeded hasher is never used.
//!
//! # Untrusted input
//! Shard keys can come from clients. Hashing is linear in the key's length and allocation-free;
//! no key can make a lookup slower than the strategy's bound (table sizes and virtual node
//! counts are fixed at build time and capped: [`MAX_POINTS`], [`MAX_TABLE_SIZE`]). XXH3 is not
//! a keyed hash: a client who can choose many keys can aim them at one shard. Where that
//! matters, use [`BoundedLoads`] (no shard above (1 + ε) x mean) or watch with
//! [`HotKeyDetector`].
//!
//! # Layout
//! - [`hash`](stable_hash): the stable hash and [`ShardKey`].
//! - `sharder`: [`ShardId`], [`Sharder`], [`HashSharder`], [`WeightedShard`].
//! - `hashmod`, `jump`, `memento`, `ring`, `rendezvous`, `maglev`, `bounded`: the hash-based
//!   strategies ([`HashMod`], [`Jump`], [`Memento`], [`Ring`], [`Rendezvous`], [`Maglev`],
//!   [`BoundedLoads`]).
//! - `range`: [`RangeSharder`], ranges that split and merge.
//! - `directory`: [`Directory`] with a fallback and a [`DirectoryStore`] for persistence.
//! - `geo`: [`Geo`], region to shard group to shard.
//! - `topology`: [`Topology`], [`RangeTopology`], [`GeoTopology`] and [`DirectoryTopology`],
//!   config-file data validated with typed errors.
//! - `rebalance`: [`range_plan`], [`directory_plan`], [`key_move`], [`MoveSummary`].
//! - `hotkey`: [`HotKeyDetector`], bounded-memory top-k.
//! - `spread`: [`KeySpreader`] and [`split_hot_range`], the hot-spot remedies.
//! - `scatter` (feature `tokio`): `scatter` and `scatter_merge`, cross-shard queries.
//! - `error`: [`ShardingError`].
//!
//! # Features
//! | feature | enables | default |
//! |---|---|---|
//! | `serde` | `Serialize`/`Deserialize` for topologies, ranges, shard ids | no |
//! | `tokio` | async scatter-gather (`scatter`, `scatter_merge`) | no |

mod bounded;
mod directory;
mod error;
mod geo;
mod hash;
mod hashmod;
mod hotkey;
mod jump;
mod maglev;
mod memento;
mod range;
mod rebalance;
mod rendezvous;
mod ring;
#[cfg(feature = "tokio")]
mod scatter;
mod sharder;
mod spread;
mod topology;

pub use bounded::BoundedLoads;
pub use directory::{Directory, DirectoryStore, MemoryDirectoryStore};
pub use error::ShardingError;
pub use geo::{Geo, GeoKey};
pub use hash::{ShardKey, mix64, stable_hash, stable_hash_seeded};
pub use hashmod::HashMod;
pub use hotkey::{HotKey, HotKeyDetector};
pub use jump::{Jump, jump_hash};
pub use maglev::{MAX_TABLE_SIZE, Maglev};
pub use memento::Memento;
pub use range::{KeyRange, RangeSharder};
pub use rebalance::{
    EntryMove, Move, MoveSummary, RangeMove, directory_plan, key_move, range_plan,
};
pub use rendezvous::Rendezvous;
pub use ring::{MAX_POINTS, Ring};
#[cfg(feature = "tokio")]
pub use scatter::{Gathered, MergedPage, ScatterConfig, ShardFailure, scatter, scatter_merge};
pub use sharder::{HashSharder, ShardId, Sharder, WeightedShard};
pub use spread::{KeySpreader, split_hot_range};
pub use topology::{DirectoryEntry, DirectoryTopology, GeoTopology, RangeTopology, Topology};
