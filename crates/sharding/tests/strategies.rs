//! Behaviour of each strategy: balance, errors, replicas, weights, bounded loads.

use std::collections::HashSet;

use keel_sharding::{
    BoundedLoads, HashMod, HashSharder, Jump, Maglev, Memento, Rendezvous, Ring, ShardId,
    ShardingError, WeightedShard,
};

use crate::common::{key_hashes, loads, max_over_mean};

#[test]
fn empty_and_invalid_topologies_are_errors() {
    assert_eq!(HashMod::new(0).unwrap_err(), ShardingError::EmptyTopology);
    assert_eq!(Jump::new(0).unwrap_err(), ShardingError::EmptyTopology);
    assert_eq!(Memento::new(0).unwrap_err(), ShardingError::EmptyTopology);
    assert_eq!(Ring::new([], 10).unwrap_err(), ShardingError::EmptyTopology);
    assert_eq!(
        Ring::new([ShardId(1), ShardId(1)], 10).unwrap_err(),
        ShardingError::DuplicateShard(ShardId(1))
    );
    assert_eq!(
        Rendezvous::weighted([WeightedShard::new(3, 0)]).unwrap_err(),
        ShardingError::ZeroWeight(ShardId(3))
    );
    assert!(matches!(
        Ring::new([ShardId(1)], 0).unwrap_err(),
        ShardingError::InvalidParameter { name: "vnodes", .. }
    ));
    assert!(matches!(
        Ring::weighted([WeightedShard::new(1, u32::MAX)], 1000).unwrap_err(),
        ShardingError::TooManyPoints { .. }
    ));
    assert_eq!(
        BoundedLoads::new(Ring::new([ShardId(1)], 1).unwrap(), 0.0).unwrap_err(),
        ShardingError::InvalidEpsilon(0.0)
    );
    assert!(matches!(
        Maglev::weighted([WeightedShard::new(1, u32::MAX)], None),
        Err(ShardingError::InvalidParameter {
            name: "table_size",
            ..
        })
    ));
    assert!(matches!(
        Maglev::weighted([WeightedShard::new(1, 1)], Some(u64::MAX)),
        Err(ShardingError::InvalidParameter {
            name: "table_size",
            ..
        })
    ));
    assert!(Memento::new(u32::MAX).is_err());
    assert!(keel_sharding::HotKeyDetector::<u64>::new(usize::MAX).is_ok());
    let msg = ShardingError::ZeroWeight(ShardId(3)).to_string();
    assert!(msg.contains("weight of at least 1"), "{msg}");
}

#[test]
fn last_shard_cannot_leave() {
    let mut r = Ring::new([ShardId(7)], 10).unwrap();
    assert_eq!(
        r.remove_shard(ShardId(7)),
        Err(ShardingError::LastShard(ShardId(7)))
    );
    assert_eq!(
        r.remove_shard(ShardId(8)),
        Err(ShardingError::UnknownShard(ShardId(8)))
    );
    let mut m = Memento::new(1).unwrap();
    assert_eq!(
        m.remove_bucket(ShardId(0)),
        Err(ShardingError::LastShard(ShardId(0)))
    );
    let mut j = Jump::new(1).unwrap();
    assert!(j.remove_last_bucket().is_err());
    let mut rv = Rendezvous::new([ShardId(1)]).unwrap();
    assert_eq!(
        rv.remove_shard(ShardId(1)),
        Err(ShardingError::LastShard(ShardId(1)))
    );
}

#[test]
fn balanced_strategies_stay_within_ten_percent() {
    let hashes = key_hashes(7, 200_000);
    let n = 20;
    let cases: Vec<(&str, f64)> = vec![
        (
            "jump",
            max_over_mean(&loads(&Jump::new(n).unwrap(), &hashes), n as usize),
        ),
        (
            "memento",
            max_over_mean(&loads(&Memento::new(n).unwrap(), &hashes), n as usize),
        ),
        (
            "maglev",
            max_over_mean(
                &loads(&Maglev::new((0..n).map(ShardId)).unwrap(), &hashes),
                n as usize,
            ),
        ),
        (
            "rendezvous",
            max_over_mean(
                &loads(&Rendezvous::new((0..n).map(ShardId)).unwrap(), &hashes),
                n as usize,
            ),
        ),
        (
            "hashmod",
            max_over_mean(&loads(&HashMod::new(n).unwrap(), &hashes), n as usize),
        ),
        (
            "ring-1000",
            max_over_mean(
                &loads(&Ring::new((0..n).map(ShardId), 1000).unwrap(), &hashes),
                n as usize,
            ),
        ),
    ];
    for (name, mm) in cases {
        assert!(mm <= 1.10, "{name}: max/mean {mm:.3}");
    }
}

