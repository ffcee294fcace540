//! Deterministic races: an action (delete, unfollow) is injected at an exact point inside a
//! fan-out, backfill or rebuild, through hooked graph and post-source wrappers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use keel_feed::{
    FeedEngine, FollowGraph, FollowPage, GraphCursor, ManualClock, MemoryGraph, MemoryPosts,
    Position, Post, PostId, PostSource, Strategy, TimelineStore, UserId,
};
use parking_lot::Mutex;

use crate::common::{T0, config, for_each_store, post};

type Action = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Runs `action` once, when the hooked call has been made `at` times (after it answered).
#[derive(Default)]
struct Hook(Mutex<Option<(usize, Action)>>);

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hook")
    }
}

impl Hook {
    fn set(&self, at: usize, action: Action) {
        *self.0.lock() = Some((at, action));
    }

    async fn tick(&self) {
        let ready = {
            let mut slot = self.0.lock();
            match slot.as_mut() {
                Some((at, _)) if *at > 1 => {
                    *at -= 1;
                    None
                }
                Some(_) => slot.take().map(|(_, a)| a),
                None => None,
            }
        };
        if let Some(action) = ready {
            action().await;
        }
    }
}

#[derive(Debug, Default)]
struct HookedGraph {
    inner: MemoryGraph,
    on_followers: Hook,
    on_followees: Hook,
    /// Whether to expose the inner graph's removal version (the engine then skips re-checks
    /// when nothing was unfollowed).
    versioned: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl FollowGraph for HookedGraph {
    async fn followers(
        &self,
        author: UserId,
        after: Option<&GraphCursor>,
        limit: usize,
    ) -> keel_feed::Result<FollowPage> {
        let r = self.inner.followers(author, after, limit).await;
        self.on_followers.tick().await;
        r
    }
    async fn followees(
        &self,
        user: UserId,
        after: Option<&GraphCursor>,
        limit: usize,
    ) -> keel_feed::Result<FollowPage> {
        let r = self.inner.followees(user, after, limit).await;
        self.on_followees.tick().await;
        r
    }
    async fn follower_count(&self, author: UserId) -> keel_feed::Result<u64> {
        self.inner.follower_count(author).await
    }
    fn removal_version(&self) -> Option<u64> {
        if self.versioned.load(std::sync::atomic::Ordering::SeqCst) {
            self.inner.removal_version()
        } else {
            None
        }
    }
    async fn is_following(&self, follower: UserId, author: UserId) -> keel_feed::Result<bool> {
        self.inner.is_following(follower, author).await
    }
    async fn not_following(
        &self,
        author: UserId,
        candidates: &[UserId],
    ) -> keel_feed::Result<Vec<UserId>> {
        self.inner.not_following(author, candidates).await
    }
}

#[derive(Debug, Default)]
struct HookedPosts {
    inner: MemoryPosts,
    on_recent: Hook,
}

#[async_trait]
impl PostSource for HookedPosts {
    async fn recent_posts(
        &self,
        author: UserId,
        before: Option<Position>,
        limit: usize,
    ) -> keel_feed::Result<Vec<Post>> {
        let r = self.inner.recent_posts(author, before, limit).await;
        self.on_recent.tick().await;
        r
    }
    async fn post(&self, id: PostId) -> keel_feed::Result<Option<Post>> {
        self.inner.post(id).await
    }
}

struct World {
    graph: Arc<HookedGraph>,
    posts: Arc<HookedPosts>,
    engine: Arc<FeedEngine>,
    store: Arc<dyn TimelineStore>,
}

async fn world(store: Arc<dyn TimelineStore>, followers: u128) -> World {
    grouped_world(store, followers, 1).await
}

/// A world whose fan-out writes `in_flight` chunks at once.
async fn grouped_world(store: Arc<dyn TimelineStore>, followers: u128, in_flight: usize) -> World {
    let graph = Arc::new(HookedGraph::default());
    let posts = Arc::new(HookedPosts::default());
    let mut cfg = config(Strategy::Push, 100);
    cfg.chunks_in_flight = in_flight;
    let engine = Arc::new(
        FeedEngine::builder(graph.clone(), posts.clone(), store.clone())
            .config(cfg)
            .clock(Arc::new(ManualClock::new(T0)))
            .build()
            .unwrap(),
    );
    for f in 2..2 + followers {
        graph.inner.add(UserId(f), UserId(1));
        store.create(UserId(f), T0).await.unwrap();
    }
    store.create(UserId(1), T0).await.unwrap();
    World {
        graph,
        posts,
        engine,
        store,
    }
}

async fn holds(store: &Arc<dyn TimelineStore>, user: u128, post: u128) -> bool {
    store
        .page(UserId(user), None, 1_000)
        .await
        .unwrap()
        .is_some_and(|s| s.entries.iter().any(|e| e.post().0 == post))
}

fn delete_action(w: &World, p: Post) -> Action {
    let (engine, posts) = (w.engine.clone(), w.posts.clone());
    Box::new(move || {
        Box::pin(async move {
            posts.inner.remove(p.id);
            engine.delete(p.id, p.author).await.unwrap();
        })
    })
}

async fn delete_during_fanout_cancels_the_rest(s: Arc<dyn TimelineStore>) {
    let w = world(s, 6).await;
    let p = post(10, 1, 1);
    w.posts.inner.insert(p);
    // The second chunk of followers has been read, not yet written: delete now.
    w.graph.on_followers.set(2, delete_action(&w, p));
    let report = w.engine.publish(&p).await.unwrap();
    assert!(report.cancelled);
    assert_eq!(report.delivered, 2);
    for u in 1..8 {
        assert!(!holds(&w.store, u, 10).await, "post resurrected for {u}");
    }
}

async fn unfollow_during_fanout_leaves_nothing_behind(s: Arc<dyn TimelineStore>) {
    for (round, versioned) in [false, true].into_iter().enumerate() {
        let w = world(s.clone(), 4).await;
        w.graph
            .versioned
            .store(versioned, std::sync::atomic::Ordering::SeqCst);
        let id = 10 + round as u128;
        let p = post(id, 1, 1);
        w.posts.inner.insert(p);
        let (engine, graph) = (w.engine.clone(), w.graph.clone());
        // User 3 is in the first chunk, read before the unfollow, written after it.
        w.graph.on_followers.set(
            1,
            Box::new(move || {
                Box::pin(async move {
                    graph.inner.remove(UserId(3), UserId(1));
                    engine.unfollow(UserId(3), UserId(1)).await.unwrap();
                })
            }),
        );
        w.engine.publish(&p).await.unwrap();
        assert!(!holds(&w.store, 3, id).await, "versioned: {versioned}");
        assert!(holds(&w.store, 2, id).await);
        assert!(holds(&w.store, 4, id).await);
    }
}

async fn delete_during_a_grouped_fanout_cancels_the_rest(s: Arc<dyn TimelineStore>) {
    // 10 followers in chunks of 2, 3 chunks written at once: groups of 6, 4.
    let w = grouped_world(s, 10, 3).await;
    let p = post(10, 1, 1);
    w.posts.inner.insert(p);
    // The first group was written; the second group's first chunk is read: delete now.
    w.graph.on_followers.set(4, delete_action(&w, p));
    let report = w.engine.publish(&p).await.unwrap();
    assert!(report.cancelled);
    assert_eq!(report.delivered, 6);
    assert_eq!(report.chunks, 5);
    for u in 1..12 {
        assert!(!holds(&w.store, u, 10).await, "post resurrected for {u}");
    }
}

async fn unfollow_during_a_grouped_fanout_leaves_nothing_behind(s: Arc<dyn TimelineStore>) {
    let w = grouped_world(s, 6, 3).await;
    let p = post(10, 1, 1);
    w.posts.inner.insert(p);
    let (engine, graph) = (w.engine.clone(), w.graph.clone());
    // User 3 is in the first chunk, read before the unfollow, written after it.
    w.graph.on_followers.set(
        2,
        Box::new(move || {
            Box::pin(async move {
                graph.inner.remove(UserId(3), UserId(1));
                engine.unfollow(UserId(3), UserId(1)).await.unwrap();
            })
        }),
    );
    let report = w.engine.publish(&p).await.unwrap();
    assert_eq!(report.chunks, 3);
    assert!(!holds(&w.store, 3, 10).await);
    for u in [2, 4, 5, 6, 7] {
        assert!(holds(&w.store, u, 10).await, "user {u}");
    }
}

async fn unfollow_during_regeneration_leaves_nothing_behind(s: Arc<dyn TimelineStore>) {
    let w = world(s, 1).await;
    w.graph.inner.add(UserId(2), UserId(5));
    w.posts.inner.insert(post(10, 1, 1));
    w.posts.inner.insert(post(11, 5, 2));
    let (engine, graph) = (w.engine.clone(), w.graph.clone());
    // The rebuild has listed user 2's followees; user 2 unfollows 1 before posts are read.
    w.graph.on_followees.set(
        1,
        Box::new(move || {
            Box::pin(async move {
                graph.inner.remove(UserId(2), UserId(1));
                engine.unfollow(UserId(2), UserId(1)).await.unwrap();
            })
        }),
    );
    w.engine.regenerate(UserId(2)).await.unwrap();
    assert!(!holds(&w.store, 2, 10).await);
    assert!(holds(&w.store, 2, 11).await);
}

async fn delete_during_regeneration_does_not_resurrect(s: Arc<dyn TimelineStore>) {
    let w = world(s, 1).await;
    let p = post(10, 1, 1);
    w.posts.inner.insert(p);
    // The rebuild has read the author's posts (p among them); p is deleted before the write.
    w.posts.on_recent.set(2, delete_action(&w, p));
    w.engine.regenerate(UserId(2)).await.unwrap();
    assert!(!holds(&w.store, 2, 10).await);
}

async fn delete_during_follow_backfill_does_not_resurrect(s: Arc<dyn TimelineStore>) {
    let w = world(s, 0).await;
    w.store.create(UserId(2), T0).await.unwrap();
    let p = post(10, 1, 1);
    w.posts.inner.insert(p);
    w.posts.inner.insert(post(11, 1, 2));
    w.graph.inner.add(UserId(2), UserId(1));
    w.posts.on_recent.set(1, delete_action(&w, p));
    w.engine.follow(UserId(2), UserId(1)).await.unwrap();
    assert!(!holds(&w.store, 2, 10).await);
    assert!(holds(&w.store, 2, 11).await);
}

for_each_store!(
    delete_during_fanout_cancels_the_rest,
    unfollow_during_fanout_leaves_nothing_behind,
    delete_during_a_grouped_fanout_cancels_the_rest,
    unfollow_during_a_grouped_fanout_leaves_nothing_behind,
    unfollow_during_regeneration_leaves_nothing_behind,
    delete_during_regeneration_does_not_resurrect,
    delete_during_follow_backfill_does_not_resurrect,
);
