//! # keel-ratelimit
//!
//! Rate limiting for Rust services: GCRA, token bucket, sliding-window log and counter, fixed
//! window; keyed (bounded by default), composed, tiered and adaptive. Every algorithm returns the
//! same [`Decision`], which fills the `RateLimit`, `RateLimit-Policy` and `Retry-After` headers.
//!
//! ```
//! use keel_ratelimit::{Gcra, KeyedLimiter, ManualClock, Quota};
//! use std::time::Duration;
//!
//! let clock = ManualClock::starting_now();
//! let quota: Quota = "10/s burst 2".parse()?;
//! let limiter: KeyedLimiter<u64, Gcra, _> = KeyedLimiter::with_clock(quota, clock.clone());
//!
//! assert!(limiter.check(&7).allowed);
//! assert!(limiter.check(&7).allowed);
//! let denied = limiter.check(&7);
//! assert!(!denied.allowed);
//! assert_eq!(denied.retry_after, Duration::from_millis(100));
//! assert_eq!(denied.retry_after_secs(), Some(1)); // the Retry-After header
//!
//! clock.advance(denied.retry_after);
//! assert!(limiter.check(&7).allowed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//! - [`clock`]: the [`Clock`] trait (nanoseconds since the UNIX epoch), [`SystemClock`],
//!   [`ManualClock`] for tests, `TokioClock` (feature `tokio`).
//! - [`quota`]: [`Quota`]: `per_second/per_minute/per_hour(n)`, `.burst(b)`, text and serde forms.
//! - [`decision`]: [`Decision`], the algorithm-independent answer and its header values.
//! - [`algorithm`]: the [`Algorithm`] trait and [`Gcra`], [`TokenBucket`], [`SlidingWindowLog`],
//!   [`SlidingWindowCounter`], [`FixedWindow`]; state is plain data on the UNIX epoch.
//! - [`direct`]: [`DirectLimiter`], one shared state (lock-free for GCRA and token bucket).
//! - [`keyed`]: [`KeyedLimiter`], a state per key in a sharded map, bounded and self-sweeping.
//! - [`sketch`]: [`SketchLimiter`], fixed-memory per-key limiting (count-min sketch) for floods.
//! - [`composite`]: [`AllOf`], several limits on one request, atomically.
//! - [`policy`]: [`Policy`], quotas by scope (tier, endpoint, anonymous IP).
//! - [`adaptive`]: [`AdaptiveLimiter`], a rate that follows latency under an AIMD law.
//! - `wait` (feature `tokio`): `Waiter::until_ready`, fair first-come-first-served waiting.
//! - `redis` (feature `redis`): `RedisLimiter`, limits shared by many instances (Lua scripts on
//!   the server's clock, atomic multi-limit checks, pipelined batches, failure policy).
//! - `tower` (feature `tower`): `RateLimitLayer`, a tower/axum layer with the IETF `RateLimit`
//!   headers, `429` problem details, and IP/user/API-key/route keys.
//! - [`error`]: [`QuotaError`], [`InsufficientCapacity`], [`PolicyError`], [`AdaptiveError`].
//!
//! # Untrusted input
//! Keys are hashed with a per-limiter random seed (foldhash) and are never parsed; any size works
//! (cost: hashing it, and storing it once admitted). The keyed store is bounded (`max_keys`) and
//! a denied request stores nothing. Quota text is limited to 128 bytes and parsed without
//! allocation beyond the error message. No input panics: times and costs saturate.
//!
//! # Many instances, and HTTP
//! With several instances, an in-process limit admits `instances x` the quota. The `redis`
//! feature keeps the state in Redis, decided by the same algorithms on the server's clock; the
//! `tower` feature puts any limiter in front of an axum or tower service (see
//! `examples/ratelimit-axum`). Both document their failure and failover behaviour.
//!
//! # Features
//! | feature | enables | default |
//! |---|---|---|
//! | `serde` | `Quota` from and to config text (`"1000/h burst 50"`) | no |
//! | `tokio` | `Waiter::until_ready`, `TokioClock` | no |
//! | `redis` | `redis::RedisLimiter`: limits shared through Redis (implies `tokio`) | no |
//! | `redis-cluster` | `redis::RedisLimiter::cluster`: the same on a Redis Cluster (implies `redis`) | no |
//! | `tower` | `tower::RateLimitLayer` with `RateLimit` headers (implies `tokio`) | no |

pub mod adaptive;
pub mod algorithm;
pub mod clock;
pub mod composite;
pub mod decision;
pub mod direct;
pub mod error;
pub mod keyed;
pub mod policy;
pub mod quota;
#[cfg(feature = "redis")]
pub mod redis;
pub mod sketch;
#[cfg(feature = "tower")]
pub mod tower;
#[cfg(feature = "tokio")]
pub mod wait;

pub use adaptive::{AdaptiveConfig, AdaptiveLimiter};
pub use algorithm::{
    Algorithm, FixedWindow, FromQuota, Gcra, SlidingWindowCounter, SlidingWindowLog, TokenBucket,
};
#[cfg(feature = "tokio")]
pub use clock::TokioClock;
pub use clock::{Clock, ManualClock, SystemClock};
pub use composite::AllOf;
pub use decision::Decision;
pub use direct::DirectLimiter;
pub use error::{AdaptiveError, InsufficientCapacity, PolicyError, QuotaError};
pub use keyed::{KeyedBuilder, KeyedLimiter, KeyedStats};
pub use policy::{Policy, PolicyBuilder};
pub use quota::Quota;
pub use sketch::SketchLimiter;
#[cfg(feature = "tokio")]
pub use wait::{Jitter, Waiter};
