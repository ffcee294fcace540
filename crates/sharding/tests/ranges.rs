//! Range sharding, its validation, its rebalance plan and the hot-range split.

use keel_sharding::{
    KeyRange, RangeSharder, RangeTopology, ShardId, Sharder, ShardingError, range_plan,
    split_hot_range,
};
use proptest::prelude::*;

fn r(start: Option<u32>, end: Option<u32>, shard: u32) -> KeyRange<u32> {
    KeyRange {
        start,
        end,
        shard: ShardId(shard),
    }
}

#[test]
fn keys_go_to_their_range() {
    let s = RangeSharder::from_splits(vec![10u32, 20, 30], (0..4).map(ShardId).collect()).unwrap();
    for (k, want) in [
        (0, 0),
        (9, 0),
        (10, 1),
        (19, 1),
        (20, 2),
        (30, 3),
        (u32::MAX, 3),
    ] {
        assert_eq!(s.shard(&k), ShardId(want), "key {k}");
    }
    assert_eq!(s.shards_for_range(12..25), vec![ShardId(1), ShardId(2)]);
    assert_eq!(
        s.shards_for_range(12..20),
        vec![ShardId(1)],
        "end excluded at a split"
    );
    assert_eq!(s.shards_for_range(12..=20), vec![ShardId(1), ShardId(2)]);
    assert_eq!(
        s.shards_for_range(..),
        (0..4).map(ShardId).collect::<Vec<_>>()
    );
    assert_eq!(s.shards_for_range(35..), vec![ShardId(3)]);
}

#[test]
fn split_merge_and_reassign() {
    let mut s = RangeSharder::new(ShardId(0));
    s.split(50u32, ShardId(1)).unwrap();
    s.split(25, ShardId(2)).unwrap();
    assert_eq!(
        s.ranges(),
        vec![
            r(None, Some(25), 0),
            r(Some(25), Some(50), 2),
            r(Some(50), None, 1)
        ]
    );
    assert!(matches!(
        s.split(25, ShardId(3)),
        Err(ShardingError::InvalidRangeChange(_))
    ));
    s.merge(1).unwrap();
    assert_eq!(s.ranges(), vec![r(None, Some(25), 0), r(Some(25), None, 2)]);
    assert!(s.merge(1).is_err());
    s.reassign(0, ShardId(9)).unwrap();
    assert_eq!(s.shard(&3), ShardId(9));
    assert!(s.reassign(5, ShardId(1)).is_err());
}

#[test]
fn range_topologies_are_validated() {
    let ok = RangeTopology {
        ranges: vec![r(None, Some(10), 0), r(Some(10), None, 1)],
    };
    assert_eq!(ok.build().unwrap().shard(&15), ShardId(1));
    let cases = [
        (vec![], ShardingError::EmptyTopology),
        (
            vec![r(None, Some(10), 0), r(Some(5), None, 1)],
            ShardingError::OverlappingRanges {
                index: 1,
                previous: 0,
            },
        ),
        (
            vec![r(None, Some(10), 0), r(Some(12), None, 1)],
            ShardingError::GappedRanges {
                index: 1,
                previous: 0,
            },
        ),
    ];
    for (ranges, err) in cases {
        assert_eq!(RangeTopology { ranges }.validate().unwrap_err(), err);
    }
    assert!(matches!(
        RangeTopology {
            ranges: vec![r(Some(1), None, 0)]
        }
        .validate(),
        Err(ShardingError::UncoveredRange(_))
    ));
    assert!(matches!(
        RangeTopology {
            ranges: vec![r(None, Some(9), 0)]
        }
        .validate(),
        Err(ShardingError::UncoveredRange(_))
    ));
    let msg = ShardingError::GappedRanges {
        index: 1,
        previous: 0,
    }
    .to_string();
    assert!(msg.contains("start exactly where"), "{msg}");
}

#[test]
fn range_plan_lists_exactly_the_moved_ranges() {
    let old = RangeSharder::from_splits(vec![10u32, 20], vec![ShardId(0), ShardId(1), ShardId(2)])
        .unwrap();
    let mut new = old.clone();
    new.split(15, ShardId(3)).unwrap(); // [15, 20) moves 1 -> 3
    new.merge(0).unwrap(); // [10, 15) moves 1 -> 0
    let plan = range_plan(&old, &new);
    let got: Vec<(Option<u32>, Option<u32>, u32, u32)> = plan
        .iter()
        .map(|m| (m.range.start, m.range.end, m.from.0, m.range.shard.0))
        .collect();
    assert_eq!(
        got,
        vec![(Some(10), Some(15), 1, 0), (Some(15), Some(20), 1, 3)]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The plan agrees with a key-by-key comparison over every key of a small domain.
    #[test]
    fn range_plan_matches_key_by_key(
        splits_a in proptest::collection::btree_set(1u32..200, 0..8),
        splits_b in proptest::collection::btree_set(1u32..200, 0..8),
        seed in any::<u32>(),
    ) {
        let a: Vec<u32> = splits_a.into_iter().collect();
        let b: Vec<u32> = splits_b.into_iter().collect();
        let sa = (0..=a.len() as u32).map(|i| ShardId((i + seed) % 3)).collect();
        let sb = (0..=b.len() as u32).map(|i| ShardId((i * 7 + seed) % 3)).collect();
        let old = RangeSharder::from_splits(a, sa).unwrap();
        let new = RangeSharder::from_splits(b, sb).unwrap();
        let plan = range_plan(&old, &new);
        for k in 0u32..220 {
            let mv = plan.iter().find(|m| {
                m.range.start.is_none_or(|s| s <= k) && m.range.end.is_none_or(|e| k < e)
            });
            match mv {
                Some(m) => {
                    prop_assert_eq!(old.shard(&k), m.from);
                    prop_assert_eq!(new.shard(&k), m.range.shard);
                }
                None => prop_assert_eq!(old.shard(&k), new.shard(&k)),
            }
        }
    }
}

#[test]
fn hot_range_splits_at_the_median_of_accesses() {
    let mut s = RangeSharder::new(ShardId(0));
    let accessed: Vec<u32> = (100..200).collect();
    let at = split_hot_range(&mut s, &accessed, ShardId(1)).unwrap();
    assert_eq!(at, 150);
    let (lo, hi) = accessed
        .iter()
        .partition::<Vec<u32>, _>(|k| s.shard(*k) == ShardId(0));
    assert_eq!((lo.len(), hi.len()), (50, 50));
    assert!(split_hot_range(&mut s, &[], ShardId(2)).is_err());
    // A range holding one hot key cannot be split at it twice: spread the key instead.
    assert!(split_hot_range(&mut s, &[150, 150, 150], ShardId(2)).is_err());
}
