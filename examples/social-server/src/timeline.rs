//! The home timeline: keel-feed's engine (hybrid delivery) reading the follow graph and the
//! posts straight from the server's store (keel-feed's `storage` bridge), fed by the event
//! consumers.
//!
//! Nothing is mirrored in process memory: every instance sees the same graph and posts, and a
//! restart needs no warm-up (a timeline missing from the timeline store is rebuilt from storage
//! on its owner's next read). keel-feed ids are the storage UUIDs' bits.

use std::sync::Arc;

use keel_feed::{
    Clock, FeedEngine, StorageGraph, StoragePosts, Strategy, SystemClock, TimelineStore,
};
use keel_pagination::{CursorCodec, LimitPolicy, PageRequest};
use keel_storage::{Post, PostId, Store, UserId};

/// The feed engine over the server's store.
#[derive(Debug)]
pub struct Timelines {
    engine: FeedEngine,
}

impl Timelines {
    /// Timelines in `timelines` (memory or Redis) over the follow graph and posts of `store`,
    /// hybrid above `threshold` followers.
    ///
    /// # Errors
    /// A configuration the engine rejects.
    pub fn new(
        store: &Arc<dyn Store>,
        timelines: Arc<dyn TimelineStore>,
        threshold: u64,
    ) -> keel_feed::Result<Self> {
        let engine = FeedEngine::builder(
            Arc::new(StorageGraph::new(store.clone())),
            Arc::new(StoragePosts::new(store.clone())),
            timelines,
        )
        .strategy(Strategy::Hybrid { threshold })
        .build()?;
        Ok(Self { engine })
    }

    /// A new user gets an empty timeline at once, so fan-out reaches it before the first read.
    ///
    /// # Errors
    /// A timeline store error.
    pub async fn user_created(&self, user: UserId) -> keel_feed::Result<()> {
        self.engine
            .store()
            .create(user.into(), SystemClock.now_ms())
            .await
    }

    /// Delivers a new post to its author's followers (pushed or pulled by the hybrid rule).
    ///
    /// # Errors
    /// An engine error, or a post created before 2020 (no feed score).
    pub async fn post_created(&self, post: &Post) -> keel_feed::Result<()> {
        self.engine
            .publish(&keel_feed::Post::try_from(post)?)
            .await?;
        Ok(())
    }

    /// Removes a deleted post from every timeline (the post is already gone from storage).
    ///
    /// # Errors
    /// An engine error.
    pub async fn post_deleted(&self, post: PostId, author: UserId) -> keel_feed::Result<()> {
        self.engine.delete(post.into(), author.into()).await
    }

    /// `follower` now follows `followee` (already in storage): their recent posts join the
    /// follower's timeline.
    ///
    /// # Errors
    /// An engine error.
    pub async fn followed(&self, follower: UserId, followee: UserId) -> keel_feed::Result<()> {
        self.engine.follow(follower.into(), followee.into()).await?;
        Ok(())
    }

    /// `follower` no longer follows `followee` (already out of storage).
    ///
    /// # Errors
    /// An engine error.
    pub async fn unfollowed(&self, follower: UserId, followee: UserId) -> keel_feed::Result<()> {
        self.engine.unfollow(follower.into(), followee.into()).await
    }

    /// One page of `user`'s home timeline from a keel-pagination request: keel-feed verifies
    /// the `after` cursor (signed, bound to the reader), clamps the limit and signs the next
    /// cursor.
    ///
    /// # Errors
    /// [`keel_feed::FeedError::Page`] or [`keel_feed::FeedError::InvalidCursor`] for a bad
    /// request (400); an engine error otherwise.
    pub async fn read_page(
        &self,
        user: UserId,
        request: &PageRequest,
        codec: &CursorCodec,
        policy: &LimitPolicy,
    ) -> keel_feed::Result<keel_feed::TimelinePage> {
        self.engine
            .read_page(user.into(), request, codec, policy)
            .await
    }
}
