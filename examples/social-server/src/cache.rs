//! Read-through caches for profiles and posts, with hit and miss counters
//! (`keel_cache_requests_total{cache, result}`). Entries expire after a TTL and are
//! invalidated by the handler that changed them and by the cache consumer on events.
//!
//! In memory per process; with `REDIS_URL`, Redis is shared by every instance.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use redis::AsyncCommands;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How long an entry lives.
pub const TTL: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Entry {
    json: Arc<str>,
    at: std::time::Instant,
}

/// Where entries live.
#[derive(Clone)]
enum Backend {
    Memory(Arc<DashMap<String, Entry>>),
    Redis(redis::aio::ConnectionManager),
}

/// One named read-through cache of JSON values.
#[derive(Clone)]
pub struct Cache {
    name: &'static str,
    prefix: String,
    backend: Backend,
    hits: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("name", &self.name)
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// An in-memory cache.
    pub fn memory(name: &'static str) -> Self {
        Self {
            name,
            prefix: String::new(),
            backend: Backend::Memory(Arc::default()),
            hits: Arc::default(),
            misses: Arc::default(),
        }
    }

    /// A cache in Redis under `prefix`.
    pub fn redis(name: &'static str, prefix: &str, conn: redis::aio::ConnectionManager) -> Self {
        Self {
            name,
            prefix: format!("{prefix}:cache:{name}:"),
            backend: Backend::Redis(conn),
            hits: Arc::default(),
            misses: Arc::default(),
        }
    }

    /// Hits so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Misses so far.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    fn count(&self, hit: bool) {
        let (c, result) = if hit {
            (&self.hits, "hit")
        } else {
            (&self.misses, "miss")
        };
        c.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("keel_cache_requests_total", "cache" => self.name, "result" => result)
            .increment(1);
    }

    async fn raw_get(&self, key: &str) -> Option<Arc<str>> {
        match &self.backend {
            Backend::Memory(m) => {
                let e = m.get(key)?;
                (e.at.elapsed() < TTL).then(|| e.json.clone())
            }
            Backend::Redis(conn) => {
                let mut conn = conn.clone();
                let v: Option<String> = conn.get(format!("{}{key}", self.prefix)).await.ok()?;
                v.map(Arc::from)
            }
        }
    }

    async fn raw_put(&self, key: &str, json: String) {
        match &self.backend {
            Backend::Memory(m) => {
                m.insert(
                    key.to_owned(),
                    Entry {
                        json: Arc::from(json),
                        at: std::time::Instant::now(),
                    },
                );
            }
            Backend::Redis(conn) => {
                let mut conn = conn.clone();
                let r: redis::RedisResult<()> = conn
                    .set_ex(format!("{}{key}", self.prefix), json, TTL.as_secs())
                    .await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "cache write failed");
                }
            }
        }
    }

    /// The cached value of `key`, or `load`ed and cached.
    ///
    /// # Errors
    /// `load`'s error (nothing is cached then).
    pub async fn get_or_load<T, E, F>(&self, key: &str, load: F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: Future<Output = Result<T, E>>,
    {
        if let Some(json) = self.raw_get(key).await
            && let Ok(v) = serde_json::from_str(&json)
        {
            self.count(true);
            return Ok(v);
        }
        self.count(false);
        let v = load.await?;
        if let Ok(json) = serde_json::to_string(&v) {
            self.raw_put(key, json).await;
        }
        Ok(v)
    }

    /// Drops `key`.
    pub async fn invalidate(&self, key: &str) {
        match &self.backend {
            Backend::Memory(m) => {
                m.remove(key);
            }
            Backend::Redis(conn) => {
                let mut conn = conn.clone();
                let r: redis::RedisResult<()> = conn.del(format!("{}{key}", self.prefix)).await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "cache invalidation failed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn read_through_counts_hits_and_misses_and_invalidates() {
        let c = Cache::memory("test");
        let v: Result<u32, ()> = c.get_or_load("k", async { Ok(1) }).await;
        assert_eq!(v, Ok(1));
        let v: Result<u32, ()> = c.get_or_load("k", async { Ok(2) }).await;
        assert_eq!(v, Ok(1), "served from the cache");
        assert_eq!((c.hits(), c.misses()), (1, 1));
        c.invalidate("k").await;
        let v: Result<u32, ()> = c.get_or_load("k", async { Ok(3) }).await;
        assert_eq!(v, Ok(3));
        let e: Result<u32, &str> = c.get_or_load("e", async { Err("down") }).await;
        assert_eq!(e, Err("down"));
    }
}