#[test]
fn weights_give_proportional_shares() {
    let hashes = key_hashes(11, 200_000);
    let shards = [
        WeightedShard::new(1, 1),
        WeightedShard::new(2, 2),
        WeightedShard::new(3, 5),
    ];
    let check = |name: &str, s: &dyn Fn(u64) -> ShardId| {
        let mut c = [0u64; 4];
        for &h in &hashes {
            c[s(h).0 as usize] += 1;
        }
        for (id, w) in [(1usize, 1.0), (2, 2.0), (3, 5.0)] {
            let share = c[id] as f64 / hashes.len() as f64;
            let want = w / 8.0;
            assert!(
                (share - want).abs() < 0.1 * want,
                "{name}: shard {id} share {share:.3}, want {want:.3}"
            );
        }
    };
    let rdv = Rendezvous::weighted(shards).unwrap();
    check("rendezvous", &|h| rdv.shard_for_hash(h));
    let ring = Ring::weighted(shards, 1000).unwrap();
    check("ring", &|h| ring.shard_for_hash(h));
    let maglev = Maglev::weighted(shards, None).unwrap();
    check("maglev", &|h| maglev.shard_for_hash(h));
}

#[test]
fn ring_replicas_are_distinct_and_start_with_owner() {
    let ring = Ring::new((0..8).map(ShardId), 50).unwrap();
    for h in key_hashes(3, 2000) {
        let reps = ring.replicas_for_hash(h, 3);
        assert_eq!(reps.len(), 3);
        assert_eq!(reps[0], ring.shard_for_hash(h));
        assert_eq!(reps.iter().collect::<HashSet<_>>().len(), 3);
    }
    // Asking for more replicas than shards gives every shard once.
    assert_eq!(ring.replicas("k", 20).len(), 8);
    let rdv = Rendezvous::new((0..8).map(ShardId)).unwrap();
    let top = rdv.top_k_for_hash(99, 3);
    assert_eq!(top[0], rdv.shard_for_hash(99));
    assert_eq!(top.iter().collect::<HashSet<_>>().len(), 3);
}

#[test]
fn ring_matches_a_naive_binary_search() {
    // Differential test of the prefix index against a plain search over all points.
    let ring = Ring::new((0..37).map(ShardId), 13).unwrap();
    let mut pts: Vec<(u64, u32)> = Vec::new();
    for s in 0..37u32 {
        for v in 0..13u32 {
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&s.to_le_bytes());
            b[4..].copy_from_slice(&v.to_le_bytes());
            pts.push((keel_sharding::stable_hash(&b), s));
        }
    }
    pts.sort_unstable();
    pts.dedup_by_key(|p| p.0);
    let mut probes = key_hashes(5, 20_000);
    probes.extend(pts.iter().map(|p| p.0)); // exact hits
    probes.extend([
        0,
        u64::MAX,
        pts[0].0.wrapping_sub(1),
        pts.last().unwrap().0 + 1,
    ]);
    for h in probes {
        let i = pts.partition_point(|p| p.0 < h);
        let want = pts.get(i).unwrap_or(&pts[0]).1;
        assert_eq!(ring.shard_for_hash(h), ShardId(want), "hash {h:#x}");
    }
}

#[test]
fn ring_differs_from_peer_only_in_hash_not_in_semantics() {
    // Differential against consistent_hash_ring: same shards, same vnode count, same number
    // of distinct owners, and both keep keys on old shards when one is added.
    let peer = consistent_hash_ring::RingBuilder::default()
        .vnodes(100)
        .nodes_iter(0u32..10)
        .build();
    let ours = Ring::new((0..10).map(ShardId), 100).unwrap();
    assert_eq!(peer.len(), ours.len());
    assert_eq!(peer.vnodes(), ours.point_count());
    let mut peer2 = peer.clone();
    peer2.insert(10u32);
    for i in 0..5000u64 {
        let (a, b) = (*peer.get(i), *peer2.get(i));
        assert!(a == b || b == 10);
    }
}

