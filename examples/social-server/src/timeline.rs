//! The home timeline: keel-feed's engine (hybrid delivery) reading the follow graph and the
//! posts straight from the server's store (keel-feed's `storage` bridge), fed by the event
//! consumers.
//!
//! Nothing is mirrored in process memory: every instance sees the same graph and posts, and a
//! restart needs no warm-up (a timeline missing from the timeline store is rebuilt from storage
//! on its owner's next read). keel-feed ids are the storage UUIDs' bits.

use std::sync::Arc;

use keel_feed::{
    Clock, FeedEngine, ReadRequest, Score, StorageGraph, StoragePosts, Strategy, SystemClock,
    TimelineStore,
};
use keel_storage::{Post, PostId, Store, UserId};

/// The feed engine over the server's store.
#[derive(Debug)]
pub struct Timelines {
    engine: FeedEngine,
}

/// One page of a home timeline: post ids newest first, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePage {
    /// The posts, newest first.
    pub posts: Vec<PostId>,
    /// The next page's start (score, post id); `None` at the end.
    pub next: Option<(u64, PostId)>,
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

    /// One page of `user`'s home timeline, strictly older than `before`.
    ///
    /// # Errors
    /// An engine or score error (a forged position).
    pub async fn read(
        &self,
        user: UserId,
        before: Option<(u64, PostId)>,
        limit: usize,
    ) -> keel_feed::Result<TimelinePage> {
        let before = match before {
            Some((score, post)) => Some(keel_feed::Position {
                score: Score::from_raw(score)?,
                post: post.into(),
            }),
            None => None,
        };
        let page = self
            .engine
            .read(&ReadRequest {
                user: user.into(),
                before,
                limit,
            })
            .await?;
        Ok(TimelinePage {
            posts: page.entries.iter().map(|e| e.post().into()).collect(),
            next: page.next.map(|p| (p.score.raw(), p.post.into())),
        })
    }
}
