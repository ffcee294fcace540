//! The Redis backend against a real Redis: the same decisions as the in-process algorithms,
//! exact under concurrency, atomic multi-limit checks, failure policy, failover bound.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use keel_ratelimit::redis::{
    Check, FailurePolicy, NativeGcra, RedisAlgorithm, RedisConfig, RedisLimiter,
};
use keel_ratelimit::{
    Algorithm, Gcra, ManualClock, Quota, SlidingWindowCounter, SlidingWindowLog, TokenBucket,
};
use keel_testkit::Service;

const ALGORITHMS: [RedisAlgorithm; 4] = [
    RedisAlgorithm::Gcra,
    RedisAlgorithm::TokenBucket,
    RedisAlgorithm::SlidingWindowCounter,
    RedisAlgorithm::SlidingWindowLog,
];

/// A limiter on the shared Redis under a prefix no other test uses (no cache, no native GCRA).
async fn shared(label: &str) -> Option<(String, RedisLimiter)> {
    let url = keel_testkit::require(Service::Redis).await?;
    let prefix = keel_testkit::unique_prefix(label);
    let config = RedisConfig::new(prefix.clone())
        .timeout(Duration::from_secs(2))
        .native_gcra(NativeGcra::Never)
        .deny_cache(0);
    Some((prefix, RedisLimiter::new(&url, config).unwrap()))
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Replays costs in Redis and in process (a quota too slow to refill during the test, so the
/// two clocks cannot disagree) and compares every decision.
async fn same_as_in_process<A: Algorithm>(
    limiter: &RedisLimiter,
    algorithm: RedisAlgorithm,
    local: A,
    quota: Quota,
    costs: &[u64],
) {
    let mut state = A::State::default();
    // Redis's clock and this one agree to within milliseconds (same machine), which matters for
    // the window algorithms' alignment.
    let now = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap();
    for (i, &cost) in costs.iter().enumerate() {
        let ours = limiter.check(algorithm, quota, "k", cost).await.unwrap();
        let theirs = local.check(&mut state, now, cost).unwrap();
        assert_eq!(ours.allowed, theirs.allowed, "{algorithm:?} step {i}");
        assert_eq!(ours.remaining, theirs.remaining, "{algorithm:?} step {i}");
        assert_eq!(ours.limit, theirs.limit, "{algorithm:?} step {i}");
        if !ours.allowed {
            // Redis time moved a few ms; retry hints agree to within a second.
            let diff = ours.retry_after.abs_diff(theirs.retry_after);
            assert!(diff < Duration::from_secs(1), "{algorithm:?} {diff:?}");
        }
    }
}

/// Cost sequences: a fixed one, then pseudo-random ones (SplitMix64), costs 0 to 3.
fn cost_sequences() -> Vec<Vec<u64>> {
    let mut seqs = vec![vec![1u64, 2, 1, 3, 1, 1, 2, 1, 1, 1]];
    let mut x: u64 = 0x5eed;
    for _ in 0..3 {
        let seq = (0..24)
            .map(|_| {
                x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = x;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                (z ^ (z >> 31)) % 4
            })
            .collect();
        seqs.push(seq);
    }
    seqs
}

#[tokio::test]
async fn decisions_match_the_in_process_algorithms() {
    let quota = Quota::per_hour(2400).unwrap().burst(8).unwrap(); // refill every 1.5 s
    let window = Quota::new(8, Duration::from_secs(86_400)).unwrap();
    for costs in cost_sequences() {
        for algorithm in ALGORITHMS {
            let Some((_, limiter)) = shared("diff").await else {
                return;
            };
            match algorithm {
                RedisAlgorithm::Gcra => {
                    let local = Gcra::new(quota);
                    same_as_in_process(&limiter, algorithm, local, quota, &costs).await;
                }
                RedisAlgorithm::TokenBucket => {
                    let local = TokenBucket::new(quota);
                    same_as_in_process(&limiter, algorithm, local, quota, &costs).await;
                }
                RedisAlgorithm::SlidingWindowCounter => {
                    let local = SlidingWindowCounter::new(window);
                    same_as_in_process(&limiter, algorithm, local, window, &costs).await;
                }
                _ => {
                    let local = SlidingWindowLog::new(window);
                    same_as_in_process(&limiter, algorithm, local, window, &costs).await;
                }
            }
        }
    }
}

#[tokio::test]
async fn every_key_has_a_ttl_a_prefix_and_a_hash_tag() {
    let Some((prefix, limiter)) = shared("ttl").await else {
        return;
    };
    let url = Service::Redis.url();
    let mut conn = raw(&url).await;
    let quota = Quota::per_minute(10).unwrap();
    for algorithm in ALGORITHMS {
        limiter.check(algorithm, quota, "user:7", 1).await.unwrap();
        let key = limiter.redis_key(algorithm, quota, "user:7");
        assert!(
            key.starts_with(&prefix) && key.ends_with("{user:7}"),
            "{key}"
        );
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 0 && ttl <= 121_000, "{algorithm:?}: ttl {ttl}");
    }
    // A cost too large is an error, not a decision, and reaches no key.
    assert!(
        limiter
            .check(RedisAlgorithm::Gcra, quota, "x", 11)
            .await
            .is_err()
    );
}

/// A state key's expiry is a function of its state, which lets the script keep the TTL
/// (`KEEPTTL`) on most writes: GCRA and token-bucket keys expire at the whole second after
/// their state stops mattering, plus one; a window counter one millisecond after its window
/// can no longer count as the previous one. Checked after a run in which most writes kept it.
#[tokio::test]
async fn a_state_key_expires_when_its_state_stops_mattering() {
    let Some((_, limiter)) = shared("expiry").await else {
        return;
    };
    let mut conn = raw(&Service::Redis.url()).await;
    let quota = Quota::per_second(1_000).unwrap();
    let interval_us = quota.emission_interval_nanos() as f64 / 1_000.0;
    let period_us = quota.period_nanos() as f64 / 1_000.0;
    for algorithm in [
        RedisAlgorithm::Gcra,
        RedisAlgorithm::TokenBucket,
        RedisAlgorithm::SlidingWindowCounter,
    ] {
        for _ in 0..200 {
            limiter.check(algorithm, quota, "steady", 1).await.unwrap();
        }
        let key = limiter.redis_key(algorithm, quota, "steady");
        let (state, pttl, time): (Vec<u8>, i64, (u64, u64)) = redis::pipe()
            .get(&key)
            .pttl(&key)
            .cmd("TIME")
            .query_async(&mut conn)
            .await
            .unwrap();
        // States are little-endian doubles: GCRA's TAT and the bucket's empty instant (µs);
        // the counter's window index, then its two counts.
        let first = f64::from_le_bytes(state[..8].try_into().expect("an 8-byte double"));
        let expected_ms = match algorithm {
            RedisAlgorithm::Gcra => ((first / 1e6).ceil() + 1.0) * 1_000.0,
            RedisAlgorithm::TokenBucket => {
                let span_us = interval_us * quota.max_burst() as f64;
                (((first + span_us) / 1e6).ceil() + 1.0) * 1_000.0
            }
            _ => ((first + 2.0) * period_us / 1_000.0).ceil() + 1.0,
        };
        let now_ms = time.0 as f64 * 1_000.0 + (time.1 / 1_000) as f64;
        let expires_ms = now_ms + pttl as f64;
        assert!(pttl > 0, "{algorithm:?}: no TTL ({pttl})");
        assert!(
            (expires_ms - expected_ms).abs() <= 2.0,
            "{algorithm:?}: expires at {expires_ms} ms, expected {expected_ms} ms"
        );
    }
}

#[tokio::test]
async fn several_limits_on_one_request_are_all_or_nothing() {
    let Some((_, limiter)) = shared("all").await else {
        return;
    };
    let per_second = Quota::per_hour(2).unwrap(); // tight
    let per_day = Quota::new(100, Duration::from_secs(86_400)).unwrap();
    let checks = [
        Check::new(RedisAlgorithm::Gcra, per_second, "u"),
        Check::new(RedisAlgorithm::SlidingWindowLog, per_day, "u"),
    ];
    for _ in 0..2 {
        let d = limiter.check_all(&checks).await.unwrap();
        assert!(d.iter().all(|d| d.allowed));
    }
    // The tight limit denies; the daily one must not be charged.
    let d = limiter.check_all(&checks).await.unwrap();
    assert!(!d[0].allowed);
    let daily = limiter
        .check(RedisAlgorithm::SlidingWindowLog, per_day, "u", 1)
        .await
        .unwrap();
    assert_eq!(daily.remaining, 97, "two charged by check_all, one now");
}

#[tokio::test]
async fn a_batch_is_one_round_trip_with_independent_decisions() {
    let Some((_, limiter)) = shared("batch").await else {
        return;
    };
    let quota = Quota::per_hour(3).unwrap();
    let keys: Vec<String> = (0..50).map(|i| format!("k{i}")).collect();
    let checks: Vec<Check<'_>> = keys
        .iter()
        .map(|k| Check::new(RedisAlgorithm::Gcra, quota, k).cost(2))
        .collect();
    let first = limiter.check_batch(&checks).await.unwrap();
    assert!(first.iter().all(|d| d.allowed && d.remaining == 1));
    let second = limiter.check_batch(&checks).await.unwrap();
    assert!(second.iter().all(|d| !d.allowed && d.remaining == 1));
    assert!(limiter.check_batch(&[]).await.is_err());
}

#[tokio::test]
async fn denied_keys_are_answered_locally_until_their_retry_time() {
    let Some(url) = keel_testkit::require(Service::Redis).await else {
        return;
    };
    let clock = ManualClock::starting_now();
    let config = RedisConfig::new(keel_testkit::unique_prefix("cache"))
        .timeout(Duration::from_secs(2))
        .clock(clock.clone());
    let limiter = RedisLimiter::new(&url, config).unwrap();
    let quota = Quota::per_hour(1).unwrap();
    assert!(
        limiter
            .check(RedisAlgorithm::Gcra, quota, "flood", 1)
            .await
            .unwrap()
            .allowed
    );
    let denied = limiter
        .check(RedisAlgorithm::Gcra, quota, "flood", 1)
        .await
        .unwrap();
    assert!(!denied.allowed);
    for _ in 0..100 {
        let d = limiter
            .check(RedisAlgorithm::Gcra, quota, "flood", 1)
            .await
            .unwrap();
        assert!(!d.allowed);
    }
    assert_eq!(limiter.stats().cache_hits, 100);
    // Past the retry time the cache lets the request through to Redis again.
    clock.advance(denied.retry_after);
    let _ = limiter
        .check(RedisAlgorithm::Gcra, quota, "flood", 1)
        .await
        .unwrap();
    assert_eq!(limiter.stats().cache_hits, 100);
    assert!(!limiter.native_gcra().await, "Redis 7 has no GCRA command");
}

/// Three limiters, each with its own connection, 16 tasks each, 3 keys: every key admits
/// exactly its allowance (quotas that cannot refill during the test), not one more. The first
/// limiter sends every check alone; the other two coalesce concurrent checks into batches
/// (and must have done so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_admit_exactly_the_allowance() {
    let Some(url) = keel_testkit::require(Service::Redis).await else {
        return;
    };
    let allowance = 300u64;
    let quota = Quota::new(allowance, Duration::from_secs(86_400)).unwrap();
    for algorithm in ALGORITHMS {
        let prefix = keel_testkit::unique_prefix("exact");
        let limiters: Vec<RedisLimiter> = (0..3)
            .map(|i| {
                let config = RedisConfig::new(prefix.clone())
                    .timeout(Duration::from_secs(5))
                    .failure_policy(FailurePolicy::Closed {
                        retry_after: Duration::from_secs(1),
                    });
                let config = if i == 0 {
                    config.coalesce(0, 0)
                } else {
                    config.coalesce(2, 8)
                };
                RedisLimiter::new(&url, config).unwrap()
            })
            .collect();
        let admitted: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
        let mut tasks = Vec::new();
        for limiter in &limiters {
            for t in 0..16u64 {
                let limiter = limiter.clone();
                let admitted = Arc::clone(&admitted);
                tasks.push(tokio::spawn(async move {
                    for i in 0..30u64 {
                        let k = ((t + i) % 3) as usize;
                        let key = format!("key{k}");
                        let d = limiter.check(algorithm, quota, &key, 1).await.unwrap();
                        if d.allowed {
                            admitted[k].fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }));
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        for (k, n) in admitted.iter().enumerate() {
            // 3 x 16 x 30 / 3 = 480 attempts per key.
            assert_eq!(n.load(Ordering::Relaxed), allowance, "{algorithm:?} key{k}");
        }
        for l in &limiters {
            assert_eq!(l.stats().failures, 0);
        }
        assert_eq!(limiters[0].stats().coalesced, 0);
        assert!(
            limiters[1].stats().coalesced + limiters[2].stats().coalesced > 0,
            "{algorithm:?}: 16 concurrent tasks on 2 slots never waited"
        );
    }
}

/// A redis-server of the test's own, on a free port.
struct OwnRedis {
    port: u16,
    child: Child,
}

impl OwnRedis {
    fn binary() -> Option<String> {
        let out = Command::new("sh")
            .args(["-c", "command -v redis-server"])
            .output()
            .ok()?;
        let path = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        (!path.is_empty()).then_some(path)
    }

    // The child is killed and waited for in `kill` and `Drop`.
    #[allow(clippy::zombie_processes, clippy::panic)]
    async fn start(port: Option<u16>) -> Option<Self> {
        let Some(binary) = Self::binary() else {
            eprintln!("skipped: redis-server not found on PATH");
            return None;
        };
        let port = port.unwrap_or_else(|| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        });
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(Self { port, child });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("redis-server did not start on port {port}");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn kill(mut self) -> u16 {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.port
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` until it returns true (Redis reconnecting in the background), up to 10 s.
async fn eventually(mut f: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..200 {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn redis_killed_mid_run_follows_the_policy_and_recovers() {
    let Some(server) = OwnRedis::start(None).await else {
        return;
    };
    let url = server.url();
    let quota = Quota::new(10, Duration::from_secs(86_400)).unwrap();
    let policies = [
        FailurePolicy::Open,
        FailurePolicy::Closed {
            retry_after: Duration::from_secs(2),
        },
        FailurePolicy::Local { instances: 5 },
    ];
    let limiters: Vec<RedisLimiter> = policies
        .iter()
        .map(|&p| {
            let config = RedisConfig::new(format!("p{p:?}:"))
                .timeout(Duration::from_millis(300))
                .failure_policy(p)
                .clock(ManualClock::starting_now());
            RedisLimiter::new(&url, config).unwrap()
        })
        .collect();
    for l in &limiters {
        let d = l.check(RedisAlgorithm::Gcra, quota, "k", 1).await.unwrap();
        assert!(d.allowed && d.remaining == 9);
    }

    let port = server.kill();
    for (l, policy) in limiters.iter().zip(policies) {
        let mut admitted = 0;
        for _ in 0..5 {
            let d = l.check(RedisAlgorithm::Gcra, quota, "k", 1).await.unwrap();
            admitted += u32::from(d.allowed);
        }
        match policy {
            FailurePolicy::Open => assert_eq!(admitted, 5),
            FailurePolicy::Closed { .. } => assert_eq!(admitted, 0),
            // 10 / 5 instances = 2 locally.
            _ => assert_eq!(admitted, 2),
        }
        let stats = l.stats();
        assert!(stats.degraded && stats.failures >= 5, "{stats:?}");
        assert!(
            l.try_check(Check::new(RedisAlgorithm::Gcra, quota, "k"))
                .await
                .is_err()
        );
    }

    // Redis comes back (empty: no persistence). The limiters find it by themselves.
    let _server = OwnRedis::start(Some(port)).await.unwrap();
    for l in &limiters {
        let back = eventually(async || {
            l.check(RedisAlgorithm::Gcra, quota, "fresh", 1)
                .await
                .unwrap();
            !l.stats().degraded
        })
        .await;
        assert!(back, "did not recover: {:?}", l.stats());
        let d = l
            .check(RedisAlgorithm::Gcra, quota, "fresh", 1)
            .await
            .unwrap();
        assert!(d.allowed && d.remaining == 8, "{d:?}");
    }
}

#[tokio::test]
async fn a_stalled_redis_times_out_into_the_policy() {
    let Some(server) = OwnRedis::start(None).await else {
        return;
    };
    let config = RedisConfig::new("stall:")
        .timeout(Duration::from_millis(200))
        .failure_policy(FailurePolicy::Closed {
            retry_after: Duration::from_secs(1),
        });
    let limiter = RedisLimiter::new(&server.url(), config).unwrap();
    let quota = Quota::per_minute(100).unwrap();
    assert!(
        limiter
            .check(RedisAlgorithm::Gcra, quota, "k", 1)
            .await
            .unwrap()
            .allowed
    );
    server.signal("-STOP");
    let started = std::time::Instant::now();
    let d = limiter
        .check(RedisAlgorithm::Gcra, quota, "k", 1)
        .await
        .unwrap();
    assert!(!d.allowed);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(limiter.stats().degraded);
    server.signal("-CONT");
    let back = eventually(async || {
        limiter
            .check(RedisAlgorithm::Gcra, quota, "k", 1)
            .await
            .unwrap()
            .allowed
    })
    .await;
    assert!(back, "{:?}", limiter.stats());
}

/// The failover bound: losing Redis's state (a flush, a restart without persistence, a replica
/// promoted before it had the writes) over-admits at most one burst (GCRA, token bucket) or
/// one window's count (window algorithms) per key.
#[tokio::test]
async fn a_flush_mid_run_over_admits_at_most_one_burst_per_key() {
    let Some(server) = OwnRedis::start(None).await else {
        return;
    };
    let burst = 20u64;
    let quota = Quota::new(burst, Duration::from_secs(86_400)).unwrap();
    let mut conn = raw(&server.url()).await;
    for algorithm in ALGORITHMS {
        let limiter = RedisLimiter::new(
            &server.url(),
            RedisConfig::new(format!("fo:{}:", algorithm.name())).deny_cache(0),
        )
        .unwrap();
        let mut admitted = 0u64;
        for round in 0..3 {
            for _ in 0..50 {
                let d = limiter.check(algorithm, quota, "k", 1).await.unwrap();
                admitted += u64::from(d.allowed);
            }
            if round == 0 {
                // Also drops the script: the next call meets NOSCRIPT and reloads it.
                let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();
                let _: () = redis::cmd("SCRIPT")
                    .arg("FLUSH")
                    .query_async(&mut conn)
                    .await
                    .unwrap();
            }
        }
        assert_eq!(
            admitted,
            2 * burst,
            "{algorithm:?}: one allowance, one more after the flush"
        );
        assert_eq!(limiter.stats().failures, 0, "NOSCRIPT must be handled");
    }
}
