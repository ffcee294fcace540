//! Scatter-gather: concurrency limit, per-shard timeout on tokio's paused clock, failures
//! named, ordered merge with a limit.

use std::{
    cmp::Reverse,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use keel_sharding::{RangeSharder, ScatterConfig, ShardFailure, ShardId, scatter, scatter_merge};

#[allow(clippy::unwrap_used)] // a helper of tests: a failure fails the test
fn cfg(c: usize, ms: u64) -> ScatterConfig {
    ScatterConfig::new(c, Duration::from_millis(ms)).unwrap()
}

#[tokio::test(start_paused = true)]
async fn slow_shard_times_out_and_is_named() {
    let shards: Vec<ShardId> = (0..4).map(ShardId).collect();
    let got = scatter(&shards, cfg(4, 100), |s| async move {
        if s == ShardId(2) {
            tokio::time::sleep(Duration::from_secs(10)).await; // paused clock: instant
        }
        Ok::<_, String>(s.0)
    })
    .await;
    assert_eq!(
        got.ok,
        vec![(ShardId(0), 0), (ShardId(1), 1), (ShardId(3), 3)]
    );
    assert_eq!(got.failed, vec![(ShardId(2), ShardFailure::TimedOut)]);
    assert!(!got.is_complete());
}

#[tokio::test(start_paused = true)]
async fn concurrency_limit_is_respected() {
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let shards: Vec<ShardId> = (0..20).map(ShardId).collect();
    let got = scatter(&shards, cfg(3, 1000), |s| {
        let (running, peak) = (running.clone(), peak.clone());
        async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
            running.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, ()>(s)
        }
    })
    .await;
    assert_eq!(got.ok.len(), 20);
    assert_eq!(peak.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn merged_pages_are_ordered_limited_and_name_failures() {
    // Shard s holds events at times t where t % 4 == s; newest first.
    let rows = |s: ShardId, before: u64, limit: usize| -> Vec<u64> {
        (0..before)
            .rev()
            .filter(|t| t % 4 == u64::from(s.0))
            .take(limit)
            .collect()
    };
    let shards: Vec<ShardId> = (0..4).map(ShardId).collect();
    let mut before = 100u64;
    let mut all = Vec::new();
    loop {
        let page = scatter_merge(
            &shards,
            cfg(4, 100),
            7,
            |t: &u64| Reverse(*t),
            |s| {
                let r = rows(s, before, 7);
                async move { Ok::<_, ()>(r) }
            },
        )
        .await;
        assert!(page.is_complete());
        all.extend(page.items.iter().copied());
        match page.items.last() {
            Some(&last) if page.has_more => before = last,
            _ => break,
        }
    }
    assert_eq!(
        all,
        (0..100).rev().collect::<Vec<u64>>(),
        "every row once, in order"
    );

    let page = scatter_merge(
        &shards,
        cfg(4, 100),
        5,
        |t: &u64| Reverse(*t),
        |s| {
            let r = rows(s, 100, 5);
            async move { if s == ShardId(1) { Err("down") } else { Ok(r) } }
        },
    )
    .await;
    assert_eq!(page.items, vec![99, 98, 96, 95, 94]);
    assert_eq!(
        page.failed,
        vec![(ShardId(1), ShardFailure::Failed("down"))]
    );
}

#[tokio::test(start_paused = true)]
async fn range_query_touches_only_its_shards() {
    let ranges =
        RangeSharder::from_splits(vec![100u64, 200, 300], (0..4).map(ShardId).collect()).unwrap();
    let touched = ranges.shards_for_range(150..250);
    let got = scatter(&touched, cfg(2, 100), |s| async move { Ok::<_, ()>(s) }).await;
    assert_eq!(
        got.ok.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![ShardId(1), ShardId(2)]
    );
}

#[tokio::test(start_paused = true)]
async fn a_spread_hot_key_is_read_back_by_scatter_gather() {
    use keel_sharding::{Jump, KeySpreader, stable_hash};
    use std::collections::HashMap;
    // A hot counter spread over 8 sub-keys on 16 shards; each shard stores its sub-keys.
    let jump = Jump::new(16).unwrap();
    let spread = KeySpreader::new(8).unwrap();
    let mut stores: HashMap<ShardId, HashMap<Vec<u8>, u64>> = HashMap::new();
    for salt in 0..1000u64 {
        let k = spread.write_key(b"likes:post:1", salt);
        let shard = keel_sharding::HashSharder::shard_for_hash(&jump, stable_hash(&k));
        *stores.entry(shard).or_default().entry(k).or_default() += 1;
    }
    let plan = spread.read_plan(b"likes:post:1", &jump);
    let shards = spread.read_shards(b"likes:post:1", &jump);
    let stores = &stores;
    let plan = &plan;
    let got = scatter(&shards, cfg(4, 100), |s| async move {
        let sum: u64 = plan
            .iter()
            .filter(|(_, owner)| *owner == s)
            .map(|(k, _)| stores.get(&s).and_then(|m| m.get(k)).copied().unwrap_or(0))
            .sum();
        Ok::<_, ()>(sum)
    })
    .await;
    assert!(got.is_complete());
    assert_eq!(
        got.ok.iter().map(|(_, n)| n).sum::<u64>(),
        1000,
        "every write read back"
    );
}

#[test]
fn config_is_validated() {
    assert!(ScatterConfig::new(0, Duration::from_secs(1)).is_err());
    assert!(ScatterConfig::new(1, Duration::ZERO).is_err());
}
