//! keel-storage integration tests: one binary, the conformance suite stamped per backend.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub,
    clippy::needless_pass_by_value
)]

mod suite;

#[cfg(feature = "postgres")]
mod differential;

mod memory {
    use std::sync::Arc;

    use keel_storage::{IdGenerator, ManualClock, MemoryStore, SearchIndexing};

    use crate::suite::Made;

    pub async fn make(clock: Arc<ManualClock>) -> Option<Made> {
        let store = MemoryStore::with_clock(clock, IdGenerator::seeded(7));
        Some((Arc::new(store), Box::pin(async {})))
    }

    pub async fn make_deferred(clock: Arc<ManualClock>) -> Option<Made> {
        let store = MemoryStore::with_clock(clock, IdGenerator::seeded(7))
            .with_search_indexing(SearchIndexing::Deferred);
        Some((Arc::new(store), Box::pin(async {})))
    }

    crate::all_conformance_tests!(make, make_deferred);
}

#[cfg(feature = "postgres")]
mod postgres {
    use std::sync::Arc;

    use keel_storage::{IdGenerator, ManualClock, PgOptions, PgStore, SearchIndexing};
    use keel_testkit::Service;
    use sqlx::{Connection, Executor, PgConnection};

    use crate::suite::Made;

    /// A fresh schema on the test database and a store whose connections use it.
    pub async fn store(label: &str, clock: Arc<ManualClock>) -> Option<(PgStore, String, String)> {
        let url = keel_testkit::require(Service::Postgres).await?;
        let schema = keel_testkit::unique_schema(label);
        let mut conn = PgConnection::connect(&url).await.unwrap();
        conn.execute(format!("CREATE SCHEMA {schema}").as_str())
            .await
            .unwrap();
        let options = PgOptions {
            max_connections: 4,
            clock,
            ids: Arc::new(IdGenerator::seeded(7)),
            ..PgOptions::default()
        };
        let store =
            PgStore::connect_with(&keel_testkit::pg_url_with_schema(&url, &schema), options)
                .await
                .unwrap();
        Some((store, url, schema))
    }

    pub async fn drop_schema(url: String, schema: String) {
        let mut conn = PgConnection::connect(&url).await.unwrap();
        conn.execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
            .await
            .unwrap();
    }

    /// `store` as a conformance store that closes its pool and drops its schema after a test.
    fn made(store: PgStore, url: String, schema: String) -> Made {
        let pool = store.pool().clone();
        (
            Arc::new(store),
            Box::pin(async move {
                pool.close().await;
                drop_schema(url, schema).await;
            }),
        )
    }

    pub async fn make(clock: Arc<ManualClock>) -> Option<Made> {
        let (store, url, schema) = store("storage", clock).await?;
        Some(made(store, url, schema))
    }

    pub async fn make_deferred(clock: Arc<ManualClock>) -> Option<Made> {
        let (store, url, schema) = store("storage_deferred", clock).await?;
        let store = store.with_search_indexing(SearchIndexing::Deferred);
        Some(made(store, url, schema))
    }

    crate::all_conformance_tests!(make, make_deferred);

