//! `storage/postgres`: keel-storage's PostgreSQL backend, one operation per iteration, at
//! concurrency 1 and 32 (32 tasks sharing a 32-connection pool, on a 2-worker runtime):
//!
//! - `create_post/{1,32}`: insert a post and its outbox event in one transaction;
//! - `get_post/{1,32}`: one post by id;
//! - `list_author_page/{1,32}`: the first page of 20 of an author with 1,000 posts
//!   (keel-pagination keyset: page query plus its `has_prev` probe);
//! - `like/{1,32}`: like a post (like row, counter, outbox event in one transaction);
//! - `sqlx_get_post/{1,32}`: the peer: the same lookup as `get_post` (same columns) written by
//!   hand with sqlx, rows left undecoded, to show what the repository layer costs.
//!
//! Criterion reports time per operation and operations per second (throughput 1 element per
//! iteration; at concurrency 32 the time is wall time over all tasks, so ops/s is the aggregate).
//! The reference floor is `pgbench -S` (select-only TPS) on the same server. Needs `DATABASE_URL`
//! (skipped with a message when PostgreSQL is unreachable); works in a fresh schema dropped at the
//! end.
//!
//! `storage/sharded`: `ShardedPgStore` over 4 fresh databases on the same server (64 users,
//! 20 posts each, a reader following 48 of them):
//!
//! - `get_post/{1,32}`: one post by id (routed by the shard byte in the id);
//! - `create_post/{1,32}`: a post on its author's shard;
//! - `author_page/{1,32}`: the peer: one author's first page of 20 (one shard);
//! - `followee_posts/{1,32}`: the first page of 20 of the followed users' posts (the
//!   following list, then one keyset query on each of the 4 shards, merged).
//!
//! Run: `cargo bench -p keel-benches --bench storage -- --warm-up-time 1 --measurement-time 3`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use keel_benches::{Service, SplitMix64};
use keel_storage::page::Seek;
use keel_storage::{
    FollowRepo, IdGenerator, LikeRepo, NewPost, NewUser, PgOptions, PgStore, PostId, PostRepo,
    ShardedPgStore, SystemClock, UserId, UserRepo,
};
use sqlx::{Connection, Executor, PgConnection};

const CONCURRENCY: [u64; 2] = [1, 32];
const USERS: usize = 1000;
const POSTS_PER_AUTHOR: usize = 1000;

struct Fixture {
    store: PgStore,
    users: Vec<UserId>,
    posts: Vec<PostId>,
    author: UserId,
}

async fn setup(url: &str, schema: &str) -> Fixture {
    let mut admin = PgConnection::connect(url).await.unwrap();
    admin
        .execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .unwrap();
    let options = PgOptions {
        max_connections: 32,
        clock: Arc::new(SystemClock),
        ids: Arc::new(IdGenerator::random()),
        ..PgOptions::default()
    };
    let store = PgStore::connect_with(&keel_testkit::pg_url_with_schema(url, schema), options)
        .await
        .unwrap();
    let mut users = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let u = store
            .create_user(NewUser::new(
                format!("bench{i}"),
                format!("bench{i}@x.io"),
                "h",
            ))
            .await
            .unwrap();
        users.push(u.id);
    }
    let author = users[0];
    let mut posts = Vec::with_capacity(POSTS_PER_AUTHOR);
    for i in 0..POSTS_PER_AUTHOR {
        let p = store
            .create_post(NewPost::text(author, format!("post {i} #bench")))
            .await
            .unwrap();
        posts.push(p.id);
    }
    store
        .pool()
        .execute("VACUUM ANALYZE users, posts, likes, outbox")
        .await
        .unwrap();
    Fixture {
        store,
        users,
        posts,
        author,
    }
}

