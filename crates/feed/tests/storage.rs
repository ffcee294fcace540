//! The keel-storage bridge (feature `storage`): `StorageGraph` and `StoragePosts` on the
//! memory backend and on PostgreSQL, and the engine reading through them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use keel_feed::{
    FeedConfig, FeedEngine, FollowGraph, GraphCursor, MemoryStore, Position, Post, PostSource,
    ReadRequest, Route, Score, StorageGraph, StoragePosts, Strategy, UserId, Visibility,
};
use keel_storage::{ManualClock, NewPost, NewUser, Store, Timestamp};

/// 2026-01-01T00:00:00Z.
const T0_MS: i64 = 1_767_225_600_000;

type Cleanup = Pin<Box<dyn Future<Output = ()> + Send>>;

pub struct World {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    cleanup: Option<Cleanup>,
}

impl World {
    async fn finish(mut self) {
        if let Some(c) = self.cleanup.take() {
            c.await;
        }
    }

    async fn user(&self, name: &str) -> UserId {
        let u = self
            .store
            .create_user(NewUser::new(name, format!("{name}@example.com"), "hash"))
            .await
            .unwrap();
        u.id.into()
    }

    async fn follow(&self, follower: UserId, followee: UserId) {
        self.store
            .follow(follower.into(), followee.into())
            .await
            .unwrap();
    }

    async fn post(&self, author: UserId, visibility: keel_storage::Visibility) -> Post {
        let mut new = NewPost::text(author.into(), "hello");
        new.visibility = visibility;
        let p = self.store.create_post(new).await.unwrap();
        Post::try_from(&p).unwrap()
    }

    fn graph(&self) -> StorageGraph {
        StorageGraph::new(self.store.clone())
    }

    fn posts(&self) -> StoragePosts {
        StoragePosts::new(self.store.clone())
    }
}

pub async fn memory() -> Option<World> {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0_MS)));
    let store =
        keel_storage::MemoryStore::with_clock(clock.clone(), keel_storage::IdGenerator::seeded(3));
    Some(World {
        store: Arc::new(store),
        clock,
        cleanup: None,
    })
}

pub async fn postgres() -> Option<World> {
    use sqlx::{Connection, Executor, PgConnection};
    let url = keel_testkit::require(keel_testkit::Service::Postgres).await?;
    let schema = keel_testkit::unique_schema("feed");
    let mut conn = PgConnection::connect(&url).await.unwrap();
    conn.execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0_MS)));
    let options = keel_storage::PgOptions {
        max_connections: 4,
        clock: clock.clone(),
        ids: Arc::new(keel_storage::IdGenerator::seeded(3)),
        ..keel_storage::PgOptions::default()
    };
    let store = keel_storage::PgStore::connect_with(
        &keel_testkit::pg_url_with_schema(&url, &schema),
        options,
    )
    .await
    .unwrap();
    let pool = store.pool().clone();
    Some(World {
        store: Arc::new(store),
        clock,
        cleanup: Some(Box::pin(async move {
            pool.close().await;
            conn.execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
                .await
                .unwrap();
        })),
    })
}

/// Runs each named `async fn(&World)` once per keel-storage backend.
macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(w) = super::memory().await {
                        super::$name(&w).await;
                        w.finish().await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(w) = super::postgres().await {
                        super::$name(&w).await;
                        w.finish().await;
                    }
                }
            )*
        }
    };
}

async fn walk(g: &StorageGraph, author: UserId, limit: usize) -> (Vec<UserId>, usize) {
    let mut all = Vec::new();
    let mut pages = 0;
    let mut after: Option<GraphCursor> = None;
    loop {
        let page = g.followers(author, after.as_ref(), limit).await.unwrap();
        pages += 1;
        all.extend(page.users);
        match page.next {
            Some(n) => after = Some(n),
            None => return (all, pages),
        }
    }
}

