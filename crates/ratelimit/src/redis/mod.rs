//! Limits shared by many instances through Redis (feature `redis`).
//!
//! A per-process limit is wrong by a factor of the instance count. A [`RedisLimiter`] keeps
//! every key's state in Redis and decides there, atomically, in a Lua script that implements the
//! same four algorithms as this crate's in-process core and returns the same [`Decision`]:
//! GCRA, token bucket, sliding-window counter and sliding-window log ([`RedisAlgorithm`]).
//!
//! ```no_run
//! use keel_ratelimit::Quota;
//! use keel_ratelimit::redis::{FailurePolicy, RedisAlgorithm, RedisConfig, RedisLimiter};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = RedisConfig::new("api:").failure_policy(FailurePolicy::Local { instances: 3 });
//! let limiter = RedisLimiter::new("redis://127.0.0.1:6379", config)?;
//! let quota: Quota = "100/m burst 20".parse()?;
//! let decision = limiter.check(RedisAlgorithm::Gcra, quota, "user:42", 1).await?;
//! if !decision.allowed {
//!     println!("retry in {:?}", decision.retry_after);
//! }
//! # Ok(()) }
//! ```
//!
//! # How it runs
//! - **Scripts loaded once.** Every check is an `EVALSHA` of a script holding just its algorithm
//!   (multi-limit checks: one script holding all four; every algorithm is written once); when
//!   the server answers `NOSCRIPT` (a restart, `SCRIPT FLUSH`, a failover) the script is loaded
//!   again and the call repeated.
//! - **The server's clock.** The script reads `TIME`, so instances with skewed clocks agree.
//! - **Keys expire by themselves.** Every key has a TTL that ends soon after its state stops
//!   mattering (a full allowance again): the expiry is a function of the state, so most writes
//!   keep it (`KEEPTTL`) instead of setting it again. GCRA, token-bucket and window-counter
//!   states are packed doubles in a string; the window log is a sorted set. Needs Redis 6.2 or
//!   later, or Valkey. Keys are `{prefix}{algorithm}:{count}:{period ns}:{burst}:{{key}}`:
//!   the caller's key is a hash tag, so all limits of one key share a Redis Cluster slot. Do not
//!   put `{` in the prefix.
//! - **One node or a Cluster.** [`RedisLimiter::new`] talks to one node (a primary with
//!   replicas, or a proxy) through a reconnecting `ConnectionManager`; with the feature
//!   `redis-cluster`, [`RedisLimiter::cluster`] talks to a Redis Cluster, each call routed by its
//!   key's slot. On a Cluster a batch is one pipelined round trip per slot it touches, and a
//!   multi-limit check needs all its keys in one slot (one caller key:
//!   [`RedisLimitError::CrossSlot`] otherwise).
//! - **Several limits on one request** ([`RedisLimiter::check_all`]): one script run decides all
//!   of them and commits only if all admit. **Many independent keys**
//!   ([`RedisLimiter::check_batch`]): one pipelined round trip.
//! - **Concurrent checks coalesce** ([`RedisConfig::coalesce`]): at most a few calls are in
//!   flight; checks arriving while all are busy are sent together in one script run when a
//!   call returns (each still decides atomically, exactly as alone). Light traffic pays no
//!   added latency; heavy traffic pays one script run per batch instead of one per check.
//! - **A local cache of denied keys** ([`RedisConfig::deny_cache`]): a key denied a unit
//!   request is answered locally until its retry time, so a flood from one key costs no round
//!   trip. It is never wrong: other instances can only push a retry time later.
//! - **Native GCRA.** Where the server has a `GCRA` command (Redis 8.8+), detected once with
//!   `COMMAND INFO`, single GCRA checks with a period of at least one second use it; the Lua
//!   script stays the fallback (older Redis, Valkey, managed services), and is always used for
//!   batches and multi-limit checks. The two keep different state under different keys.
//!
//! # Failure policy
//! When Redis is unreachable, fails, or is slower than [`RedisConfig::timeout`], the
//! [`FailurePolicy`] answers: fail open, fail closed, or decide locally with the quota divided by
//! the instance count. A local fallback *without* that division multiplies the limit by the
//! number of instances. The limiter never panics; each failure is counted
//! (`keel_ratelimit_redis_failures_total{reason}`, [`RedisLimiter::stats`]) and the first of a
//! run logged as a `tracing` warning; every check tries Redis again, and the connection
//! reconnects in the background, so it recovers by itself when Redis returns.
//!
//! # Failover bound
//! Redis replication is asynchronous: a replica promoted after a failover (or a restarted
//! server without persistence) may have lost the latest writes, so the limiter can over-admit.
//! The bound: **at most one extra burst per key for GCRA and the token bucket, one extra window's
//! count for the window algorithms**, since a lost state is at worst a fresh key. The crate's
//! tests measure it by flushing Redis mid-run.
//!
//! # Untrusted input
//! Keys are never parsed by Redis (they are passed as `KEYS`, not spliced into the script);
//! their size is the caller's to bound (the tower layer bounds the values it extracts).
//! Batches are limited to 1,000 checks.
//!
//! [`Decision`]: crate::Decision

mod cache;
mod check;
mod coalesce;
mod config;
mod conn;
mod error;
mod fallback;
mod limiter;
mod native;
mod script;

pub use check::Check;
pub use config::{FailurePolicy, NativeGcra, RedisAlgorithm, RedisConfig};
pub use error::RedisLimitError;
pub use limiter::{RedisLimiter, RedisStats};
