//! keel-ratelimit against governor 0.10, each pair in one criterion group.
//!
//! Run: `cargo bench -p keel-benches --bench ratelimit -- --warm-up-time 1 --measurement-time 3`
//!
//! Both sides use their default clock (one clock read per check) and their default keyed store
//! (governor: DashMap with the std hasher; keel: the bounded sharded store).

// Setup unwraps fixed, valid quotas.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use keel_benches::SplitMix64;
use keel_ratelimit::{
    DirectLimiter, Gcra, KeyedBuilder, KeyedLimiter, Quota, SystemClock, TokenBucket,
};

/// A quota that mostly admits: one per nanosecond, burst one second's worth.
const DIRECT_RATE: u32 = 1_000_000_000;
/// A per-key API quota.
const KEYED_RATE: u32 = 100;

fn keel_quota(rate: u32) -> Quota {
    Quota::per_second(u64::from(rate)).unwrap()
}

fn gov_quota(rate: u32) -> governor::Quota {
    governor::Quota::per_second(NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN))
}

/// A random stream of keys drawn from `n` distinct keys.
fn key_stream(n: u64, len: usize, seed: u64) -> Vec<u64> {
    let mut rng = SplitMix64::new(seed);
    (0..len)
        .map(|_| rng.below(n).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .collect()
}

fn direct(c: &mut Criterion) {
    let mut group = c.benchmark_group("ratelimit/direct");
    let tb = DirectLimiter::<TokenBucket, SystemClock>::new(keel_quota(DIRECT_RATE));
    group.bench_function("keel_token_bucket", |b| {
        b.iter(|| black_box(tb.check().allowed));
    });
    let gcra = DirectLimiter::<Gcra, SystemClock>::new(keel_quota(DIRECT_RATE));
    group.bench_function("keel_gcra", |b| {
        b.iter(|| black_box(gcra.check().allowed));
    });
    // The same check, reading every field of the decision (what a server filling the
    // `RateLimit` headers pays); not a function the issue names, kept for transparency.
    group.bench_function("keel_gcra_full_decision", |b| {
        b.iter(|| black_box(gcra.check()));
    });
    let gov = governor::RateLimiter::direct(gov_quota(DIRECT_RATE));
    group.bench_function("governor", |b| {
        b.iter(|| black_box(gov.check().is_ok()));
    });
    group.finish();
}

fn keyed_group(c: &mut Criterion, name: &str, keys: u64) {
    let stream = key_stream(keys, 1 << 20, 42);
    let keel: KeyedLimiter<u64, Gcra, SystemClock> = KeyedBuilder::new()
        .max_keys(2 * keys as usize)
        .build(keel_quota(KEYED_RATE), SystemClock::new());
    let gov = governor::RateLimiter::keyed(gov_quota(KEYED_RATE));
    // Warm both stores with every key, so the groups measure steady-state checks.
    for k in 0..keys {
        let key = k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        keel.check(&key);
        let _ = gov.check_key(&key);
    }
    let mut group = c.benchmark_group(name);
    let mut i = 0usize;
    group.bench_function("keel", |b| {
        b.iter(|| {
            i = (i + 1) & (stream.len() - 1);
            black_box(keel.check(&stream[i]).allowed)
        });
    });
    let mut i = 0usize;
    // Reading every field of the decision (header values); kept for transparency.
    group.bench_function("keel_full_decision", |b| {
        b.iter(|| {
            i = (i + 1) & (stream.len() - 1);
            black_box(keel.check(&stream[i]))
        });
    });
    let mut i = 0usize;
    group.bench_function("governor", |b| {
        b.iter(|| {
            i = (i + 1) & (stream.len() - 1);
            black_box(gov.check_key(&stream[i]).is_ok())
        });
    });
    group.finish();
}

fn keyed_10k(c: &mut Criterion) {
    keyed_group(c, "ratelimit/keyed_10k", 10_000);
}

fn keyed_1m(c: &mut Criterion) {
    keyed_group(c, "ratelimit/keyed_1m", 1_000_000);
}

/// Runs `check` on two threads, each over its own slice of one shared key stream, and returns
/// the wall time for `iters` checks per thread (criterion divides by `iters`).
fn two_threads(
    iters: u64,
    stream: &Arc<Vec<u64>>,
    check: &(dyn Fn(&u64) -> bool + Sync),
) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..2usize {
            let stream = Arc::clone(stream);
            s.spawn(move || {
                let mut i = t * (stream.len() / 2);
                for _ in 0..iters {
                    i = (i + 1) & (stream.len() - 1);
                    black_box(check(&stream[i]));
                }
            });
        }
    });
    start.elapsed()
}

fn keyed_contended_2t(c: &mut Criterion) {
    let stream = Arc::new(key_stream(10_000, 1 << 20, 7));
    let keel: KeyedLimiter<u64, Gcra, SystemClock> = KeyedLimiter::new(keel_quota(KEYED_RATE));
    let gov = governor::RateLimiter::keyed(gov_quota(KEYED_RATE));
    let mut group = c.benchmark_group("ratelimit/keyed_contended_2t");
    group.bench_function("keel", |b| {
        b.iter_custom(|iters| two_threads(iters, &stream, &|k| keel.check(k).allowed));
    });
    group.bench_function("governor", |b| {
        b.iter_custom(|iters| two_threads(iters, &stream, &|k| gov.check_key(k).is_ok()));
    });
    group.finish();
}

criterion_group!(benches, direct, keyed_10k, keyed_1m, keyed_contended_2t);
criterion_main!(benches);
