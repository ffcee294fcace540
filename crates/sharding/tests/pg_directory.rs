//! A directory whose table lives in PostgreSQL: the `DirectoryStore` trait implemented over
//! sqlx, against the real server (skipped locally, failing under CI=true, when it is down).

use keel_sharding::{Directory, DirectoryStore, Jump, ShardId, Sharder, ShardingError};
use keel_testkit::Service;
use sqlx::{PgPool, Row};

/// `shard_directory(key TEXT PRIMARY KEY, shard INTEGER NOT NULL)` in the pool's schema.
struct PgDirectoryStore {
    pool: PgPool,
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(store_err)`
fn store_err(e: sqlx::Error) -> ShardingError {
    ShardingError::Store(e.to_string())
}

impl PgDirectoryStore {
    async fn create(pool: PgPool) -> Result<Self, ShardingError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS shard_directory (key TEXT PRIMARY KEY, shard BIGINT NOT NULL)",
        )
        .execute(&pool)
        .await
        .map_err(store_err)?;
        Ok(PgDirectoryStore { pool })
    }
}

impl DirectoryStore<String> for PgDirectoryStore {
    async fn load_all(&self) -> Result<Vec<(String, ShardId)>, ShardingError> {
        let rows = sqlx::query("SELECT key, shard FROM shard_directory")
            .fetch_all(&self.pool)
            .await
            .map_err(store_err)?;
        rows.iter()
            .map(|r| {
                let shard: i64 = r.try_get("shard").map_err(store_err)?;
                let shard = u32::try_from(shard)
                    .map_err(|_| ShardingError::Store(format!("shard {shard} out of range")))?;
                Ok((r.try_get("key").map_err(store_err)?, ShardId(shard)))
            })
            .collect()
    }

    async fn put(&self, key: &String, shard: ShardId) -> Result<(), ShardingError> {
        sqlx::query(
            "INSERT INTO shard_directory (key, shard) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET shard = EXCLUDED.shard",
        )
        .bind(key)
        .bind(i64::from(shard.0))
        .execute(&self.pool)
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn delete(&self, key: &String) -> Result<(), ShardingError> {
        sqlx::query("DELETE FROM shard_directory WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(store_err)?;
        Ok(())
    }
}

#[tokio::test]
async fn directory_persists_in_postgres_and_reloads() {
    let Some(url) = keel_testkit::require(Service::Postgres).await else {
        return;
    };
    let schema = keel_testkit::unique_schema("sharding_directory");
    let admin = PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let pool = PgPool::connect(&keel_testkit::pg_url_with_schema(&url, &schema))
        .await
        .unwrap();
    let store = PgDirectoryStore::create(pool.clone()).await.unwrap();

    let dir = Directory::load(&store, Jump::new(8).unwrap())
        .await
        .unwrap();
    assert!(dir.is_empty());
    dir.remap(&store, "tenant:big".to_owned(), ShardId(100))
        .await
        .unwrap();
    dir.remap(&store, "tenant:mid".to_owned(), ShardId(101))
        .await
        .unwrap();
    dir.remap(&store, "tenant:big".to_owned(), ShardId(102))
        .await
        .unwrap(); // live remap
    dir.remove(&store, &"tenant:mid".to_owned()).await.unwrap();

    // A second process loads the same table.
    let other = Directory::load(&store, Jump::new(8).unwrap())
        .await
        .unwrap();
    assert_eq!(other.shard(&"tenant:big".to_owned()), ShardId(102));
    assert_eq!(other.entry(&"tenant:mid".to_owned()), None);
    assert_eq!(
        other.shard(&"tenant:small".to_owned()),
        Jump::new(8).unwrap().shard(&"tenant:small".to_owned())
    );

    // A store failure leaves memory unchanged.
    pool.close().await;
    let err = dir
        .remap(&store, "tenant:big".to_owned(), ShardId(7))
        .await
        .unwrap_err();
    assert!(matches!(err, ShardingError::Store(_)));
    assert_eq!(dir.entry(&"tenant:big".to_owned()), Some(ShardId(102)));

    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}