    #[tokio::test]
    async fn unreachable_database_is_unavailable_without_driver_text() {
        let options = PgOptions {
            acquire_timeout: std::time::Duration::from_millis(500),
            ..PgOptions::default()
        };
        let err = PgStore::connect_with("postgres://postgres@127.0.0.1:1/test", options)
            .await
            .unwrap_err();
        assert!(err.is_retriable(), "{err:?}");
        let msg = err.to_string();
        assert!(msg.starts_with("storage unavailable: "), "{msg}");
        assert!(
            !msg.contains("sqlx") && !msg.contains("error communicating"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn migrations_apply_once_and_events_follow_the_callers_transaction() {
        let clock = Arc::new(ManualClock::new(keel_storage::Timestamp::from_millis(1)));
        let Some((store, url, schema)) = store("storage_migr", clock.clone()).await else {
            return;
        };
        // A second store on the same schema finds every migration applied.
        let again = PgStore::connect_with(
            &keel_testkit::pg_url_with_schema(&url, &schema),
            PgOptions {
                clock,
                ..PgOptions::default()
            },
        )
        .await
        .unwrap();
        let versions: Vec<i32> =
            sqlx::query_scalar("SELECT version FROM keel_storage_migrations ORDER BY version")
                .fetch_all(again.pool())
                .await
                .unwrap();
        let expected: Vec<i32> = keel_storage::postgres::schema::MIGRATIONS
            .iter()
            .map(|m| m.version)
            .collect();
        assert_eq!(versions, expected);

        use keel_storage::{Event, OutboxRepo, UserId};
        let event = Event::UserUpdated {
            user: UserId(uuid::Uuid::nil()),
        };
        let mut tx = store.pool().begin().await.unwrap();
        store.append_event(&mut tx, &event).await.unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(
            store.pending_outbox().await.unwrap(),
            0,
            "rolled back with the change"
        );
        let mut tx = store.pool().begin().await.unwrap();
        let seq = store.append_event(&mut tx, &event).await.unwrap();
        tx.commit().await.unwrap();
        let claimed = store
            .claim_outbox(10, std::time::Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!((claimed[0].seq, &claimed[0].event), (seq, &event));
        // Published history is purged by age; unpublished records never are.
        let mut tx = store.pool().begin().await.unwrap();
        store.append_event(&mut tx, &event).await.unwrap();
        tx.commit().await.unwrap();
        assert!(store.mark_published(seq).await.unwrap());
        let later = keel_storage::Timestamp::from_millis(2);
        assert_eq!(store.purge_published(later).await.unwrap(), 1);
        assert_eq!(store.pending_outbox().await.unwrap(), 1);
        assert!(matches!(
            store.mark_published(seq).await,
            Err(keel_storage::StorageError::NotFound { .. })
        ));
        again.pool().close().await;
        store.pool().close().await;
        drop_schema(url, schema).await;
    }
}

#[cfg(feature = "sharded")]
mod sharded {
    use std::sync::Arc;

    use keel_storage::{IdGenerator, ManualClock, PgOptions, SearchIndexing, ShardedPgStore};
    use keel_testkit::Service;
    use sqlx::{Connection, Executor, PgConnection};

    use crate::suite::Made;

    /// How many databases each sharded test spreads its users over.
    pub const SHARDS: usize = 4;

    /// `url` with its database replaced by `db`.
    pub fn with_db(url: &str, db: &str) -> String {
        let (base, query) = url
            .split_once('?')
            .map_or((url, None), |(b, q)| (b, Some(q)));
        let (root, _) = base.rsplit_once('/').unwrap();
        match query {
            Some(q) => format!("{root}/{db}?{q}"),
            None => format!("{root}/{db}"),
        }
    }

    /// Four fresh databases on the local server and a sharded store over them.
    pub async fn store(clock: Arc<ManualClock>) -> Option<(ShardedPgStore, String, Vec<String>)> {
        store_with(clock, SearchIndexing::Inline).await
    }

    /// [`store`] with the given search indexing.
    pub async fn store_with(
        clock: Arc<ManualClock>,
        search_indexing: SearchIndexing,
    ) -> Option<(ShardedPgStore, String, Vec<String>)> {
        let url = keel_testkit::require(Service::Postgres).await?;
        let prefix = keel_testkit::unique_schema("shard");
        let names: Vec<String> = (0..SHARDS).map(|i| format!("{prefix}_{i}")).collect();
        let mut conn = PgConnection::connect(&url).await.unwrap();
        for name in &names {
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
        }
        let urls: Vec<String> = names.iter().map(|n| with_db(&url, n)).collect();
        let options = PgOptions {
            max_connections: 4,
            clock,
            ids: Arc::new(IdGenerator::seeded(7)),
            search_indexing,
            ..PgOptions::default()
        };
        let store = ShardedPgStore::connect(&urls, options).await.unwrap();
        Some((store, url, names))
    }

    pub async fn drop_all(store: ShardedPgStore, url: String, names: Vec<String>) {
        for i in 0..store.shard_count() {
            store.shard(i).unwrap().pool().close().await;
        }
        let mut conn = PgConnection::connect(&url).await.unwrap();
        for name in names {
            conn.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
                .await
                .unwrap();
        }
    }

    pub async fn make(clock: Arc<ManualClock>) -> Option<Made> {
        let (store, url, names) = store(clock).await?;
        Some((
            Arc::new(store.clone()),
            Box::pin(drop_all(store, url, names)),
        ))
    }

    pub async fn make_deferred(clock: Arc<ManualClock>) -> Option<Made> {
        let (store, url, names) = store_with(clock, SearchIndexing::Deferred).await?;
        Some((
            Arc::new(store.clone()),
            Box::pin(drop_all(store, url, names)),
        ))
    }

    crate::all_conformance_tests!(make, make_deferred);

    mod placement;
}
