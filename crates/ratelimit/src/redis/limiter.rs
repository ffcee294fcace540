//! [`RedisLimiter`]: checks run atomically in Redis, with a failure policy.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::cache::DenyCache;
use super::check::{Check, ScriptCheck, decode, params, push_multi_args, validate_batch};
use super::coalesce::{Coalescer, Entry, Waiter};
use super::conn::{Conn, slot};
use super::fallback::Fallback;
use super::{FailurePolicy, NativeGcra, RedisAlgorithm, RedisConfig, RedisLimitError, native};
use crate::{Decision, Quota};
/// Counters of a [`RedisLimiter`] (also exported through the `metrics` facade).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisStats {
    /// Calls to Redis that failed or timed out (each answered by the failure policy).
    pub failures: u64,
    /// Checks answered from the local cache of denied keys, without Redis.
    pub cache_hits: u64,
    /// Whether the last call to Redis failed.
    pub degraded: bool,
    /// Checks that waited for a busy slot and were sent in a batched call (see
    /// [`RedisConfig::coalesce`]).
    pub coalesced: u64,
}

struct Inner {
    conn: Conn,
    config: RedisConfig,
    scripts: super::script::Scripts,
    cache: DenyCache,
    fallback: Option<Fallback>,
    native: tokio::sync::OnceCell<bool>,
    /// The coalescing queue and the runtime its batch tasks run on; `None` when coalescing is
    /// off, on a Cluster, or when the limiter was built outside a runtime.
    coalescer: Option<(Coalescer, tokio::runtime::Handle)>,
    degraded: AtomicBool,
    failures: AtomicU64,
    cache_hits: AtomicU64,
    coalesced: AtomicU64,
}

/// A rate limiter whose state lives in Redis, shared by every instance that uses the same
/// prefix.
///
/// Each check is one `EVALSHA` of a Lua script (see the module docs) on the server's clock
/// (under concurrency, checks that find every call slot busy share one script run: see
/// [`RedisConfig::coalesce`]);
/// several limits on one request ([`check_all`](Self::check_all)) are one atomic call; many
/// independent checks ([`check_batch`](Self::check_batch)) are one pipelined round trip.
/// Cloning is cheap and shares the connection, the cache and the counters.
#[derive(Clone)]
pub struct RedisLimiter {
    inner: Arc<Inner>,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("config", &self.inner.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// A limiter on the Redis at `url` (`redis://host:port/db`).
    ///
    /// The connection is opened lazily and re-opened in the background whenever it breaks, so
    /// this succeeds while Redis is down: checks then follow the failure policy until it is back.
    ///
    /// # Errors
    /// [`RedisLimitError::Redis`] when the URL cannot be parsed.
    pub fn new(url: &str, config: RedisConfig) -> Result<Self, RedisLimitError> {
        let client = redis::Client::open(url)?;
        Self::from_client(client, config)
    }

    /// A limiter on `client` (see [`RedisLimiter::new`]). Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`RedisLimitError::Redis`] when the connection manager cannot be set up.
    pub fn from_client(
        client: redis::Client,
        config: RedisConfig,
    ) -> Result<Self, RedisLimitError> {
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(500))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_lazy_with_config(client, manager)?;
        Ok(Self::with_conn(Conn::Single(conn), config))
    }

    /// A limiter on the Redis Cluster reached through `nodes` (`redis://host:port` of one or
    /// more of its nodes), each call routed by its key's slot (feature `redis-cluster`).
    ///
    /// Unlike [`RedisLimiter::new`], this connects at once, to learn the slot map; once built,
    /// the connection follows slot moves and reconnects by itself, and checks follow the failure
    /// policy while the cluster is unreachable.
    ///
    /// # Errors
    /// [`RedisLimitError::Redis`] when a URL cannot be parsed or no node answers.
    #[cfg(feature = "redis-cluster")]
    pub async fn cluster<T: redis::IntoConnectionInfo>(
        nodes: impl IntoIterator<Item = T>,
        config: RedisConfig,
    ) -> Result<Self, RedisLimitError> {
        let client = redis::cluster::ClusterClient::builder(nodes)
            .connection_timeout(config.timeout)
            .response_timeout(config.timeout)
            .retries(2)
            .build()?;
        let conn = client.get_async_connection().await?;
        Ok(Self::with_conn(Conn::Cluster(conn), config))
    }

