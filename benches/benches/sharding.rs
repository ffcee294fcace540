//! keel-sharding beside consistent_hash_ring 0.8.
//!
//! Run: `cargo bench -p keel-benches --bench sharding`
//!
//! `sharding/lookup`: one key lookup, keys drawn from a fixed pseudo-random set (the same keys
//! for every function), rings with 100 virtual nodes per node on both sides.
//! `sharding/build`: build a ring of 1,000 nodes x 100 virtual nodes.

// A bench unwraps: a failed setup is a failed bench.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use consistent_hash_ring::RingBuilder;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use keel_sharding::{
    BoundedLoads, HashMod, Jump, Maglev, Memento, Rendezvous, Ring, ShardId, Sharder, mix64,
};

const VNODES: u32 = 100;
const KEYS: usize = 1 << 16;

fn keys() -> Vec<u64> {
    (0..KEYS as u64).map(|i| mix64(i ^ 0x5eed)).collect()
}

fn bench_one<S: Sharder<u64>>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    n: u32,
    s: &S,
    keys: &[u64],
) {
    c.bench_with_input(BenchmarkId::new(name, n), keys, |b, keys| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & (KEYS - 1);
            black_box(s.shard(black_box(&keys[i])))
        });
    });
}

fn lookup(c: &mut Criterion) {
    let keys = keys();
    let mut g = c.benchmark_group("sharding/lookup");
    for n in [10u32, 100, 1000] {
        let ring = Ring::new((0..n).map(ShardId), VNODES).unwrap();
        bench_one(&mut g, "keel_ring", n, &ring, &keys);

        let peer = RingBuilder::default()
            .vnodes(VNODES as usize)
            .nodes_iter(0..n)
            .build();
        g.bench_with_input(BenchmarkId::new("chr_ring", n), &keys, |b, keys| {
            let mut i = 0usize;
            b.iter(|| {
                i = (i + 1) & (KEYS - 1);
                black_box(*peer.get(black_box(keys[i])))
            });
        });

        bench_one(&mut g, "keel_jump", n, &Jump::new(n).unwrap(), &keys);
        let mut memento = Memento::new(n).unwrap();
        // A realistic memento: a tenth of the buckets removed (not the last ones).
        for b in (0..n).step_by(10) {
            memento.remove_bucket(ShardId(b)).unwrap();
        }
        bench_one(&mut g, "keel_memento", n, &memento, &keys);
        bench_one(
            &mut g,
            "keel_rendezvous",
            n,
            &Rendezvous::new((0..n).map(ShardId)).unwrap(),
            &keys,
        );
        bench_one(
            &mut g,
            "keel_maglev",
            n,
            &Maglev::new((0..n).map(ShardId)).unwrap(),
            &keys,
        );
        bench_one(&mut g, "keel_hashmod", n, &HashMod::new(n).unwrap(), &keys);
        // Bounded loads (epsilon 0.25) holding 100 assignments per shard.
        let mut bounded = BoundedLoads::new(ring.clone(), 0.25).unwrap();
        for k in 0..u64::from(n) * 100 {
            bounded.assign(&mix64(k));
        }
        bench_one(&mut g, "keel_bounded", n, &bounded, &keys);
    }
    g.finish();
}

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("sharding/build");
    g.sample_size(10);
    g.bench_function("keel_ring", |b| {
        b.iter(|| black_box(Ring::new((0..1000).map(ShardId), 100).unwrap()));
    });
    g.bench_function("chr_ring", |b| {
        b.iter(|| {
            black_box(
                RingBuilder::default()
                    .vnodes(100)
                    .nodes_iter(0u32..1000)
                    .build(),
            )
        });
    });
    g.finish();
}

criterion_group!(benches, lookup, build);
criterion_main!(benches);
