//! Directory sharding (memory store, live remaps, plans) and geographic sharding.

use keel_sharding::{
    Directory, DirectoryStore, Geo, GeoKey, HashMod, Jump, MemoryDirectoryStore, ShardId, Sharder,
    ShardingError, directory_plan,
};

#[allow(clippy::unwrap_used)] // a helper of tests: a failure fails the test
fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn explicit_entries_win_and_the_rest_falls_back() {
    let dir = Directory::new(Jump::new(4).unwrap());
    let fallback = Jump::new(4).unwrap();
    let key = "tenant:1".to_owned();
    assert_eq!(dir.shard(&key), fallback.shard(&key));
    assert_eq!(dir.assign(key.clone(), ShardId(7)), None);
    assert_eq!(dir.shard(&key), ShardId(7));
    assert_eq!(dir.assign(key.clone(), ShardId(8)), Some(ShardId(7)));
    assert_eq!(dir.unassign(&key), Some(ShardId(8)));
    assert_eq!(dir.shard(&key), fallback.shard(&key));
    assert!(dir.is_empty());
}

/// A store whose writes fail: the directory must not change memory.
struct BrokenStore;

impl DirectoryStore<String> for BrokenStore {
    async fn load_all(&self) -> Result<Vec<(String, ShardId)>, ShardingError> {
        Err(ShardingError::Store("connection refused".to_owned()))
    }
    async fn put(&self, _: &String, _: ShardId) -> Result<(), ShardingError> {
        Err(ShardingError::Store("connection refused".to_owned()))
    }
    async fn delete(&self, _: &String) -> Result<(), ShardingError> {
        Err(ShardingError::Store("connection refused".to_owned()))
    }
}

#[test]
fn persisted_remaps_survive_a_reload_and_failed_writes_change_nothing() {
    block_on(async {
        let store = MemoryDirectoryStore::default();
        let dir = Directory::load(&store, HashMod::new(3).unwrap())
            .await
            .unwrap();
        dir.remap(&store, "a".to_owned(), ShardId(5)).await.unwrap();
        dir.remap(&store, "b".to_owned(), ShardId(6)).await.unwrap();
        dir.remove(&store, &"b".to_owned()).await.unwrap();
        let reloaded = Directory::load(&store, HashMod::new(3).unwrap())
            .await
            .unwrap();
        assert_eq!(reloaded.entry(&"a".to_owned()), Some(ShardId(5)));
        assert_eq!(reloaded.entry(&"b".to_owned()), None);

        let err = dir
            .remap(&BrokenStore, "a".to_owned(), ShardId(9))
            .await
            .unwrap_err();
        assert!(matches!(err, ShardingError::Store(_)));
        assert_eq!(
            dir.entry(&"a".to_owned()),
            Some(ShardId(5)),
            "memory unchanged"
        );
        assert!(
            Directory::load(&BrokenStore, HashMod::new(3).unwrap())
                .await
                .is_err()
        );
    });
}

#[test]
fn directory_plan_lists_changed_entries() {
    let old = Directory::new(HashMod::new(1).unwrap()); // fallback: everything on 0
    old.assign("a".to_owned(), ShardId(1));
    old.assign("b".to_owned(), ShardId(2));
    let new = Directory::new(HashMod::new(1).unwrap());
    new.assign("a".to_owned(), ShardId(1)); // unchanged
    new.assign("c".to_owned(), ShardId(3)); // new entry: 0 -> 3
    // "b" dropped: 2 -> fallback 0
    let plan = directory_plan(&old, &new);
    let got: Vec<(&str, u32, u32)> = plan
        .iter()
        .map(|m| (m.key.as_str(), m.from.0, m.to.0))
        .collect();
    assert_eq!(got, vec![("b", 2, 0), ("c", 0, 3)]);
}

#[test]
fn geo_routes_by_region_then_inner_strategy() {
    let geo = Geo::new(
        [
            ("eu".to_owned(), Jump::new(2).unwrap()),
            ("us".to_owned(), Jump::new(5).unwrap()),
        ],
        "us",
    )
    .unwrap();
    for i in 0..200u64 {
        assert_eq!(
            geo.shard_in("eu", &i).unwrap(),
            Jump::new(2).unwrap().shard(&i)
        );
        assert_eq!(
            geo.shard(&GeoKey {
                region: "apac",
                key: &i
            }),
            Jump::new(5).unwrap().shard(&i)
        );
    }
    assert_eq!(
        geo.shard_in("apac", &1u64).unwrap_err(),
        ShardingError::UnknownRegion("apac".to_owned())
    );
    assert_eq!(geo.regions().collect::<Vec<_>>(), vec!["eu", "us"]);
    assert!(matches!(
        Geo::new([("eu".to_owned(), Jump::new(2).unwrap())], "us"),
        Err(ShardingError::UnknownRegion(_))
    ));
    assert!(matches!(
        Geo::<Jump>::new([], "us"),
        Err(ShardingError::EmptyTopology)
    ));
}
