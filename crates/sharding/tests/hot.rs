//! Hot-key detection (space-saving guarantees) and key spreading.

use std::collections::HashMap;

use keel_sharding::{HotKeyDetector, Jump, KeySpreader, ShardId, stable_hash};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Space-saving's guarantees on any stream: counts never underestimate, `count - error`
    /// never overestimates, and every key above total/capacity is tracked.
    #[test]
    fn space_saving_bounds_hold(stream in proptest::collection::vec(0u32..60, 1..2000), cap in 1usize..20) {
        let mut d = HotKeyDetector::new(cap).unwrap();
        let mut truth: HashMap<u32, u64> = HashMap::new();
        for &k in &stream {
            d.record(k);
            *truth.entry(k).or_default() += 1;
        }
        let tracked = d.top(cap);
        prop_assert!(tracked.len() <= cap);
        for h in &tracked {
            let t = truth[&h.key];
            prop_assert!(h.count >= t);
            prop_assert!(h.count - h.error <= t);
        }
        let total = stream.len() as u64;
        for (k, &t) in &truth {
            if t * cap as u64 > total {
                prop_assert!(tracked.iter().any(|h| h.key == *k), "key {k} with {t} of {total} not tracked");
            }
        }
    }
}

#[test]
fn detector_finds_a_hot_key_in_bounded_memory() {
    let mut d = HotKeyDetector::new(32).unwrap();
    for i in 0..100_000u64 {
        d.record(if i % 10 == 0 { u64::MAX } else { i });
    }
    let hot = d.hot_keys(0.05);
    assert_eq!(hot.len(), 1);
    assert_eq!(hot[0].key, u64::MAX);
    assert!(hot[0].count - hot[0].error <= 10_000 && hot[0].count >= 10_000);
    assert_eq!(d.top(100).len(), 32);
    d.decay();
    assert_eq!(d.total(), 50_000);
    d.clear();
    assert!(d.top(1).is_empty());
    assert!(HotKeyDetector::<u8>::new(0).is_err());
}

#[test]
fn spreading_a_key_covers_several_shards_and_every_sub_key_is_read() {
    let spread = KeySpreader::new(8).unwrap();
    let jump = Jump::new(64).unwrap();
    let reads = spread.read_plan(b"hot", &jump);
    assert_eq!(reads.len(), 8);
    assert!(
        spread.read_shards(b"hot", &jump).len() >= 4,
        "8 sub-keys over 64 shards spread out"
    );
    // Every write lands on one of the read sub-keys, and writes use all of them.
    let mut used = std::collections::HashSet::new();
    for salt in 0..1000u64 {
        let w = spread.write_key(b"hot", salt);
        assert!(reads.iter().any(|(k, _)| *k == w));
        used.insert(w);
    }
    assert_eq!(used.len(), 8);
    assert_eq!(spread.sub_key(b"k", 3), b"k#3".to_vec());
    assert_eq!(
        reads[0].1,
        ShardId(keel_sharding::jump_hash(stable_hash(b"hot#0"), 64))
    );
    assert!(KeySpreader::new(1).is_err());
}
