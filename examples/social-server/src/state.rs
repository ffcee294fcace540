//! [`AppState`]: everything a handler needs, built once from the [`Config`] by [`build`].

use std::ops::Deref;
use std::sync::Arc;

use keel_events::{EventBus, InProcessBus, JetStreamBus, JetStreamOptions};
use keel_feed::TimelineStore;
use keel_pagination::{CursorCodec, KeyRing, LimitPolicy};
use keel_storage::{Clock, MemoryStore, PgOptions, PgStore, SearchIndexing, Store, SystemClock};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::auth::{PasswordHasher, TokenStore, jwt::JwtSigner};
use crate::cache::Cache;
use crate::config::Config;
use crate::timeline::Timelines;
use crate::trending::Trending;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// An option is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// PostgreSQL is unreachable or a migration failed.
    #[error("cannot open storage: {0}; check DATABASE_URL")]
    Storage(#[from] keel_storage::StorageError),
    /// Redis is unreachable.
    #[error("cannot connect to Redis: {0}; check REDIS_URL")]
    Redis(String),
    /// NATS is unreachable or JetStream is off.
    #[error("cannot connect to NATS: {0}; check NATS_URL (JetStream enabled)")]
    Nats(String),
    /// The feed engine rejected its configuration.
    #[error("feed engine: {0}")]
    Feed(#[from] keel_feed::FeedError),
    /// Listening failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// The backends in use, for `/readyz`.
#[derive(Clone)]
pub struct Backends {
    /// `memory` or `postgres`.
    pub storage: &'static str,
    /// The Redis connection, when configured.
    pub redis: Option<redis::aio::ConnectionManager>,
    /// The event bus.
    pub bus: Arc<dyn EventBus>,
    /// `in_process` or `jetstream`.
    pub bus_kind: &'static str,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backends")
            .field("storage", &self.storage)
            .field("redis", &self.redis.is_some())
            .field("bus", &self.bus_kind)
            .finish()
    }
}

/// The shared state behind [`AppState`].
pub struct Inner {
    /// The configuration it was built from.
    pub config: Config,
    /// Users, posts, follows, likes, comments, outbox, search.
    pub store: Arc<dyn Store>,
    /// The clock (tokens, trending).
    pub clock: Arc<dyn Clock>,
    /// Password hashing with its concurrency cap.
    pub hasher: PasswordHasher,
    /// Access tokens.
    pub jwt: JwtSigner,
    /// Refresh tokens and API keys.
    pub tokens: TokenStore,
    /// Cursor signing.
    pub codec: CursorCodec,
    /// Page sizes: 20 by default, at most 100.
    pub page_policy: LimitPolicy,
    /// Home timelines.
    pub timelines: Timelines,
    /// Trending counters.
    pub trending: Trending,
    /// Profile cache.
    pub users_cache: Cache,
    /// Post cache.
    pub posts_cache: Cache,
    /// The rate-limit layer (keel-ratelimit's tower layer).
    pub rate_limit: keel_ratelimit::tower::RateLimitLayer,
    /// Backends in use.
    pub backends: Backends,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("backends", &self.backends)
            .finish_non_exhaustive()
    }
}

/// Cheap-to-clone handle on the server state.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

fn secret_bytes(config: &Config) -> Result<Vec<u8>, StartError> {
    match &config.jwt_secret {
        Some(s) if s.len() >= 32 => Ok(s.as_bytes().to_vec()),
        Some(_) => Err(StartError::Config(
            "KEEL_JWT_SECRET must be at least 32 bytes".to_owned(),
        )),
        None => {
            let mut b = vec![0u8; 32];
            rand::rng().fill_bytes(&mut b);
            Ok(b)
        }
    }
}

/// Builds the state: the backends named by the configuration, memory ones otherwise.
///
/// # Errors
/// A [`StartError`] naming the backend or option at fault.
pub async fn build(config: Config) -> Result<AppState, StartError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (store, storage): (Arc<dyn Store>, _) = match &config.database_url {
        // The search consumer (events.rs) maintains the full-text index.
        Some(url) => {
            let options = PgOptions {
                search_indexing: SearchIndexing::Deferred,
                ..PgOptions::default()
            };
            (
                Arc::new(PgStore::connect_with(url, options).await?),
                "postgres",
            )
        }
        None => (
            Arc::new(MemoryStore::new().with_search_indexing(SearchIndexing::Deferred)),
            "memory",
        ),
    };
    let redis = match &config.redis_url {
        Some(url) => {
            let client =
                redis::Client::open(url.as_str()).map_err(|e| StartError::Redis(e.to_string()))?;
            Some(
                redis::aio::ConnectionManager::new(client)
                    .await
                    .map_err(|e| StartError::Redis(e.to_string()))?,
            )
        }
        None => None,
    };
    let (bus, bus_kind): (Arc<dyn EventBus>, _) = match &config.nats_url {
        Some(url) => {
            let options = JetStreamOptions {
                prefix: config.nats_prefix.clone(),
                ..JetStreamOptions::default()
            };
            let bus = JetStreamBus::connect(url, options)
                .await
                .map_err(|e| StartError::Nats(e.to_string()))?;
            for family in ["users", "posts", "follows"] {
                bus.ensure_family(family)
                    .await
                    .map_err(|e| StartError::Nats(e.to_string()))?;
            }
            (Arc::new(bus), "jetstream")
        }
        None => (Arc::new(InProcessBus::default()), "in_process"),
    };
    let timeline_store: Arc<dyn TimelineStore> = match &redis {
        Some(conn) => Arc::new(keel_feed::RedisStore::new(
            conn.clone(),
            format!("{}:tl", config.redis_prefix),
        )),
        None => Arc::new(keel_feed::MemoryStore::new()),
    };
    let (users_cache, posts_cache) = match &redis {
        Some(conn) => (
            Cache::redis("users", &config.redis_prefix, conn.clone()),
            Cache::redis("posts", &config.redis_prefix, conn.clone()),
        ),
        None => (Cache::memory("users"), Cache::memory("posts")),
    };
    if config.admin_token.as_ref().is_some_and(|t| t.len() < 32) {
        return Err(StartError::Config(
            "KEEL_ADMIN_TOKEN must be at least 32 bytes".to_owned(),
        ));
    }
    let secret = secret_bytes(&config)?;
    let cursor_key: [u8; 32] = Sha256::new()
        .chain_update(b"keel cursors v1")
        .chain_update(&secret)
        .finalize()
        .into();
    let codec = CursorCodec::new(
        KeyRing::new(1, &cursor_key).map_err(|e| StartError::Config(e.to_string()))?,
    );
    let hasher = PasswordHasher::new(
        config.argon2_memory_kib,
        config.argon2_iterations,
        config.hash_concurrency,
    )
    .map_err(|e| StartError::Config(e.to_string()))?;
    let inner = Inner {
        jwt: JwtSigner::new(&secret, config.access_ttl_secs, clock.clone()),
        tokens: TokenStore::new(store.clone(), config.refresh_ttl_secs, clock.clone()),
        rate_limit: crate::limits::layer(&config).map_err(StartError::Config)?,
        timelines: Timelines::new(&store, timeline_store, config.feed_threshold)?,
        page_policy: LimitPolicy::default(),
        trending: match &redis {
            Some(conn) => Trending::redis(conn.clone(), &config.redis_prefix),
            None => Trending::memory(),
        },
        backends: Backends {
            storage,
            redis,
            bus,
            bus_kind,
        },
        users_cache,
        posts_cache,
        codec,
        hasher,
        store,
        clock,
        config,
    };
    Ok(AppState(Arc::new(inner)))
}
