//! Follow backfill, unfollow removal, deletion with tombstones; run on every store.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use keel_feed::{
    FeedEngine, FollowGraph, FollowPage, GraphCursor, ManualClock, MemoryGraph, MemoryPosts,
    ReadRequest, Route, Strategy, TimelineStore, UserId,
};

use crate::common::{Fx, T0, config, for_each_store, post};

async fn follow_backfills_recent_posts(s: Arc<dyn TimelineStore>) {
    let fx = Fx::new(s, config(Strategy::Push, 100));
    fx.page(2, 10).await;
    for i in 0..5 {
        fx.publish(post(100 + i, 1, i)).await;
    }
    assert_eq!(fx.stored(2).await, Some(vec![]));
    fx.follow(2, 1).await;
    assert_eq!(fx.stored(2).await, Some(vec![104, 103, 102, 101, 100]));
}

async fn unfollow_removes_only_that_author(s: Arc<dyn TimelineStore>) {
    let fx = Fx::new(s, config(Strategy::Push, 100));
    fx.page(2, 10).await;
    fx.follow(2, 1).await;
    fx.follow(2, 3).await;
    for i in 0..6 {
        fx.publish(post(100 + i, if i % 2 == 0 { 1 } else { 3 }, i))
            .await;
    }
    fx.unfollow(2, 1).await;
    assert_eq!(fx.stored(2).await, Some(vec![105, 103, 101]));
    assert_eq!(fx.scroll(2, 2).await, vec![105, 103, 101]);
}

async fn delete_removes_everywhere_and_stays_deleted(s: Arc<dyn TimelineStore>) {
    let fx = Fx::new(s, config(Strategy::Push, 100));
    fx.page(1, 10).await;
    for f in 2..=6 {
        fx.page(f, 10).await;
        fx.follow(f, 1).await;
    }
    let p = post(10, 1, 1);
    fx.publish(p).await;
    fx.publish(post(11, 1, 2)).await;
    fx.delete(p).await;
    for u in 1..=6 {
        assert_eq!(fx.stored(u).await, Some(vec![11]), "user {u}");
    }
    // A late redelivery (a retried job, say) does not bring it back.
    assert_eq!(fx.engine.publish(&p).await.unwrap().delivered, 0);
    fx.follow(2, 1).await;
    fx.engine.regenerate(UserId(3)).await.unwrap();
    for u in 1..=6 {
        assert_eq!(fx.stored(u).await, Some(vec![11]), "user {u}");
    }
}

/// A memory graph that counts follower-list reads (walks over an author's followers).
#[derive(Debug, Default)]
struct CountingGraph {
    inner: MemoryGraph,
    follower_pages: AtomicUsize,
}

#[async_trait]
impl FollowGraph for CountingGraph {
    async fn followers(
        &self,
        author: UserId,
        after: Option<&GraphCursor>,
        limit: usize,
    ) -> keel_feed::Result<FollowPage> {
        self.follower_pages.fetch_add(1, Ordering::SeqCst);
        self.inner.followers(author, after, limit).await
    }
    async fn followees(
        &self,
        user: UserId,
        after: Option<&GraphCursor>,
        limit: usize,
    ) -> keel_feed::Result<FollowPage> {
        self.inner.followees(user, after, limit).await
    }
    async fn follower_count(&self, author: UserId) -> keel_feed::Result<u64> {
        self.inner.follower_count(author).await
    }
    async fn is_following(&self, follower: UserId, author: UserId) -> keel_feed::Result<bool> {
        self.inner.is_following(follower, author).await
    }
    fn removal_version(&self) -> Option<u64> {
        self.inner.removal_version()
    }
    async fn not_following(
        &self,
        author: UserId,
        candidates: &[UserId],
    ) -> keel_feed::Result<Vec<UserId>> {
        self.inner.not_following(author, candidates).await
    }
}