async fn graph_pages_counts_and_membership(w: &World) {
    let author = w.user("author").await;
    let mut fans = Vec::new();
    for i in 0..5 {
        let f = w.user(&format!("fan{i}")).await;
        w.clock.advance_micros(1_000);
        w.follow(f, author).await;
        fans.push(f);
    }
    let outsider = w.user("outsider").await;
    w.follow(author, fans[0]).await;
    let g = w.graph();

    // Most recent follow first, in pages of two, every follower once, the end marked.
    let (all, pages) = walk(&g, author, 2).await;
    assert_eq!(all, fans.iter().rev().copied().collect::<Vec<_>>());
    assert_eq!(pages, 3);
    let (all, pages) = walk(&g, author, 1_000).await;
    assert_eq!(
        (all.len(), pages),
        (5, 1),
        "pages are capped at 200, not refused"
    );
    let followees = g.followees(author, None, 10).await.unwrap();
    assert_eq!(followees.users, [fans[0]]);
    assert_eq!(followees.next, None);

    assert_eq!(g.follower_count(author).await.unwrap(), 5);
    assert!(g.is_following(fans[1], author).await.unwrap());
    assert!(!g.is_following(author, fans[1]).await.unwrap());

    // Both strategies of not_following: one query per candidate, or one follower walk.
    w.store
        .unfollow(fans[2].into(), author.into())
        .await
        .unwrap();
    assert_eq!(
        g.not_following(author, &[fans[1], fans[2], outsider])
            .await
            .unwrap(),
        [fans[2], outsider]
    );
    assert_eq!(
        g.not_following(author, &[outsider]).await.unwrap(),
        [outsider]
    );
    assert!(
        g.not_following(author, &[fans[3]])
            .await
            .unwrap()
            .is_empty()
    );

    // An unknown user has no followers and follows no one.
    let ghost = UserId(0x0190_0000_0000_7000_8000_0000_0000_0001);
    assert_eq!(g.follower_count(ghost).await.unwrap(), 0);
    assert!(g.followers(ghost, None, 10).await.unwrap().users.is_empty());
    assert!(!g.is_following(ghost, author).await.unwrap());
}

async fn posts_page_in_feed_order(w: &World) {
    let author = w.user("author").await;
    let other = w.user("other").await;
    let mut want: Vec<Post> = Vec::new();
    // 250 posts (more than one storage page), several per microsecond: equal creation times
    // order by id in storage and by id in the feed.
    for i in 0..250 {
        if i % 3 == 0 {
            w.clock.advance_micros(1);
        }
        if i % 7 == 0 {
            w.clock.advance_micros(1_000);
        }
        let visibility = match i % 5 {
            0 => keel_storage::Visibility::Private,
            1 => keel_storage::Visibility::Followers,
            _ => keel_storage::Visibility::Public,
        };
        want.push(w.post(author, visibility).await);
        if i % 50 == 0 {
            w.post(other, keel_storage::Visibility::Public).await;
        }
    }
    want.sort_by_key(|p| std::cmp::Reverse(p.entry().position));
    assert_eq!(want[0].visibility, Visibility::Public);
    assert!(
        want.iter()
            .any(|p| p.visibility == Visibility::FollowersOnly)
    );
    assert!(want.iter().any(|p| p.visibility == Visibility::Private));
    let src = w.posts();

    assert_eq!(src.recent_posts(author, None, 1_000).await.unwrap(), want);
    // Page by the last position seen: no post skipped or repeated.
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = src.recent_posts(author, before, 7).await.unwrap();
        paged.extend(page.iter().copied());
        match page.last() {
            Some(p) if page.len() == 7 => before = Some(p.entry().position),
            _ => break,
        }
    }
    assert_eq!(paged, want);
    // Any feed position maps exactly, even one no storage post has (sequence above 999).
    let odd = Position {
        score: Score::from_parts(want[100].score.unix_ms(), 1_023).unwrap(),
        post: want[100].id,
    };
    let older: Vec<Post> = want
        .iter()
        .filter(|p| p.entry().position < odd)
        .copied()
        .collect();
    assert_eq!(
        src.recent_posts(author, Some(odd), 1_000).await.unwrap(),
        older
    );
    assert_eq!(src.post(want[3].id).await.unwrap(), Some(want[3]));
    // Several authors at once, bounded on both sides (the hybrid read's request).
    let since = want[60].entry().position;
    let before = Some(want[20].entry().position);
    let many = src
        .recent_posts_many(&[author, UserId(7)], before, Some(since), 25)
        .await
        .unwrap();
    // UserId(7) has no posts: only the author's group.
    assert_eq!(many, want[21..=45]);
    let many = src
        .recent_posts_many(&[author], before, Some(since), 100)
        .await
        .unwrap();
    assert_eq!(many, want[21..=60]);

    // Deleted posts are gone.
    w.store.delete_post(want[3].id.into()).await.unwrap();
    assert_eq!(src.post(want[3].id).await.unwrap(), None);
    let after_delete = src.recent_posts(author, None, 5).await.unwrap();
    assert_eq!(
        after_delete,
        want.iter()
            .filter(|p| p.id != want[3].id)
            .take(5)
            .copied()
            .collect::<Vec<_>>()
    );

    // A post from before 2020 has no score: not in feeds.
    let late = w.user("late").await;
    let old_clock = Timestamp::from_millis(1_500_000_000_000);
    w.clock.set(old_clock);
    let mut new = NewPost::text(late.into(), "from 2017");
    new.visibility = keel_storage::Visibility::Public;
    let old = w.store.create_post(new).await.unwrap();
    assert!(Post::try_from(&old).is_err());
    assert_eq!(src.post(old.id.into()).await.unwrap(), None);
    w.clock.set(Timestamp::from_millis(T0_MS + 86_400_000));
    let fresh = w.post(late, keel_storage::Visibility::Public).await;
    assert_eq!(src.recent_posts(late, None, 10).await.unwrap(), [fresh]);
    let many = src
        .recent_posts_many(&[late, other], None, None, 1)
        .await
        .unwrap();
    // One post per author, grouped in the order asked.
    assert_eq!(many.len(), 2);
    assert_eq!(many[0], fresh);
    assert_eq!(many[1].author, other);
}

