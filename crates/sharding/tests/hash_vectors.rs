//! The stable hash and every derived placement are pinned: a change here breaks every user's
//! data placement, so these values must never change.

use keel_sharding::{
    HashSharder, Jump, Maglev, Memento, Rendezvous, Ring, ShardId, ShardKey, Sharder, jump_hash,
    mix64, stable_hash,
};

#[test]
fn xxh3_reference_vectors() {
    // XXH3-64, seed 0 (xxHash 0.8 reference values).
    assert_eq!(stable_hash(b""), 0x2d06_8005_38d3_94c2);
    assert_eq!(stable_hash(b"a"), 0xe6c6_32b6_1e96_4e1f);
    assert_eq!(stable_hash(b"abc"), 0x78af_5f94_892f_3950);
    assert_eq!(stable_hash(b"user:42"), 0x9fc1_e605_fa71_74aa);
    assert_eq!(
        stable_hash(b"The quick brown fox jumps over the lazy dog"),
        0xce7d_19a5_418f_b365
    );
}

#[test]
fn key_types_hash_canonical_bytes() {
    assert_eq!("abc".shard_hash(), stable_hash(b"abc"));
    assert_eq!(String::from("abc").shard_hash(), stable_hash(b"abc"));
    assert_eq!(b"abc".to_vec().shard_hash(), stable_hash(b"abc"));
    assert_eq!(42u64.shard_hash(), 0xd5a6_f8c8_38df_27c8);
    assert_eq!(42u64.shard_hash(), stable_hash(&42u64.to_le_bytes()));
    assert_eq!((-1i32).shard_hash(), stable_hash(&[0xff; 4]));
    assert_eq!(mix64(1), 0xb456_bcfc_34c2_cb2c);
}

#[test]
fn jump_matches_reference() {
    assert_eq!(jump_hash(0x1234_5678_9abc_def0, 1000), 399);
    // Values from the paper's reference implementation (key, buckets) -> bucket.
    assert_eq!(jump_hash(0, 1), 0);
    assert_eq!(jump_hash(0, 100), 0);
    assert_eq!(jump_hash(u64::MAX, 1), 0);
    assert_eq!(jump_hash(42, 0), 0);
}

#[test]
fn placements_are_pinned() {
    let ring = Ring::new((0..10).map(ShardId), 100).unwrap();
    let maglev = Maglev::new((0..10).map(ShardId)).unwrap();
    let rdv = Rendezvous::new((0..10).map(ShardId)).unwrap();
    let jump = Jump::new(10).unwrap();
    let mut memento = Memento::new(10).unwrap();
    memento.remove_bucket(ShardId(3)).unwrap();
    let expect = [
        ("user:1", [3, 4, 1, 1, 1]),
        ("user:2", [5, 2, 0, 9, 9]),
        ("user:3", [6, 3, 6, 7, 7]),
    ];
    for (key, [r, m, v, j, me]) in expect {
        assert_eq!(ring.shard(key), ShardId(r), "ring {key}");
        assert_eq!(maglev.shard(key), ShardId(m), "maglev {key}");
        assert_eq!(rdv.shard(key), ShardId(v), "rendezvous {key}");
        assert_eq!(jump.shard(key), ShardId(j), "jump {key}");
        assert_eq!(memento.shard(key), ShardId(me), "memento {key}");
        assert_eq!(ring.shard_for_hash(key.shard_hash()), ring.shard(key));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// The inlined integer paths are exactly XXH3 over the little-endian bytes.
    #[test]
    fn integer_fast_paths_equal_xxh3_of_le_bytes(x in proptest::prelude::any::<u64>(), y in proptest::prelude::any::<u32>()) {
        proptest::prop_assert_eq!(x.shard_hash(), stable_hash(&x.to_le_bytes()));
        proptest::prop_assert_eq!((x as i64).shard_hash(), stable_hash(&x.to_le_bytes()));
        proptest::prop_assert_eq!(y.shard_hash(), stable_hash(&y.to_le_bytes()));
        proptest::prop_assert_eq!((y as i32).shard_hash(), stable_hash(&y.to_le_bytes()));
    }
}
