//! The PostgreSQL backend: [`PgStore`] (feature `postgres`).
//!
//! Runtime sqlx queries (a clean clone builds without a database), embedded migrations applied
//! on connect ([`schema`]), a connection pool, and an index for every query pattern. Each write
//! is one transaction holding the row, its counters and its outbox event. Times and ids come
//! from the injected clock, never from `now()`, so the backend orders exactly like
//! [`MemoryStore`](crate::MemoryStore) driven by the same clock.
//!
//! Text search uses a `simple` (no stemming) `tsvector` over terms extracted by [`crate::text`],
//! a GIN index and `ts_rank`.

mod comments;
mod credentials;
pub(crate) mod error;
#[cfg(test)]
mod explain_tests;
pub(crate) mod lists;
mod notifications;
mod outbox;
pub(crate) mod posts;
pub(crate) mod rows;
pub mod schema;
mod search;
mod social;
mod users;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};

use crate::clock::{Clock, SystemClock, Timestamp};
use crate::error::Result;
use crate::event::Event;
use crate::id::IdGenerator;
use crate::repo::SearchIndexing;
use error::DbResultExt;

/// How to connect.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Most pooled connections (default 10).
    pub max_connections: u32,
    /// How long to wait for a free connection before failing with `Unavailable` (default 5 s).
    pub acquire_timeout: Duration,
    /// The clock stamping rows and leases.
    pub clock: Arc<dyn Clock>,
    /// The id generator.
    pub ids: Arc<IdGenerator>,
    /// When the full-text index is updated (default: by each write).
    pub search_indexing: SearchIndexing,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            clock: Arc::new(SystemClock),
            ids: Arc::new(IdGenerator::random()),
            search_indexing: SearchIndexing::Inline,
        }
    }
}

/// The PostgreSQL backend. Cheap to clone (clones share the pool).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    ids: Arc<IdGenerator>,
    keysets: Arc<lists::Keysets>,
    /// A shard of a sharded store: users referenced by follows, likes and comments may live
    /// on another shard, so their existence is checked by the caller, not here.
    remote_users: bool,
    /// Whether writes compute the `search` column.
    search: SearchIndexing,
}

impl PgStore {
    /// Connects to `url` with default options and applies pending migrations.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached or a migration fails.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, PgOptions::default()).await
    }

    /// Connects to `url` with `options` and applies pending migrations.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached or a migration fails.
    pub async fn connect_with(url: &str, options: PgOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect(url)
            .await
            .db()?;
        Ok(Self::from_pool(pool, options.clock, options.ids)
            .await?
            .with_search_indexing(options.search_indexing))
    }

    /// Wraps an existing pool and applies pending migrations.
    ///
    /// # Errors
    /// `Unavailable` when a migration fails.
    pub async fn from_pool(
        pool: PgPool,
        clock: Arc<dyn Clock>,
        ids: Arc<IdGenerator>,
    ) -> Result<Self> {
        schema::migrate(&pool).await?;
        Ok(Self {
            pool,
            clock,
            ids,
            keysets: Arc::new(lists::Keysets::new()?),
            remote_users: false,
            search: SearchIndexing::Inline,
        })
    }

    /// This store with its full-text index maintained as `mode` says (the default is
    /// [`SearchIndexing::Inline`]). Under `Deferred`, writes leave the `search` column as it
    /// was and an event consumer calls [`SearchRepo::reindex_post`](crate::SearchRepo) and
    /// `reindex_user`.
    #[must_use]
    pub fn with_search_indexing(mut self, mode: SearchIndexing) -> Self {
        self.search = mode;
        self
    }

    /// Whether writes compute the `search` column themselves.
    pub(crate) fn search_inline(&self) -> bool {
        self.search == SearchIndexing::Inline
    }

    /// This store as one shard of a sharded store (see `crate::sharded`).
    #[cfg(feature = "sharded")]
    pub(crate) fn into_shard(mut self) -> Self {
        self.remote_users = true;
        self
    }

    #[cfg(feature = "sharded")]
    pub(crate) fn keysets(&self) -> &lists::Keysets {
        &self.keysets
    }

    /// The connection pool (for the caller's own transactions).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Appends `event` to the outbox on `conn`, which should be inside the caller's transaction
    /// so the event commits with the change; returns its `seq`.
    ///
    /// # Errors
    /// `Unavailable` when the insert fails.
    pub async fn append_event(&self, conn: &mut PgConnection, event: &Event) -> Result<i64> {
        outbox::append(conn, self.clock.now(), &self.ids, event).await
    }

    /// Deletes outbox records published before `before` (published rows are kept as history
    /// until then); returns how many went. Run it from a periodic job.
    ///
    /// # Errors
    /// `Unavailable` when the delete fails.
    pub async fn purge_published(&self, before: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM outbox WHERE published_at < $1")
            .bind(before.as_micros())
            .execute(&self.pool)
            .await
            .db()?;
        Ok(done.rows_affected())
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
