//! Helpers shared by the test modules.

use std::collections::HashMap;

use keel_sharding::{HashSharder, ShardId, mix64};

/// `n` pseudo-random key hashes from a seed (deterministic).
pub(crate) fn key_hashes(seed: u64, n: usize) -> Vec<u64> {
    (0..n as u64).map(|i| mix64(seed ^ mix64(i + 1))).collect()
}

/// Counts of keys per shard.
pub(crate) fn loads(s: &impl HashSharder, hashes: &[u64]) -> HashMap<ShardId, u64> {
    let mut m = HashMap::new();
    for &h in hashes {
        *m.entry(s.shard_for_hash(h)).or_insert(0) += 1;
    }
    m
}

/// max / mean over `n` shards.
pub(crate) fn max_over_mean(loads: &HashMap<ShardId, u64>, n: usize) -> f64 {
    let total: u64 = loads.values().sum();
    let max = loads.values().copied().max().unwrap_or(0);
    max as f64 / (total as f64 / n as f64)
}

/// Checks that every moved key went to `new_shard`, and returns the moved fraction.
pub(crate) fn moved_only_to(
    old: &impl HashSharder,
    new: &impl HashSharder,
    hashes: &[u64],
    new_shard: ShardId,
) -> f64 {
    let mut moved = 0usize;
    for &h in hashes {
        let (a, b) = (old.shard_for_hash(h), new.shard_for_hash(h));
        if a != b {
            assert_eq!(
                b, new_shard,
                "key {h:#x} moved between two old shards {a} -> {b}"
            );
            moved += 1;
        }
    }
    moved as f64 / hashes.len() as f64
}
