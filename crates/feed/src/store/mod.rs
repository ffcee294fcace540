//! Timeline stores: one trait, a memory store and (feature `redis`) a Redis store.
//!
//! Every store passes the same conformance suite (`tests/conformance.rs`).

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{Position, PostId, TimelineEntry, UserId};

pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;

/// How a fan-out delivery writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverOptions {
    /// Keep at most this many entries per timeline; the oldest are trimmed on insert.
    pub cap: usize,
    /// Skip timelines whose owner was last active before this time (Unix milliseconds):
    /// they are regenerated on their next read instead.
    pub active_since_ms: u64,
}

/// What a fan-out delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The entry was written to this many timelines (absent, inactive and already-holding
    /// timelines are not counted).
    Delivered(usize),
    /// The post is tombstoned: nothing was written; the fan-out should stop.
    Tombstoned,
}

/// A page read from a stored timeline.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimelineSlice {
    /// Entries strictly older than the requested position, newest first.
    pub entries: Vec<TimelineEntry>,
    /// When the owner was last marked active (Unix milliseconds).
    pub last_active_ms: u64,
}

/// Where materialised timelines live.
///
/// A timeline either exists (it was built, possibly empty) or is missing (never built, or
/// evicted): a missing timeline receives no deliveries and is regenerated from the follow graph
/// on its owner's next read. Writing the same entry twice keeps one entry (idempotent), and a
/// tombstoned post is never written again.
///
/// A stored timeline is always a gap-free newest part of the true timeline: once it has been
/// trimmed (or rebuilt from truncated lists) it is *partial*, and entries older than its oldest
/// entry are refused (the pull path serves them), so a reader never skips a post.
#[async_trait]
pub trait TimelineStore: Send + Sync + std::fmt::Debug {
    /// Writes `entry` into the timelines of `users` that exist and were active since
    /// `opts.active_since_ms`, trimming each to `opts.cap` (a trimmed timeline becomes partial;
    /// a partial one refuses an entry older than its oldest); writes nothing when the post is
    /// tombstoned. A fan-out calls this once per chunk of followers.
    async fn deliver(
        &self,
        users: &[UserId],
        entry: TimelineEntry,
        opts: DeliverOptions,
    ) -> Result<Delivery>;

    /// [`deliver`](Self::deliver) for several chunks of followers at once, one result per
    /// chunk, in order. The default writes them one after another and stops at a tombstoned
    /// chunk (the rest are reported tombstoned, unwritten); a store with a network round trip
    /// per chunk (Redis) sends them concurrently.
    async fn deliver_many(
        &self,
        chunks: &[Vec<UserId>],
        entry: TimelineEntry,
        opts: DeliverOptions,
    ) -> Result<Vec<Delivery>> {
        let mut out = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            let d = match out.last() {
                Some(Delivery::Tombstoned) => Delivery::Tombstoned,
                _ => self.deliver(chunk, entry, opts).await?,
            };
            out.push(d);
        }
        Ok(out)
    }

    /// Writes `entries` into `user`'s timeline if it exists (whatever its activity), skipping
    /// tombstoned posts and, in a partial timeline, entries older than its oldest entry (all of
    /// them when it is empty); trims to `cap`. Returns how many were new and kept. Used for
    /// backfill on follow and for regeneration.
    async fn insert(&self, user: UserId, entries: &[TimelineEntry], cap: usize) -> Result<usize>;

    /// Removes `entries` from `user`'s timeline (absent entries are ignored).
    async fn remove(&self, user: UserId, entries: &[TimelineEntry]) -> Result<()>;

    /// Removes the entries of `posts` (all by `author`) from the timelines of all `users`,
    /// whatever their positions: a deleted post's position may no longer be known.
    async fn remove_posts(&self, users: &[UserId], author: UserId, posts: &[PostId]) -> Result<()>;

    /// Up to `limit` entries of `user`'s timeline strictly older than `before` (from the newest
    /// when `None`), newest first; `None` when the timeline is missing.
    async fn page(
        &self,
        user: UserId,
        before: Option<Position>,
        limit: usize,
    ) -> Result<Option<TimelineSlice>>;

    /// Creates `user`'s timeline, empty and complete, active at `now_ms`; an existing timeline
    /// only has its activity updated.
    async fn create(&self, user: UserId, now_ms: u64) -> Result<()>;

    /// Marks `user` active at `now_ms`, if the timeline exists.
    async fn touch(&self, user: UserId, now_ms: u64) -> Result<()>;

    /// Marks `user`'s timeline partial: entries older than its oldest one may be missing.
    async fn mark_partial(&self, user: UserId) -> Result<()>;

    /// Drops `user`'s timeline: it is missing until regenerated.
    async fn evict(&self, user: UserId) -> Result<()>;

    /// Records that `post` was deleted: from now on no delivery or insert writes it.
    async fn tombstone(&self, post: PostId) -> Result<()>;

    /// Whether `post` is tombstoned.
    async fn is_tombstoned(&self, post: PostId) -> Result<bool>;

    /// Records that `post` by `author` was deleted while `author` was pulled at read time, so
    /// its entries were left in followers' timelines (copies pushed before the author crossed
    /// the hybrid threshold): readers hide them while the author is pulled; they are removed
    /// when a follower unfollows or the author falls below the threshold. Kept as long as a
    /// tombstone. Idempotent.
    async fn retract(&self, author: UserId, post: PostId) -> Result<()>;

    /// The posts of `author` retracted within the tombstone lifetime, in no particular order.
    async fn retracted(&self, author: UserId) -> Result<Vec<PostId>>;
}