    fn with_conn(conn: Conn, config: RedisConfig) -> Self {
        let fallback = match config.failure {
            FailurePolicy::Local { instances } => {
                Some(Fallback::new(instances, Arc::clone(&config.clock)))
            }
            _ => None,
        };
        let coalescer = match tokio::runtime::Handle::try_current() {
            Ok(handle) if config.coalesce_slots > 0 && !conn.is_cluster() => Some((
                Coalescer::new(config.coalesce_slots, config.coalesce_batch),
                handle,
            )),
            _ => None,
        };
        Self {
            inner: Arc::new(Inner {
                conn,
                coalescer,
                coalesced: AtomicU64::new(0),
                scripts: super::script::Scripts::new(),
                cache: DenyCache::new(config.deny_cache_capacity, Arc::clone(&config.clock)),
                fallback,
                native: tokio::sync::OnceCell::new(),
                degraded: AtomicBool::new(false),
                failures: AtomicU64::new(0),
                cache_hits: AtomicU64::new(0),
                config,
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// The counters.
    pub fn stats(&self) -> RedisStats {
        RedisStats {
            failures: self.inner.failures.load(Ordering::Relaxed),
            cache_hits: self.inner.cache_hits.load(Ordering::Relaxed),
            degraded: self.inner.degraded.load(Ordering::Relaxed),
            coalesced: self.inner.coalesced.load(Ordering::Relaxed),
        }
    }

    /// The Redis key holding the state of `key` under `quota` and `algorithm`:
    /// `{prefix}{algorithm}:{count}:{period ns}:{burst}:{{key}}`. The caller's key sits in a hash
    /// tag, so on Redis Cluster all limits of one key share a slot.
    pub fn redis_key(&self, algorithm: RedisAlgorithm, quota: Quota, key: &str) -> String {
        format!(
            "{}{}:{}:{}:{}:{{{key}}}",
            self.inner.config.prefix,
            algorithm.name(),
            quota.count(),
            quota.period_nanos(),
            quota.max_burst(),
        )
    }

    /// Whether the server has a native `GCRA` command (detected once with `COMMAND INFO`).
    /// `false` with [`NativeGcra::Never`], or while Redis cannot be asked.
    pub async fn native_gcra(&self) -> bool {
        if self.inner.config.native_gcra == NativeGcra::Never {
            return false;
        }
        let conn = self.inner.conn.clone();
        let timeout = self.inner.config.timeout;
        let detected = self
            .inner
            .native
            .get_or_try_init(|| async move {
                let mut conn = conn;
                tokio::time::timeout(timeout, native::detect(&mut conn))
                    .await
                    .map_err(|_| ())?
                    .map_err(|_| ())
            })
            .await;
        detected.copied().unwrap_or(false)
    }

    /// Checks `cost` for `key` under `quota` with `algorithm`.
    ///
    /// When Redis fails or is slower than the timeout, the configured [`FailurePolicy`] decides;
    /// that is not an error.
    ///
    /// # Errors
    /// [`RedisLimitError::InsufficientCapacity`] when `cost` exceeds the limit.
    pub async fn check(
        &self,
        algorithm: RedisAlgorithm,
        quota: Quota,
        key: &str,
        cost: u64,
    ) -> Result<Decision, RedisLimitError> {
        let check = Check::new(algorithm, quota, key).cost(cost);
        match self.try_check(check).await {
            Err(RedisLimitError::InsufficientCapacity(e)) => Err(e.into()),
            Err(e) => Ok(self.on_failure(&e, &[check]).into_iter().next().unwrap_or(
                // on_failure returns one decision per check; this is unreachable in practice.
                Decision::deny(check.limit(), 0, 0, 1_000_000_000),
            )),
            Ok(d) => Ok(d),
        }
    }

    /// Like [`check`](Self::check) but returns Redis failures as errors instead of applying
    /// the failure policy.
    ///
    /// # Errors
    /// [`RedisLimitError::InsufficientCapacity`]; [`RedisLimitError::Redis`],
    /// [`RedisLimitError::Timeout`] or [`RedisLimitError::Reply`] when Redis failed.
    pub async fn try_check(&self, check: Check<'_>) -> Result<Decision, RedisLimitError> {
        check.validate()?;
        let key = self.redis_key(check.algorithm, check.quota, check.key);
        if check.cost > 0
            && let Some(d) = self.inner.cache.get(&key)
        {
            self.inner.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(d.first().copied().unwrap_or(Decision::deny(0, 0, 0, 1)));
        }
        let decision = if check.algorithm == RedisAlgorithm::Gcra
            && check.cost > 0
            && check.quota.period() >= Duration::from_secs(1)
            && self.native_gcra().await
        {
            let mut conn = self.inner.conn.clone();
            let native_key = format!(
                "{}gcra-native:{}:{}:{}:{{{}}}",
                self.inner.config.prefix,
                check.quota.count(),
                check.quota.period_nanos(),
                check.quota.max_burst(),
                check.key
            );
            self.timed(native::check(
                &mut conn,
                &native_key,
                check.quota,
                check.cost,
            ))
            .await?
        } else {
            self.coalesced_single(&key, &check).await?
        };
        self.recovered();
        if check.cost == 1 && !decision.allowed {
            self.inner.cache.insert(&key, &[decision]);
        }
        Ok(decision)
    }

    /// Checks several limits on one request atomically: either every check admits and all are
    /// consumed, or none is consumed. One round trip, one script run.
    ///
    /// The decisions come back in order; the request is admitted when all are. On Redis Cluster
    /// every key must hash to one slot: use one caller key for all checks (several quotas on
    /// one user), since the key is the hash tag.
    ///
    /// # Errors
    /// [`RedisLimitError::InsufficientCapacity`] when a cost exceeds its limit;
    /// [`RedisLimitError::BatchSize`] for 0 or more than 1,000 checks;
    /// [`RedisLimitError::CrossSlot`] on a Redis Cluster when the keys span several slots.
    pub async fn check_all(&self, checks: &[Check<'_>]) -> Result<Vec<Decision>, RedisLimitError> {
        validate_batch(checks)?;
        let keys: Vec<String> = checks
            .iter()
            .map(|c| self.redis_key(c.algorithm, c.quota, c.key))
            .collect();
        if self.inner.conn.is_cluster() {
            let mut slots: Vec<u16> = keys.iter().map(|k| slot(k)).collect();
            slots.sort_unstable();
            slots.dedup();
            if slots.len() > 1 {
                return Err(RedisLimitError::CrossSlot(slots.len()));
            }
        }
        let cache_key = keys.join("\n");
        let unit = checks.iter().all(|c| c.cost == 1);
        if unit && let Some(d) = self.inner.cache.get(&cache_key) {
            self.inner.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(d);
        }
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let result = match self.eval(&key_refs, "all", checks).await {
            Ok(values) => {
                let limits: Vec<u64> = checks.iter().map(Check::limit).collect();
                decode(&values, &limits)
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(decisions) => {
                self.recovered();
                if unit && decisions.iter().any(|d| !d.allowed) {
                    self.inner.cache.insert(&cache_key, &decisions);
                }
                Ok(decisions)
            }
            Err(e) => Ok(self.on_failure(&e, checks)),
        }
    }

    /// Checks many independent keys in one pipelined round trip (a gateway checking several
    /// limits per request, each deciding on its own). Decisions come back in order. On a Redis
    /// Cluster, one pipelined round trip per slot the keys touch.
    ///
    /// # Errors
    /// [`RedisLimitError::InsufficientCapacity`] when a cost exceeds its limit;
    /// [`RedisLimitError::BatchSize`] for 0 or more than 1,000 checks.
    pub async fn check_batch(
        &self,
        checks: &[Check<'_>],
    ) -> Result<Vec<Decision>, RedisLimitError> {
        validate_batch(checks)?;
        let keys: Vec<String> = checks
            .iter()
            .map(|c| self.redis_key(c.algorithm, c.quota, c.key))
            .collect();
        let mut out: Vec<Option<Decision>> = keys
            .iter()
            .zip(checks)
            .map(|(k, c)| {
                if c.cost == 0 {
                    return None;
                }
                let hit = self.inner.cache.get(k)?.first().copied();
                self.inner.cache_hits.fetch_add(1, Ordering::Relaxed);
                hit
            })
            .collect();
        let pending: Vec<usize> = (0..checks.len())
            .filter(|&i| out.get(i).is_some_and(Option::is_none))
            .collect();
        if pending.is_empty() {
            return Ok(out.into_iter().flatten().collect());
        }
        for group in self.by_slot(&keys, pending) {
            self.run_batch_group(&keys, checks, &group, &mut out).await;
        }
        out.into_iter()
            .map(|d| d.ok_or_else(|| RedisLimitError::Reply("a batch reply was short".to_owned())))
            .collect()
    }

    /// `pending` split into the groups one pipeline can carry: all of them on one node, one
    /// group per slot on a Cluster.
    fn by_slot(&self, keys: &[String], pending: Vec<usize>) -> Vec<Vec<usize>> {
        if !self.inner.conn.is_cluster() {
            return vec![pending];
        }
        let mut groups: std::collections::BTreeMap<u16, Vec<usize>> =
            std::collections::BTreeMap::new();
        for i in pending {
            let s = keys.get(i).map_or(0, |k| slot(k));
            groups.entry(s).or_default().push(i);
        }
        groups.into_values().collect()
    }

    /// Runs one pipelined group of a batch and fills its decisions into `out`.
    async fn run_batch_group(
        &self,
        keys: &[String],
        checks: &[Check<'_>],
        pending: &[usize],
        out: &mut [Option<Decision>],
    ) {
        let result = self.pipeline(keys, checks, pending).await;
        match result {
            Ok(decisions) => {
                self.recovered();
                for (&i, d) in pending.iter().zip(decisions) {
                    if let (Some(cell), Some(c), Some(k)) =
                        (out.get_mut(i), checks.get(i), keys.get(i))
                    {
                        if c.cost == 1 && !d.allowed {
                            self.inner.cache.insert(k, &[d]);
                        }
                        *cell = Some(d);
                    }
                }
            }
            Err(e) => {
                let failed: Vec<Check<'_>> = pending
                    .iter()
                    .filter_map(|&i| checks.get(i).copied())
                    .collect();
                for (&i, d) in pending.iter().zip(self.on_failure(&e, &failed)) {
                    if let Some(cell) = out.get_mut(i) {
                        *cell = Some(d);
                    }
                }
            }
        }
    }

    /// One check through the coalescer: sent at once when a slot is free, otherwise batched
    /// with the other waiting checks by the call that frees a slot.
    async fn coalesced_single(
        &self,
        key: &str,
        check: &Check<'_>,
    ) -> Result<Decision, RedisLimitError> {
        let Some((coalescer, _)) = &self.inner.coalescer else {
            return self.one(key, check).await;
        };
        let entry = coalescer.enter(|reply| {
            let (a, b) = params(check);
            Waiter {
                key: key.to_owned(),
                letter: check.algorithm.letter(),
                a,
                b,
                cost: check.cost,
                reply,
            }
        });
        match entry {
            Entry::Lead => {
                let _slot = SlotGuard(self);
                self.one(key, check).await
            }
            Entry::Queued(rx) => {
                self.inner.coalesced.fetch_add(1, Ordering::Relaxed);
                // Waiting for a slot counts against the timeout too.
                let timeout = self.inner.config.timeout;
                match tokio::time::timeout(timeout, rx).await {
                    Ok(Ok(result)) => result,
                    Ok(Err(_)) => Err(RedisLimitError::Reply(
                        "the batched call was dropped before it answered (runtime shutting down?)"
                            .to_owned(),
                    )),
                    Err(_) => Err(RedisLimitError::Timeout(timeout)),
                }
            }
        }
    }

    /// Called when a slot's call is done: sends the waiting checks, or frees the slot.
    fn hand_on(&self) {
        let Some((coalescer, runtime)) = &self.inner.coalescer else {
            return;
        };
        if let Some(batch) = coalescer.next_batch() {
            runtime.spawn(self.clone().run_batches(batch));
        }
    }

    /// Sends batches on one slot until nothing waits, then frees the slot.
    async fn run_batches(self, mut batch: Vec<Waiter>) {
        loop {
            match self.eval_waiters(&batch).await {
                Ok(decisions) if decisions.len() == batch.len() => {
                    for (w, d) in batch.drain(..).zip(decisions) {
                        let _ = w.reply.send(Ok(d));
                    }
                }
                Ok(_) => {
                    for w in batch.drain(..) {
                        let e = RedisLimitError::Reply("a batched reply was short".to_owned());
                        let _ = w.reply.send(Err(e));
                    }
                }
                Err(e) => {
                    for w in batch.drain(..) {
                        let _ = w.reply.send(Err(e.clone()));
                    }
                }
            }
            // The callers just answered usually check again at once: one yield lets them
            // queue before this slot takes its next batch (or is released when none waits).
            tokio::task::yield_now().await;
            match self
                .inner
                .coalescer
                .as_ref()
                .and_then(|(c, _)| c.next_batch())
            {
                Some(next) => batch = next,
                None => return,
            }
        }
    }

    /// Runs the multi script in `each` mode over a batch of waiting checks.
    async fn eval_waiters(&self, batch: &[Waiter]) -> Result<Vec<Decision>, RedisLimitError> {
        let mut invocation = self.inner.scripts.multi.prepare_invoke();
        let args: Vec<ScriptCheck<'_>> = batch
            .iter()
            .map(|w| (w.letter, w.a.as_str(), w.b, w.cost))
            .collect();
        for w in batch {
            invocation.key(&w.key);
        }
        push_multi_args(&mut invocation, "each", &args);
        let mut conn = self.inner.conn.clone();
        let values = self
            .timed(async {
                invocation
                    .invoke_async::<Vec<i64>>(&mut conn)
                    .await
                    .map_err(RedisLimitError::from)
            })
            .await?;
        let limits: Vec<u64> = batch.iter().map(|w| w.b).collect();
        decode(&values, &limits)
    }

    /// One check alone: the single-check script of its algorithm.
    async fn one(&self, key: &str, check: &Check<'_>) -> Result<Decision, RedisLimitError> {
        let values = self.eval_single(key, check).await?;
        decode(&values, &[check.limit()])?
            .into_iter()
            .next()
            .ok_or_else(|| RedisLimitError::Reply("an empty reply to a single check".to_owned()))
    }

    /// Runs the single-check script of `check`'s algorithm on `key`.
    async fn eval_single(&self, key: &str, check: &Check<'_>) -> Result<Vec<i64>, RedisLimitError> {
        let (a, b) = params(check);
        let mut invocation = self.inner.scripts.single(check.algorithm).prepare_invoke();
        invocation.key(key).arg(a).arg(b).arg(check.cost);
        let mut conn = self.inner.conn.clone();
        self.timed(async {
            invocation
                .invoke_async::<Vec<i64>>(&mut conn)
                .await
                .map_err(RedisLimitError::from)
        })
        .await
    }

    /// Runs the multi script once over `keys`.
    async fn eval(
        &self,
        keys: &[&str],
        mode: &str,
        checks: &[Check<'_>],
    ) -> Result<Vec<i64>, RedisLimitError> {
        let mut invocation = self.inner.scripts.multi.prepare_invoke();
        let params: Vec<(String, u64)> = checks.iter().map(params).collect();
        let args: Vec<ScriptCheck<'_>> = checks
            .iter()
            .zip(&params)
            .map(|(c, (a, b))| (c.algorithm.letter(), a.as_str(), *b, c.cost))
            .collect();
        for key in keys {
            invocation.key(*key);
        }
        push_multi_args(&mut invocation, mode, &args);
        let mut conn = self.inner.conn.clone();
        self.timed(async {
            invocation
                .invoke_async::<Vec<i64>>(&mut conn)
                .await
                .map_err(RedisLimitError::from)
        })
        .await
    }

    /// One `EVALSHA` per pending check, pipelined; on `NOSCRIPT` the script is loaded and the
    /// pipeline sent once more.
    async fn pipeline(
        &self,
        keys: &[String],
        checks: &[Check<'_>],
        pending: &[usize],
    ) -> Result<Vec<Decision>, RedisLimitError> {
        let mut pipe = redis::pipe();
        let mut limits = Vec::with_capacity(pending.len());
        for &i in pending {
            let (Some(key), Some(check)) = (keys.get(i), checks.get(i)) else {
                continue;
            };
            limits.push(check.limit());
            let (a, b) = params(check);
            pipe.cmd("EVALSHA")
                .arg(self.inner.scripts.single(check.algorithm).get_hash())
                .arg(1)
                .arg(key)
                .arg(a)
                .arg(b)
                .arg(check.cost);
        }
        let mut conn = self.inner.conn.clone();
        let first = self
            .timed(async {
                pipe.query_async::<Vec<Vec<i64>>>(&mut conn)
                    .await
                    .map_err(RedisLimitError::from)
            })
            .await;
        let replies = match first {
            Err(RedisLimitError::Redis(e))
                if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
            {
                self.timed(async {
                    for algorithm in [
                        RedisAlgorithm::Gcra,
                        RedisAlgorithm::TokenBucket,
                        RedisAlgorithm::SlidingWindowCounter,
                        RedisAlgorithm::SlidingWindowLog,
                    ] {
                        self.inner
                            .scripts
                            .single(algorithm)
                            .load_async(&mut conn)
                            .await?;
                    }
                    pipe.query_async::<Vec<Vec<i64>>>(&mut conn)
                        .await
                        .map_err(RedisLimitError::from)
                })
                .await?
            }
            other => other?,
        };
        let mut out = Vec::with_capacity(replies.len());
        for (reply, limit) in replies.iter().zip(limits) {
            out.extend(decode(reply, &[limit])?);
        }
        Ok(out)
    }

    async fn timed<T>(
        &self,
        fut: impl Future<Output = Result<T, RedisLimitError>>,
    ) -> Result<T, RedisLimitError> {
        let timeout = self.inner.config.timeout;
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| RedisLimitError::Timeout(timeout))?
    }

    /// Marks Redis healthy again after failures, once.
    fn recovered(&self) {
        // A load first: the common case (healthy) writes nothing to the shared cache line.
        if self.inner.degraded.load(Ordering::Relaxed)
            && self.inner.degraded.swap(false, Ordering::Relaxed)
        {
            tracing::info!(target: "keel_ratelimit::redis", "redis is back; rate limits are shared again");
            metrics::gauge!("keel_ratelimit_redis_degraded").set(0.0);
        }
    }

    /// Reports a failed call and answers `checks` by the failure policy.
    fn on_failure(&self, error: &RedisLimitError, checks: &[Check<'_>]) -> Vec<Decision> {
        self.inner.failures.fetch_add(1, Ordering::Relaxed);
        let reason = match error {
            RedisLimitError::Timeout(_) => "timeout",
            RedisLimitError::Reply(_) => "reply",
            _ => "error",
        };
        metrics::counter!("keel_ratelimit_redis_failures_total", "reason" => reason).increment(1);
        if !self.inner.degraded.swap(true, Ordering::Relaxed) {
            metrics::gauge!("keel_ratelimit_redis_degraded").set(1.0);
            tracing::warn!(
                target: "keel_ratelimit::redis",
                error = %error,
                policy = ?self.inner.config.failure,
                "redis rate limiting failed; applying the failure policy until redis answers"
            );
        } else {
            tracing::debug!(target: "keel_ratelimit::redis", error = %error, "redis rate limiting still failing");
        }
        checks
            .iter()
            .map(
                |c| match (self.inner.config.failure, &self.inner.fallback) {
                    (FailurePolicy::Closed { retry_after }, _) => Decision {
                        allowed: false,
                        limit: c.limit(),
                        remaining: 0,
                        reset_after: retry_after,
                        retry_after: retry_after.max(Duration::from_nanos(1)),
                    },
                    (FailurePolicy::Local { .. }, Some(fallback)) => {
                        fallback.check(c.algorithm, c.quota, c.key, c.cost)
                    }
                    _ => Decision {
                        allowed: true,
                        limit: c.limit(),
                        remaining: 0,
                        reset_after: Duration::ZERO,
                        retry_after: Duration::ZERO,
                    },
                },
            )
            .collect()
    }
}

/// Hands a coalescing slot on when its call ends, even when the caller is cancelled.
struct SlotGuard<'a>(&'a RedisLimiter);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        self.0.hand_on();
    }
}