/// Runs `iters` calls of `op` spread over `tasks` tasks; returns the wall time.
async fn run<F, Fut>(iters: u64, tasks: u64, op: Arc<F>) -> Duration
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let op = op.clone();
        let n = iters / tasks + u64::from(t < iters % tasks);
        handles.push(tokio::spawn(async move {
            for i in 0..n {
                op(i * tasks + t).await;
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    start.elapsed()
}

/// Registers `name/tasks` in `g`: each measurement runs `op(fixture, i)` `iters` times over
/// `tasks` concurrent tasks.
fn bench_op<Fx, F, Fut>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    name: &str,
    tasks: u64,
    fx: &Arc<Fx>,
    op: F,
) where
    Fx: Send + Sync + 'static,
    F: Fn(Arc<Fx>, u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    g.bench_function(BenchmarkId::new(name, tasks), |b| {
        b.to_async(rt).iter_custom(|iters| {
            let fx = fx.clone();
            let op = op.clone();
            run(iters, tasks, Arc::new(move |i| op(fx.clone(), i)))
        });
    });
}

fn postgres(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = Service::Postgres.url();
    if !rt.block_on(keel_testkit::reachable(Service::Postgres)) {
        eprintln!("storage/postgres skipped: PostgreSQL unreachable at {url} (set DATABASE_URL)");
        return;
    }
    let schema = keel_testkit::unique_schema("bench_storage");
    let fx = Arc::new(rt.block_on(setup(&url, &schema)));
    let like_counter = Arc::new(AtomicU64::new(0));

    let mut g = c.benchmark_group("storage/postgres");
    g.throughput(Throughput::Elements(1));
    for tasks in CONCURRENCY {
        bench_op(
            &mut g,
            &rt,
            "create_post",
            tasks,
            &fx,
            |f, i: u64| async move {
                let author = f.users[(i as usize) % USERS];
                f.store
                    .create_post(NewPost::text(author, "benchmark post #bench"))
                    .await
                    .unwrap();
            },
        );

        bench_op(
            &mut g,
            &rt,
            "get_post",
            tasks,
            &fx,
            |f, i: u64| async move {
                let mut rng = SplitMix64::new(i);
                let id = f.posts[rng.below(f.posts.len() as u64) as usize];
                std::hint::black_box(f.store.post(id).await.unwrap());
            },
        );

        bench_op(
            &mut g,
            &rt,
            "sqlx_get_post",
            tasks,
            &fx,
            |f, i: u64| async move {
                let mut rng = SplitMix64::new(i);
                let id = f.posts[rng.below(f.posts.len() as u64) as usize];
                let row = sqlx::query(
                    "SELECT id, author_id, content, media, kind, visibility, like_count, \
                     comment_count, hashtags, mentions, created_at, updated_at \
                     FROM posts WHERE id = $1",
                )
                .bind(id.0)
                .fetch_one(f.store.pool())
                .await
                .unwrap();
                std::hint::black_box(row);
            },
        );

        bench_op(
            &mut g,
            &rt,
            "list_author_page",
            tasks,
            &fx,
            |f, _: u64| async move {
                let w = f
                    .store
                    .posts_by_author(f.author, &Seek::first(20))
                    .await
                    .unwrap();
                assert_eq!(w.items.len(), 20);
                std::hint::black_box(w);
            },
        );

        let counter = like_counter.clone();
        bench_op(&mut g, &rt, "like", tasks, &fx, move |f, _: u64| {
            // A fresh (user, post) pair each time, spread over the posts.
            let k = counter.fetch_add(1, Ordering::Relaxed) as usize;
            async move {
                let user = f.users[k % USERS];
                let post = f.posts[(k / USERS + k * 7) % f.posts.len()];
                std::hint::black_box(f.store.like(user, post).await.unwrap());
            }
        });
    }
    g.finish();

    rt.block_on(async {
        fx.store.pool().close().await;
        let mut admin = PgConnection::connect(&url).await.unwrap();
        admin
            .execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
            .await
            .unwrap();
    });
}

const SHARDS: usize = 4;
const SHARD_USERS: usize = 64;
const SHARD_POSTS: usize = 20;

struct ShardFixture {
    store: ShardedPgStore,
    users: Vec<UserId>,
    posts: Vec<PostId>,
    reader: UserId,
}

fn with_db(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

async fn setup_sharded(url: &str, names: &[String]) -> ShardFixture {
    let mut admin = PgConnection::connect(url).await.unwrap();
    for name in names {
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
    }
    let urls: Vec<String> = names.iter().map(|n| with_db(url, n)).collect();
    // 4 x 10 connections: the same budget as one 32-connection pool, within the server's 100.
    let options = PgOptions {
        max_connections: 10,
        clock: Arc::new(SystemClock),
        ids: Arc::new(IdGenerator::random()),
        ..PgOptions::default()
    };
    let store = ShardedPgStore::connect(&urls, options).await.unwrap();
    let reader = store
        .create_user(NewUser::new("reader", "reader@x.io", "h"))
        .await
        .unwrap()
        .id;
    let mut users = Vec::with_capacity(SHARD_USERS);
    let mut posts = Vec::with_capacity(SHARD_USERS * SHARD_POSTS);
    for i in 0..SHARD_USERS {
        let u = store
            .create_user(NewUser::new(
                format!("bench{i}"),
                format!("bench{i}@x.io"),
                "h",
            ))
            .await
            .unwrap()
            .id;
        if i < 48 {
            store.follow(reader, u).await.unwrap();
        }
        for j in 0..SHARD_POSTS {
            let p = store
                .create_post(NewPost::text(u, format!("post {j} #bench")))
                .await
                .unwrap();
            posts.push(p.id);
        }
        users.push(u);
    }
    for i in 0..SHARDS {
        store
            .shard(i)
            .unwrap()
            .pool()
            .execute("VACUUM ANALYZE users, posts, follows, outbox")
            .await
            .unwrap();
    }
    ShardFixture {
        store,
        users,
        posts,
        reader,
    }
}

fn sharded(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = Service::Postgres.url();
    if !rt.block_on(keel_testkit::reachable(Service::Postgres)) {
        eprintln!("storage/sharded skipped: PostgreSQL unreachable at {url} (set DATABASE_URL)");
        return;
    }
    let prefix = keel_testkit::unique_schema("bench_shard");
    let names: Vec<String> = (0..SHARDS).map(|i| format!("{prefix}_{i}")).collect();
    let fx = Arc::new(rt.block_on(setup_sharded(&url, &names)));

    let mut g = c.benchmark_group("storage/sharded");
    g.throughput(Throughput::Elements(1));
    for tasks in CONCURRENCY {
        bench_op(
            &mut g,
            &rt,
            "get_post",
            tasks,
            &fx,
            |f, i: u64| async move {
                let mut rng = SplitMix64::new(i);
                let id = f.posts[rng.below(f.posts.len() as u64) as usize];
                std::hint::black_box(f.store.post(id).await.unwrap());
            },
        );

        bench_op(
            &mut g,
            &rt,
            "create_post",
            tasks,
            &fx,
            |f, i: u64| async move {
                // Authors past the first 48: the feed's pages stay the same.
                let author = f.users[48 + (i as usize) % (SHARD_USERS - 48)];
                f.store
                    .create_post(NewPost::text(author, "benchmark post #bench"))
                    .await
                    .unwrap();
            },
        );

        bench_op(
            &mut g,
            &rt,
            "author_page",
            tasks,
            &fx,
            |f, i: u64| async move {
                let author = f.users[(i as usize) % 48];
                let w = f
                    .store
                    .posts_by_author(author, &Seek::first(20))
                    .await
                    .unwrap();
                assert_eq!(w.items.len(), 20);
                std::hint::black_box(w);
            },
        );

        bench_op(
            &mut g,
            &rt,
            "followee_posts",
            tasks,
            &fx,
            |f, _: u64| async move {
                let w = f
                    .store
                    .followee_posts(f.reader, &Seek::first(20))
                    .await
                    .unwrap();
                assert_eq!(w.items.len(), 20);
                std::hint::black_box(w);
            },
        );
    }
    g.finish();

    rt.block_on(async {
        for i in 0..fx.store.shard_count() {
            fx.store.shard(i).unwrap().pool().close().await;
        }
        let mut admin = PgConnection::connect(&url).await.unwrap();
        for name in &names {
            admin
                .execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
                .await
                .unwrap();
        }
    });
}

criterion_group!(benches, postgres, sharded);
criterion_main!(benches);
