//! # keel-feed
//!
//! The home timeline of a social service: when someone posts, their followers see it quickly,
//! and reading stays cheap even when an author has millions of followers. Delivery is fan-out
//! on write (push), on read (pull) or hybrid (authors above a follower threshold are pulled and
//! merged with the pushed timeline, as Twitter described for celebrity accounts), chosen by
//! configuration and invisible to callers.
//!
//! ```
//! use std::sync::Arc;
//! use keel_feed::{
//!     FeedEngine, MemoryGraph, MemoryPosts, MemoryStore, Post, PostId, ReadRequest, Score,
//!     Strategy, UserId, Visibility,
//! };
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let graph = Arc::new(MemoryGraph::new());
//! let posts = Arc::new(MemoryPosts::new());
//! let engine = FeedEngine::builder(graph.clone(), posts.clone(), Arc::new(MemoryStore::new()))
//!     .strategy(Strategy::Hybrid { threshold: 10_000 })
//!     .build()?;
//!
//! let (alice, bob) = (UserId(1), UserId(2));
//! graph.add(bob, alice);
//! engine.read(&ReadRequest::first(bob, 20)).await?; // builds bob's timeline
//!
//! let post = Post {
//!     id: PostId(100),
//!     author: alice,
//!     score: Score::from_parts(1_767_225_600_000, 0)?, // 2026-01-01, sequence 0
//!     visibility: Visibility::Public,
//! };
//! posts.insert(post);
//! engine.publish(&post).await?;
//!
//! let page = engine.read(&ReadRequest::first(bob, 20)).await?;
//! assert_eq!(page.entries.first().map(|e| e.post()), Some(PostId(100)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//! - [`model`]: users, posts, visibility, timeline entries and their positions. Ids are 128
//!   bits: a UUID's bits (keel-storage's UUIDv7 pass through as they are).
//! - [`score`]: the 53-bit score (milliseconds and sequence) that Redis doubles keep exact.
//! - [`clock`]: the injected clock ([`SystemClock`], [`ManualClock`] for tests).
//! - [`graph`]: the [`FollowGraph`] trait the engine reads followers through (pages resume at a
//!   [`GraphCursor`]), and [`MemoryGraph`].
//! - [`source`]: the [`PostSource`] trait for authors' recent posts, and [`MemoryPosts`].
//! - `storage` (feature `storage`): `StorageGraph` and `StoragePosts`, both traits over any
//!   keel-storage backend, and the conversion of a stored post (score from its creation time).
//! - [`store`]: the [`TimelineStore`] trait, [`MemoryStore`] and (feature `redis`) `RedisStore`.
//! - [`config`]: [`Strategy`] and [`FeedConfig`] (cap, chunk size and chunks in flight,
//!   inactivity, backfill).
//! - [`engine`]: [`FeedEngine`]: publish, delete, follow, unfollow, regenerate, read.
//! - [`paging`]: [`FeedEngine::read_page`]: keel-pagination requests, signed cursors.
//! - [`rank`]: [`Ranker`], [`Chronological`], [`Gravity`] (Hacker News), the [`Leaderboard`].
//! - [`merge`]: the k-way heap merge of fan-out on read.
//! - `pool` (feature `tokio`): `FanoutPool`, bounded workers with backpressure and clean stop.
//! - [`metrics`]: the names of the metrics emitted through the `metrics` facade.
//!
//! # Guarantees
//! - Deliveries are idempotent: publishing or delivering a post twice keeps one entry.
//! - A deleted post is tombstoned before it is removed, so no late delivery, backfill or
//!   rebuild brings it back, and the rest of its fan-out is cancelled (at the next group of
//!   [`FeedConfig::chunks_in_flight`] chunks). Deleting a post of a pulled author costs the
//!   same whatever the follower count.
//! - Fan-out writes, then re-checks the graph, so a post of an author unfollowed meanwhile
//!   does not stay behind.
//! - Timelines are capped (trimmed on insert); a reader who scrolls past the cap continues
//!   into the pull path with the same cursor position.
//! - Followers inactive for [`FeedConfig::inactive_after_ms`] are skipped at fan-out; their
//!   timeline is rebuilt on their next read ([`FeedPage::regenerating`] says so meanwhile).
//!
//! # Untrusted input
//! Page cursors are signed and verified by keel-pagination before anything is parsed (see
//! [`paging`]); page sizes are clamped to [`FeedConfig::max_page`]; a read does a bounded
//! number of refills when the filter hides entries.
//!
//! # Limits
//! - Follow backfill and rebuilds copy [`FeedConfig::backfill_per_author`] posts per followee;
//!   older posts are served by the pull path when the reader scrolls there (the stored
//!   timeline is marked partial, so no post is skipped).
//! - Hybrid classifications and each reader's list of pulled followees are cached per engine:
//!   changes made through another process are seen on the author's next publish, follow or
//!   unfollow there, and within [`FeedConfig::pulled_cache_ms`] for readers.
//! - Deleting a post of a pushed author walks the author's followers. Deleting a post of an
//!   author pulled at read time (hybrid) does not: the post is retracted, and readers take a
//!   pulled author's posts from the post source, leaving out stored copies pushed before the
//!   author crossed the threshold; the copies are removed when a follower unfollows or the
//!   author falls below the threshold. Another process that still classifies the author as
//!   pushed (see above) shows such a copy until it learns otherwise, and a copy can come back
//!   if the author falls below the threshold after the retraction expired (7 days by default)
//!   while the copy is still within a follower's capped timeline.
//! - `RedisStore` runs one Lua script per chunk, so a chunk's keys must live on one node (a
//!   single Redis, or cluster hash tags in the key prefix). Tombstones expire (7 days by
//!   default) in both stores; `MemoryStore` frees them on its injected clock.
//!
//! # Features
//! | feature | enables | default |
//! |---|---|---|
//! | `tokio` | asynchronous fan-out worker pool | no |
//! | `redis` | timelines in Redis sorted sets (`RedisStore`) | no |
//! | `storage` | [`FollowGraph`] and [`PostSource`] over keel-storage (`StorageGraph`, `StoragePosts`) | no |

pub mod clock;
pub mod config;
pub mod engine;
mod error;
pub mod graph;
pub mod merge;
pub mod metrics;
pub mod model;
pub mod paging;
#[cfg(feature = "tokio")]
pub mod pool;
pub mod rank;
pub mod score;
pub mod source;
#[cfg(feature = "storage")]
pub mod storage;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{FeedConfig, Strategy};
pub use engine::{
    FeedEngine, FeedEngineBuilder, FeedPage, PublishReport, ReadFilter, ReadRequest, Route,
};
pub use error::{FeedError, Result};
pub use graph::{FollowGraph, FollowPage, GraphCursor, MemoryGraph};
pub use model::{Position, Post, PostId, TimelineEntry, UserId, Visibility};
pub use paging::{TimelinePage, timeline_query};
#[cfg(feature = "tokio")]
pub use pool::{FanoutPool, Submit};
pub use rank::{Chronological, Gravity, Leaderboard, MemoryLeaderboard, Ranker};
pub use score::Score;
pub use source::{MemoryPosts, PostSource};
#[cfg(feature = "storage")]
pub use storage::{StorageGraph, StoragePosts, score_at};
pub use store::memory::MemoryStore;
#[cfg(feature = "redis")]
pub use store::redis::{RedisLeaderboard, RedisStore};
pub use store::{DeliverOptions, Delivery, TimelineSlice, TimelineStore};
