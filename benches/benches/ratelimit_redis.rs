//! keel-ratelimit's Redis backend against the cheapest possible shared limiter.
//!
//! Group `ratelimit/redis` (needs `REDIS_URL`, default `redis://127.0.0.1:6379`): one check per
//! element, at concurrency 1 and 64 (ids like `keel_gcra/64`):
//! - `keel_gcra`, `keel_token_bucket`, `keel_sliding_window` (the sliding-window counter):
//!   `RedisLimiter::check`, one `EVALSHA` of keel's script;
//! - `floor_incr_expire`: a fixed window as `INCR` + `EXPIRE` pipelined in one round trip on the
//!   same connection type, the floor no shared limiter can beat.
//!
//! Keys rotate over 10,000 and the quota is generous, so every check is admitted (no local
//! denial cache short-cuts the work).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use keel_ratelimit::Quota;
use keel_ratelimit::redis::{NativeGcra, RedisAlgorithm, RedisConfig, RedisLimiter};
use redis::aio::ConnectionManager;
use tokio::runtime::Runtime;

const KEYS: u64 = 10_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[derive(Clone)]
enum Target {
    Keel(RedisLimiter, RedisAlgorithm),
    Floor(ConnectionManager),
}

impl Target {
    async fn check(&self, i: u64) {
        let key = format!("k{}", i % KEYS);
        match self {
            Target::Keel(limiter, algorithm) => {
                let quota = Quota::per_second(1_000_000).unwrap();
                let d = limiter.check(*algorithm, quota, &key, 1).await.unwrap();
                assert!(d.allowed);
                assert_eq!(limiter.stats().failures, 0, "Redis failed during the bench");
            }
            Target::Floor(conn) => {
                let mut conn = conn.clone();
                let key = format!("keel-bench:floor:{key}");
                let (_count, _): (u64, bool) = redis::pipe()
                    .incr(&key, 1)
                    .expire(&key, 60)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
            }
        }
    }
}

/// Runs `iters` checks spread over `concurrency` tasks; the elapsed time of all of them.
async fn run(target: &Target, iters: u64, concurrency: u64) -> Duration {
    let start = Instant::now();
    let per_task = iters.div_ceil(concurrency);
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_task {
                target.check(t * 7919 + i).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Scale to exactly `iters` (the tasks ran per_task * concurrency >= iters checks).
    start
        .elapsed()
        .mul_f64(iters as f64 / (per_task * concurrency) as f64)
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    let url = rt.block_on(async {
        if keel_testkit::reachable(keel_testkit::Service::Redis).await {
            Some(keel_testkit::Service::Redis.url())
        } else {
            None
        }
    });
    let Some(url) = url else {
        eprintln!("skipped: Redis unreachable (set REDIS_URL): ratelimit/redis benches");
        return;
    };
    let targets: Vec<(&str, Target)> = rt.block_on(async {
        let config = RedisConfig::new("keel-bench:rl:")
            .timeout(Duration::from_secs(5))
            .deny_cache(0)
            .native_gcra(NativeGcra::Never);
        let limiter = RedisLimiter::new(&url, config).unwrap();
        let client = redis::Client::open(url.as_str()).unwrap();
        let floor = ConnectionManager::new(client).await.unwrap();
        vec![
            (
                "keel_gcra",
                Target::Keel(limiter.clone(), RedisAlgorithm::Gcra),
            ),
            (
                "keel_token_bucket",
                Target::Keel(limiter.clone(), RedisAlgorithm::TokenBucket),
            ),
            (
                "keel_sliding_window",
                Target::Keel(limiter, RedisAlgorithm::SlidingWindowCounter),
            ),
            ("floor_incr_expire", Target::Floor(floor)),
        ]
    });
    let mut group = c.benchmark_group("ratelimit/redis");
    group.throughput(Throughput::Elements(1));
    for concurrency in [1u64, 64] {
        for (name, target) in &targets {
            let target = Arc::new(target.clone());
            group.bench_with_input(
                BenchmarkId::new(*name, concurrency),
                &concurrency,
                |b, &n| {
                    b.to_async(&rt).iter_custom(|iters| {
                        let target = Arc::clone(&target);
                        async move { run(&target, iters, n).await }
                    });
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
