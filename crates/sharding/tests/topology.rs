//! Topologies from config files: serde round trips and typed validation errors.

use keel_sharding::{
    HashSharder, KeyRange, RangeTopology, Ring, ShardId, Sharder, ShardingError, Topology,
    WeightedShard,
};

use crate::common::key_hashes;

#[test]
fn json_topologies_build_the_same_sharder_as_code() {
    let t: Topology = serde_json::from_str(
        r#"{"strategy":"ring","vnodes":100,"shards":[{"id":1},{"id":2,"weight":3}]}"#,
    )
    .unwrap();
    let built = t.build().unwrap();
    let direct = Ring::weighted([WeightedShard::new(1, 1), WeightedShard::new(2, 3)], 100).unwrap();
    for h in key_hashes(4, 2000) {
        assert_eq!(built.shard_for_hash(h), direct.shard_for_hash(h));
    }
    let back: Topology = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
    assert_eq!(back, t);

    for json in [
        r#"{"strategy":"jump","shards":10}"#,
        r#"{"strategy":"hash_mod","shards":10}"#,
        r#"{"strategy":"memento","buckets":10,"removed":[3,5]}"#,
        r#"{"strategy":"rendezvous","shards":[{"id":1},{"id":2}]}"#,
        r#"{"strategy":"maglev","shards":[{"id":1},{"id":2}],"table_size":1000}"#,
        r#"{"strategy":"bounded_loads","vnodes":50,"epsilon":0.25,"shards":[{"id":1},{"id":2}]}"#,
    ] {
        let t: Topology = serde_json::from_str(json).unwrap();
        let s = t.build().unwrap();
        let _ = s.shard("k");
    }
}

#[test]
fn invalid_topologies_give_typed_errors() {
    let cases = [
        (
            r#"{"strategy":"ring","vnodes":10,"shards":[]}"#,
            ShardingError::EmptyTopology,
        ),
        (
            r#"{"strategy":"ring","vnodes":10,"shards":[{"id":1},{"id":1}]}"#,
            ShardingError::DuplicateShard(ShardId(1)),
        ),
        (
            r#"{"strategy":"rendezvous","shards":[{"id":4,"weight":0}]}"#,
            ShardingError::ZeroWeight(ShardId(4)),
        ),
        (
            r#"{"strategy":"jump","shards":0}"#,
            ShardingError::EmptyTopology,
        ),
        (
            r#"{"strategy":"memento","buckets":3,"removed":[7]}"#,
            ShardingError::UnknownShard(ShardId(7)),
        ),
        (
            r#"{"strategy":"bounded_loads","vnodes":5,"epsilon":-1,"shards":[{"id":1}]}"#,
            ShardingError::InvalidEpsilon(-1.0),
        ),
    ];
    for (json, err) in cases {
        let t: Topology = serde_json::from_str(json).unwrap();
        assert_eq!(t.validate().unwrap_err(), err, "{json}");
        assert!(t.build().is_err());
    }
    // Unknown fields are rejected rather than ignored.
    assert!(
        serde_json::from_str::<Topology>(r#"{"strategy":"jump","shards":3,"vnodes":9}"#).is_err()
    );
}

#[test]
fn topology_plan_summarises_moves() {
    let old = Topology::Jump { shards: 10 };
    let new = Topology::Jump { shards: 11 };
    let plan = old.plan(&new, key_hashes(8, 20_000)).unwrap();
    assert_eq!(plan.moved, plan.moved_into(ShardId(10)));
    assert!((plan.moved_fraction() - 1.0 / 11.0).abs() < 0.01);
}

#[test]
fn range_topology_round_trips() {
    let t = RangeTopology {
        ranges: vec![
            KeyRange {
                start: None,
                end: Some("m".to_owned()),
                shard: ShardId(0),
            },
            KeyRange {
                start: Some("m".to_owned()),
                end: None,
                shard: ShardId(1),
            },
        ],
    };
    let json = serde_json::to_string(&t).unwrap();
    let back: RangeTopology<String> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
    assert_eq!(back.build().unwrap().shard(&"zed".to_owned()), ShardId(1));
}

#[cfg(feature = "serde")]
mod config_files {
    use keel_sharding::{
        DirectoryTopology, GeoKey, GeoTopology, ShardId, Sharder, ShardingError, Topology,
    };

    #[test]
    fn geo_and_directory_topologies_load_from_config_and_validate() {
        let geo: GeoTopology = serde_json::from_str(
            r#"{"default_region": "us", "regions": {
                "us": {"strategy": "jump", "shards": 4},
                "eu": {"strategy": "rendezvous", "shards": [{"id": 10}, {"id": 11}]}}}"#,
        )
        .unwrap();
        let built = geo.build().unwrap();
        for i in 0..200 {
            let key = format!("user:{i}");
            let eu = built.shard(&GeoKey {
                region: "eu",
                key: key.as_str(),
            });
            assert!(eu == ShardId(10) || eu == ShardId(11));
            let mars = built.shard(&GeoKey {
                region: "mars",
                key: key.as_str(),
            });
            assert_eq!(
                mars,
                built.shard(&GeoKey {
                    region: "us",
                    key: key.as_str()
                })
            );
        }
        let json = serde_json::to_string(&geo).unwrap();
        assert_eq!(serde_json::from_str::<GeoTopology>(&json).unwrap(), geo);

        let mut bad = geo.clone();
        bad.default_region = "asia".into();
        assert!(matches!(bad.validate(), Err(ShardingError::UnknownRegion(r)) if r == "asia"));
        let mut bad = geo;
        bad.regions
            .insert("ap".into(), Topology::Jump { shards: 0 });
        assert!(matches!(bad.build(), Err(ShardingError::EmptyTopology)));
        assert!(serde_json::from_str::<GeoTopology>(r#"{"regions": {}}"#).is_err());

        let dir: DirectoryTopology<String> = serde_json::from_str(
            r#"{"fallback": {"strategy": "jump", "shards": 8},
                "entries": [{"key": "tenant:big", "shard": 100}]}"#,
        )
        .unwrap();
        let built = dir.build().unwrap();
        assert_eq!(built.shard(&"tenant:big".to_owned()), ShardId(100));
        assert!(built.shard(&"tenant:small".to_owned()).0 < 8);

        let twice: DirectoryTopology<String> = serde_json::from_str(
            r#"{"fallback": {"strategy": "jump", "shards": 8},
                "entries": [{"key": "a", "shard": 1}, {"key": "a", "shard": 2}]}"#,
        )
        .unwrap();
        assert!(matches!(
            twice.validate(),
            Err(ShardingError::InvalidParameter {
                name: "entries",
                ..
            })
        ));
        assert!(
            serde_json::from_str::<DirectoryTopology<String>>(
                r#"{"fallback": {"strategy": "jump", "shards": 8}, "bogus": 1}"#
            )
            .is_err()
        );
    }
}
