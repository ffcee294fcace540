//! Settings of a [`RedisLimiter`](super::RedisLimiter): key layout, timeout, failure policy,
//! denial cache.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};

/// Which algorithm a check runs in Redis. Each decides exactly as the in-process algorithm of
/// the same name (see [`crate::algorithm`]), on the Redis server's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RedisAlgorithm {
    /// [`Gcra`](crate::Gcra): one key holding the theoretical arrival time. The cheapest.
    Gcra,
    /// [`TokenBucket`](crate::TokenBucket): one key holding the instant the bucket was empty.
    TokenBucket,
    /// [`SlidingWindowCounter`](crate::SlidingWindowCounter): one hash of three counters.
    SlidingWindowCounter,
    /// [`SlidingWindowLog`](crate::SlidingWindowLog): one sorted set, a member per admitted unit
    /// (at most `count` members per key): exact, the most memory.
    SlidingWindowLog,
}

impl RedisAlgorithm {
    /// The short name used in keys and metrics: `gcra`, `tb`, `swc`, `swl`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gcra => "gcra",
            Self::TokenBucket => "tb",
            Self::SlidingWindowCounter => "swc",
            Self::SlidingWindowLog => "swl",
        }
    }

    /// The letter the script dispatches on.
    pub(crate) fn letter(self) -> &'static str {
        match self {
            Self::Gcra => "g",
            Self::TokenBucket => "b",
            Self::SlidingWindowCounter => "c",
            Self::SlidingWindowLog => "l",
        }
    }
}

/// What a check answers when Redis is unreachable, fails, or is slower than the timeout.
///
/// Whatever the policy, the failure is reported (a `tracing` warning on the first failure and a
/// `keel_ratelimit_redis_failures_total` counter on every one) and the limiter goes back to Redis
/// by itself: every check tries Redis again, and the connection reconnects in the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailurePolicy {
    /// Admit every request (availability first). Decisions have `remaining = 0`.
    Open,
    /// Deny every request (protection first), with this `retry_after`.
    Closed {
        /// The retry hint given to denied callers.
        retry_after: Duration,
    },
    /// Decide with an in-process limiter per key whose quota is divided by `instances` (count and
    /// burst, each at least 1), so the fleet as a whole keeps roughly the shared limit.
    ///
    /// Set `instances` to the number of instances sharing the limit. With `instances = 1` (no
    /// division) each instance admits the full quota on its own, so the fleet admits up to
    /// `instances x` the limit while Redis is down.
    Local {
        /// The number of instances sharing the limit (0 is treated as 1).
        instances: u32,
    },
}

/// Whether to use the server's native `GCRA` command (Redis 8.8 and later) for
/// [`RedisAlgorithm::Gcra`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NativeGcra {
    /// Detect it once (`COMMAND INFO GCRA`) and use it when present; otherwise the Lua script.
    Auto,
    /// Always use the Lua script (older Redis, Valkey, managed services, or a fleet where some
    /// instances run an older keel: the two keep different state, so do not mix them on one key).
    Never,
}

/// Settings of a [`RedisLimiter`](super::RedisLimiter).
///
/// ```
/// use keel_ratelimit::redis::{FailurePolicy, RedisConfig};
/// use std::time::Duration;
/// let config = RedisConfig::new("api:")
///     .timeout(Duration::from_millis(50))
///     .failure_policy(FailurePolicy::Local { instances: 4 });
/// assert_eq!(config.prefix(), "api:");
/// ```
#[derive(Clone)]
pub struct RedisConfig {
    pub(crate) prefix: String,
    pub(crate) timeout: Duration,
    pub(crate) failure: FailurePolicy,
    pub(crate) deny_cache_capacity: usize,
    pub(crate) native_gcra: NativeGcra,
    pub(crate) coalesce_slots: usize,
    pub(crate) coalesce_batch: usize,
    pub(crate) clock: Arc<dyn Clock>,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("failure", &self.failure)
            .field("deny_cache_capacity", &self.deny_cache_capacity)
            .field("native_gcra", &self.native_gcra)
            .field("coalesce_slots", &self.coalesce_slots)
            .field("coalesce_batch", &self.coalesce_batch)
            .finish_non_exhaustive()
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self::new("keel:rl:")
    }
}

impl RedisConfig {
    /// Settings with key prefix `prefix`; timeout 100 ms, fail open, a denial cache of 10,000
    /// keys, native GCRA detected, coalescing with 4 calls in flight and batches of up to 64,
    /// system clock.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            timeout: Duration::from_millis(100),
            failure: FailurePolicy::Open,
            deny_cache_capacity: 10_000,
            native_gcra: NativeGcra::Auto,
            coalesce_slots: 4,
            coalesce_batch: 64,
            clock: Arc::new(SystemClock::new()),
        }
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The longest a check waits for Redis before the failure policy decides (default 100 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// What to answer when Redis fails (default [`FailurePolicy::Open`]).
    pub fn failure_policy(mut self, policy: FailurePolicy) -> Self {
        self.failure = policy;
        self
    }

    /// How many keys the local cache of denied keys holds (0 disables it; default 10,000).
    ///
    /// A key denied a unit request is answered locally, without Redis, until its retry time:
    /// a flood from one key costs no round trip. Other instances' traffic only moves that time
    /// later, so a cached denial is never wrong, only possibly early to lift.
    pub fn deny_cache(mut self, capacity: usize) -> Self {
        self.deny_cache_capacity = capacity;
        self
    }

    /// Coalescing of concurrent [`check`](super::RedisLimiter::check)s (default: 4 calls in
    /// flight, batches of up to 64; `slots = 0` turns it off).
    ///
    /// At most `slots` single checks are sent at once, each alone; checks arriving while every
    /// slot is busy wait, and the call that frees a slot sends all of them (up to `max_batch`)
    /// in one script run, where each decides atomically and exactly as it would alone. Light
    /// traffic sees no added latency; under heavy concurrency Redis runs one script per batch
    /// instead of one per check, which is what bounds a Lua limiter (a script run costs Redis
    /// several times the commands inside it). Not used on a Redis Cluster, nor for the native
    /// `GCRA` command.
    pub fn coalesce(mut self, slots: usize, max_batch: usize) -> Self {
        self.coalesce_slots = slots;
        self.coalesce_batch = max_batch;
        self
    }

    /// Whether to use a native `GCRA` command when the server has one (default: detect).
    pub fn native_gcra(mut self, native: NativeGcra) -> Self {
        self.native_gcra = native;
        self
    }

    /// The local clock for the denial cache and the local fallback (decisions in Redis always
    /// use the server's `TIME`). Inject a [`ManualClock`](crate::ManualClock) in tests.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}