#[test]
fn bounded_loads_never_exceed_the_bound() {
    let ring = Ring::new((0..10).map(ShardId), 100).unwrap();
    let mut b = BoundedLoads::new(ring, 0.1).unwrap();
    // Skewed input: half the assignments hash to the same position.
    for (i, h) in key_hashes(1, 20_000).into_iter().enumerate() {
        b.assign_hash(if i % 2 == 0 { 42 } else { h });
        let cap_now = ((1.1 * b.total() as f64) / 10.0)
            .floor()
            .max((b.total() as f64 / 10.0).ceil());
        assert!(
            b.max_load() as f64 <= cap_now.max(1.0),
            "load {} above {cap_now}",
            b.max_load()
        );
    }
    assert!(b.max_load() as f64 <= 1.1 * 2000.0);
    let (busiest, load) = b.loads().into_iter().max_by_key(|&(_, l)| l).unwrap();
    let before = b.total();
    b.release(busiest).unwrap();
    assert_eq!((b.total(), b.load(busiest)), (before - 1, load - 1));
    let idle = ShardId(50);
    b.add_shard(WeightedShard::new(50, 1)).unwrap();
    assert!(
        b.release(idle).is_err(),
        "nothing to release on a fresh shard"
    );
    assert!(b.release(ShardId(99)).is_err());
}

#[test]
fn bounded_loads_with_no_pressure_is_the_ring() {
    let ring = Ring::new((0..10).map(ShardId), 100).unwrap();
    let b = BoundedLoads::new(ring.clone(), 0.25).unwrap();
    for h in key_hashes(2, 1000) {
        assert_eq!(b.shard_for_hash(h), ring.shard_for_hash(h));
    }
}

#[test]
fn hashmod_moves_nearly_everything() {
    let hashes = key_hashes(9, 20_000);
    let (a, b) = (HashMod::new(10).unwrap(), HashMod::new(11).unwrap());
    let moved = hashes
        .iter()
        .filter(|&&h| a.shard_for_hash(h) != b.shard_for_hash(h))
        .count();
    let f = moved as f64 / hashes.len() as f64;
    assert!((f - 10.0 / 11.0).abs() < 0.02, "{f}");
}

fn naive_owner(shards: &[(u32, u32)], vnodes: u32, h: u64) -> ShardId {
    let mut pts: Vec<(u64, u32)> = Vec::new();
    for &(s, w) in shards {
        for v in 0..w * vnodes {
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&s.to_le_bytes());
            b[4..].copy_from_slice(&v.to_le_bytes());
            pts.push((keel_sharding::stable_hash(&b), s));
        }
    }
    pts.sort_unstable();
    pts.dedup_by_key(|p| p.0);
    let i = pts.partition_point(|p| p.0 < h);
    ShardId(pts.get(i).unwrap_or(&pts[0]).1)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// The indexed ring answers like a plain binary search over the sorted points, after any
    /// sequence of additions and removals.
    #[test]
    fn ring_index_matches_naive_after_changes(
        ids in proptest::collection::btree_set(0u32..5000, 1..12),
        weights in proptest::collection::vec(1u32..4, 12),
        vnodes in 1u32..40,
        extra in 5000u32..6000,
        probes in proptest::collection::vec(proptest::prelude::any::<u64>(), 64),
    ) {
        let mut shards: Vec<(u32, u32)> = ids.iter().zip(&weights).map(|(&i, &w)| (i, w)).collect();
        let mut ring = Ring::weighted(shards.iter().map(|&(i, w)| WeightedShard::new(i, w)), vnodes).unwrap();
        for &h in &probes {
            proptest::prop_assert_eq!(ring.shard_for_hash(h), naive_owner(&shards, vnodes, h));
        }
        ring.add_shard(ShardId(extra), 2).unwrap();
        shards.push((extra, 2));
        let gone = shards.remove(0);
        ring.remove_shard(ShardId(gone.0)).unwrap();
        for &h in &probes {
            proptest::prop_assert_eq!(ring.shard_for_hash(h), naive_owner(&shards, vnodes, h));
            let reps = ring.replicas_for_hash(h, 2);
            proptest::prop_assert_eq!(reps[0], ring.shard_for_hash(h));
        }
    }
}