async fn engine_reads_through_storage(w: &World) {
    let celeb = w.user("celeb").await;
    let friend = w.user("friend").await;
    let readers = [
        w.user("reader1").await,
        w.user("reader2").await,
        w.user("reader3").await,
    ];
    let config = FeedConfig {
        strategy: Strategy::Hybrid { threshold: 2 },
        cap: 5,
        chunk_size: 2,
        backfill_per_author: 100,
        ..FeedConfig::default()
    };
    let clock = Arc::new(keel_feed::ManualClock::new(
        u64::try_from(T0_MS).unwrap() + 3_600_000,
    ));
    let engine = FeedEngine::builder(
        Arc::new(w.graph()),
        Arc::new(w.posts()),
        Arc::new(MemoryStore::new()),
    )
    .config(config)
    .clock(clock)
    .build()
    .unwrap();
    for r in readers {
        engine.read(&ReadRequest::first(r, 10)).await.unwrap();
        w.follow(r, celeb).await;
        engine.follow(r, celeb).await.unwrap();
    }
    w.follow(readers[0], friend).await;
    engine.follow(readers[0], friend).await.unwrap();

    let mut all = Vec::new();
    for i in 0..12 {
        w.clock.advance_micros(1_000);
        let (author, route) = if i % 3 == 0 {
            (celeb, Route::Pulled)
        } else {
            (friend, Route::Pushed)
        };
        let p = w.post(author, keel_storage::Visibility::Public).await;
        assert_eq!(engine.publish(&p).await.unwrap().route, route);
        all.push(p);
    }
    let secret = w.post(celeb, keel_storage::Visibility::Private).await;
    assert_eq!(engine.publish(&secret).await.unwrap().route, Route::Private);
    all.reverse();
    let ids = |v: &[Post]| v.iter().map(|p| p.id).collect::<Vec<_>>();
    let scroll = |reader: UserId| {
        let engine = &engine;
        async move {
            let mut got = Vec::new();
            let mut req = ReadRequest::first(reader, 3);
            loop {
                let page = engine.read(&req).await.unwrap();
                got.extend(page.entries.iter().map(|e| e.post()));
                match page.next {
                    Some(n) => req.before = Some(n),
                    None => return got,
                }
            }
        }
    };
    // Pushed and pulled posts merge newest first, past the cap of 5 into the pull path.
    assert_eq!(scroll(readers[0]).await, ids(&all));
    let celeb_posts: Vec<Post> = all.iter().filter(|p| p.author == celeb).copied().collect();
    assert_eq!(scroll(readers[1]).await, ids(&celeb_posts));

    // Deleting a post in storage and in the engine removes it from every feed.
    let gone = all.remove(1);
    w.store.delete_post(gone.id.into()).await.unwrap();
    engine.delete(gone.id, gone.author).await.unwrap();
    let gone_celeb = all.iter().position(|p| p.author == celeb).unwrap();
    let gone_celeb = all.remove(gone_celeb);
    w.store.delete_post(gone_celeb.id.into()).await.unwrap();
    engine
        .delete(gone_celeb.id, gone_celeb.author)
        .await
        .unwrap();
    assert_eq!(scroll(readers[0]).await, ids(&all));

    // Unfollowing takes the author's posts out.
    w.store
        .unfollow(readers[0].into(), friend.into())
        .await
        .unwrap();
    engine.unfollow(readers[0], friend).await.unwrap();
    let celeb_posts: Vec<Post> = all.iter().filter(|p| p.author == celeb).copied().collect();
    assert_eq!(scroll(readers[0]).await, ids(&celeb_posts));
    assert_eq!(scroll(readers[2]).await, ids(&celeb_posts));
}

for_each_backend!(
    graph_pages_counts_and_membership,
    posts_page_in_feed_order,
    engine_reads_through_storage,
);
