//! Shared fixtures: a small world of users and posts over any timeline store.

use std::sync::Arc;

use keel_feed::{
    FeedConfig, FeedEngine, ManualClock, MemoryGraph, MemoryPosts, MemoryStore, Post, PostId,
    ReadRequest, Score, Strategy, TimelineStore, UserId, Visibility,
};

/// 2026-01-01T00:00:00Z.
pub const T0: u64 = 1_767_225_600_000;

/// Post `id` by `author`, `at` milliseconds after [`T0`] (ids and times share one integer type
/// so tests can derive one from the other).
pub fn post(id: u128, author: u128, at: u128) -> Post {
    let at = u64::try_from(at).unwrap();
    Post {
        id: PostId(id),
        author: UserId(author),
        score: Score::from_parts(T0 + at, u64::try_from(id % 1024).unwrap()).unwrap(),
        visibility: Visibility::Public,
    }
}

pub async fn memory() -> Option<Arc<dyn TimelineStore>> {
    Some(Arc::new(MemoryStore::new()))
}

#[cfg(feature = "redis")]
pub async fn redis() -> Option<Arc<dyn TimelineStore>> {
    let url = keel_testkit::require(keel_testkit::Service::Redis).await?;
    let prefix = keel_testkit::unique_prefix("feed");
    Some(Arc::new(
        keel_feed::store::redis::RedisStore::connect(&url, prefix)
            .await
            .unwrap(),
    ))
}

pub fn config(strategy: Strategy, cap: usize) -> FeedConfig {
    FeedConfig {
        strategy,
        cap,
        chunk_size: 2,
        chunks_in_flight: 1,
        backfill_per_author: 1_000,
        inactive_after_ms: 3_600_000,
        max_page: 100,
        pulled_cache_ms: 60_000,
    }
}

pub struct Fx {
    pub graph: Arc<MemoryGraph>,
    pub posts: Arc<MemoryPosts>,
    pub store: Arc<dyn TimelineStore>,
    pub clock: ManualClock,
    pub engine: Arc<FeedEngine>,
}

impl Fx {
    pub fn new(store: Arc<dyn TimelineStore>, config: FeedConfig) -> Self {
        let graph = Arc::new(MemoryGraph::new());
        let posts = Arc::new(MemoryPosts::new());
        let clock = ManualClock::new(T0);
        let engine = FeedEngine::builder(graph.clone(), posts.clone(), store.clone())
            .config(config)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap();
        Self {
            graph,
            posts,
            store,
            clock,
            engine: Arc::new(engine),
        }
    }

    pub async fn publish(&self, p: Post) -> keel_feed::PublishReport {
        self.posts.insert(p);
        self.engine.publish(&p).await.unwrap()
    }

    pub async fn follow(&self, follower: u128, author: u128) {
        self.graph.add(UserId(follower), UserId(author));
        self.engine
            .follow(UserId(follower), UserId(author))
            .await
            .unwrap();
    }

    pub async fn unfollow(&self, follower: u128, author: u128) {
        self.graph.remove(UserId(follower), UserId(author));
        self.engine
            .unfollow(UserId(follower), UserId(author))
            .await
            .unwrap();
    }

    pub async fn delete(&self, p: Post) {
        self.posts.remove(p.id);
        self.engine.delete(p.id, p.author).await.unwrap();
    }

    /// The first page's post ids.
    pub async fn page(&self, user: u128, limit: usize) -> Vec<u128> {
        let page = self
            .engine
            .read(&ReadRequest::first(UserId(user), limit))
            .await
            .unwrap();
        page.entries.iter().map(|e| e.post().0).collect()
    }

    /// Every post id of the timeline, scrolling in pages of `limit`.
    pub async fn scroll(&self, user: u128, limit: usize) -> Vec<u128> {
        let mut all = Vec::new();
        let mut req = ReadRequest::first(UserId(user), limit);
        for _ in 0..1_000 {
            let page = self.engine.read(&req).await.unwrap();
            all.extend(page.entries.iter().map(|e| e.post().0));
            match page.next {
                Some(n) => req.before = Some(n),
                None => return all,
            }
        }
        panic!("scroll did not end");
    }

    /// The stored entries of `user`'s timeline (None when missing), newest first.
    pub async fn stored(&self, user: u128) -> Option<Vec<u128>> {
        self.store
            .page(UserId(user), None, 10_000)
            .await
            .unwrap()
            .map(|s| s.entries.iter().map(|e| e.post().0).collect())
    }
}

/// Runs each named `async fn(Arc<dyn TimelineStore>)` of the parent module once per store.
macro_rules! for_each_store {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(s) = crate::common::memory().await {
                        super::$name(s).await;
                    }
                }
            )*
        }
        #[cfg(feature = "redis")]
        mod redis {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(s) = crate::common::redis().await {
                        super::$name(s).await;
                    }
                }
            )*
        }
    };
}
pub(crate) use for_each_store;
