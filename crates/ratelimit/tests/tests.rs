//! Integration tests for keel-ratelimit (one binary, one link step).

// Test helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod algorithms;
mod concurrency;
mod governor_diff;
mod keyed;
mod loom_model;
#[cfg(any(feature = "tower", feature = "redis"))]
mod metrics;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis-cluster")]
mod redis_cluster;
#[cfg(feature = "tower")]
mod tower;
#[cfg(feature = "tokio")]
mod wait;
