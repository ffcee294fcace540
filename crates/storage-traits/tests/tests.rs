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

    use keel_storage::{IdGenerator, ManualClock, MemoryStore};

    use crate::suite::Made;

    pub async fn make(clock: Arc<ManualClock>) -> Option<Made> {
        let store = MemoryStore::with_clock(clock, IdGenerator::seeded(7));
        Some((Arc::new(store), Box::pin(async {})))
    }

    crate::all_conformance_tests!(make);
}

#[cfg(feature = "postgres")]
mod postgres {
    use std::sync::Arc;

    use keel_storage::{IdGenerator, ManualClock, PgOptions, PgStore};
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

    pub async fn make(clock: Arc<ManualClock>) -> Option<Made> {
        let (store, url, schema) = store("storage", clock).await?;
        let pool = store.pool().clone();
        Some((
            Arc::new(store),
            Box::pin(async move {
                pool.close().await;
                drop_schema(url, schema).await;
            }),
        ))
    }

    crate::all_conformance_tests!(make);
}