async fn celebrity_delete_does_not_walk_followers(s: Arc<dyn TimelineStore>) {
    let graph = Arc::new(CountingGraph::default());
    let posts = Arc::new(MemoryPosts::new());
    let engine = FeedEngine::builder(graph.clone(), posts.clone(), s.clone())
        .config(config(Strategy::Hybrid { threshold: 4 }, 100))
        .clock(Arc::new(ManualClock::new(T0)))
        .build()
        .unwrap();
    let page = |u: u128| {
        let engine = &engine;
        async move {
            let p = engine
                .read(&ReadRequest::first(UserId(u), 50))
                .await
                .unwrap();
            p.entries.iter().map(|e| e.post().0).collect::<Vec<_>>()
        }
    };
    let stored = |u: u128| {
        let s = &s;
        async move {
            let p = s.page(UserId(u), None, 50).await.unwrap().unwrap();
            p.entries.iter().map(|e| e.post().0).collect::<Vec<_>>()
        }
    };
    let follow = |f: u128| {
        let (engine, graph) = (&engine, &graph);
        async move {
            graph.inner.add(UserId(f), UserId(1));
            engine.follow(UserId(f), UserId(1)).await.unwrap();
        }
    };
    let unfollow = |f: u128| {
        let (engine, graph) = (&engine, &graph);
        async move {
            graph.inner.remove(UserId(f), UserId(1));
            engine.unfollow(UserId(f), UserId(1)).await.unwrap();
        }
    };
    for f in 1..=7 {
        page(f).await;
    }
    // Pushed while author 1 had 2 followers; then 3 more follow: 5 >= 4, pulled.
    follow(2).await;
    follow(3).await;
    let a = post(10, 1, 1);
    posts.insert(a);
    assert_eq!(engine.publish(&a).await.unwrap().route, Route::Pushed);
    for f in 4..=6 {
        follow(f).await;
    }
    let b = post(11, 1, 2);
    posts.insert(b);
    assert_eq!(engine.publish(&b).await.unwrap().route, Route::Pulled);
    assert_eq!(page(2).await, [11, 10]);

    // Deleting the pulled author's post reads no follower list, whatever their number...
    graph.follower_pages.store(0, Ordering::SeqCst);
    posts.remove(a.id);
    engine.delete(a.id, a.author).await.unwrap();
    assert_eq!(graph.follower_pages.load(Ordering::SeqCst), 0);
    // ...its pushed copies stay stored but no reader sees them.
    assert_eq!(stored(2).await, [10]);
    for f in 2..=6 {
        assert_eq!(page(f).await, [11], "follower {f}");
    }
    assert_eq!(page(1).await, [11]);
    // A late redelivery or a follow does not bring it back.
    assert_eq!(engine.publish(&a).await.unwrap().delivered, 0);
    follow(7).await;
    assert_eq!(page(7).await, [11]);
    // An unfollower's stale copy goes (they no longer hide the author's stored posts).
    unfollow(3).await;
    assert!(stored(3).await.is_empty());
    assert!(page(3).await.is_empty());
    // Back below the threshold (1 follower): the stale copies go, the pulled post is pushed.
    for f in 4..=7 {
        unfollow(f).await;
    }
    assert_eq!(stored(2).await, [11]);
    assert_eq!(page(2).await, [11]);
    // A pushed author's delete walks the followers, as before.
    graph.follower_pages.store(0, Ordering::SeqCst);
    posts.remove(b.id);
    engine.delete(b.id, b.author).await.unwrap();
    assert!(graph.follower_pages.load(Ordering::SeqCst) > 0);
    assert!(stored(2).await.is_empty());
}

for_each_store!(
    celebrity_delete_does_not_walk_followers,
    follow_backfills_recent_posts,
    unfollow_removes_only_that_author,
    delete_removes_everywhere_and_stays_deleted,
);

#[tokio::test]
async fn memory_tombstones_expire_on_the_store_clock_and_are_freed() {
    use keel_feed::store::memory::DEFAULT_TOMBSTONE_TTL_MS;
    use keel_feed::{DeliverOptions, Delivery, MemoryStore, PostId};

    assert_eq!(DEFAULT_TOMBSTONE_TTL_MS, 7 * 24 * 3_600_000);
    let clock = ManualClock::new(T0);
    let s = MemoryStore::new()
        .with_clock(Arc::new(clock.clone()))
        .with_tombstone_ttl_ms(1_000);
    let u = UserId(1);
    s.create(u, T0).await.unwrap();
    let opts = DeliverOptions {
        cap: 10,
        active_since_ms: 0,
    };
    let p5 = post(5, 9, 1).entry();
    s.tombstone(PostId(5)).await.unwrap();
    s.retract(UserId(9), PostId(5)).await.unwrap();
    clock.advance(500);
    s.tombstone(PostId(6)).await.unwrap();
    assert_eq!(s.tombstone_count(), 2);

    // Alive until its lifetime is over, by the store's clock.
    clock.advance(499);
    assert!(s.is_tombstoned(PostId(5)).await.unwrap());
    assert_eq!(
        s.deliver(&[u], p5, opts).await.unwrap(),
        Delivery::Tombstoned
    );
    assert_eq!(s.retracted(UserId(9)).await.unwrap(), [PostId(5)]);
    clock.advance(1);
    assert!(!s.is_tombstoned(PostId(5)).await.unwrap());
    assert!(s.retracted(UserId(9)).await.unwrap().is_empty());
    // Freed (not only ignored), oldest first: the younger tombstone stays.
    assert_eq!(s.tombstone_count(), 1);
    assert!(s.is_tombstoned(PostId(6)).await.unwrap());
    assert_eq!(
        s.deliver(&[u], p5, opts).await.unwrap(),
        Delivery::Delivered(1)
    );

    // Tombstoning again starts a new lifetime.
    s.tombstone(PostId(6)).await.unwrap();
    clock.advance(600);
    assert!(s.is_tombstoned(PostId(6)).await.unwrap());
    clock.advance(400);
    assert!(!s.is_tombstoned(PostId(6)).await.unwrap());
    assert_eq!(s.tombstone_count(), 0);
}
