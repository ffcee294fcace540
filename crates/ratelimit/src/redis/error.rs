//! Errors of the Redis backend.

use crate::InsufficientCapacity;

/// An error from a [`RedisLimiter`](super::RedisLimiter).
///
/// Redis being down or slow is *not* an error of a check: the [`FailurePolicy`](super::FailurePolicy)
/// answers instead. Errors are for misuse, and for [`RedisLimiter::try_check`](super::RedisLimiter::try_check),
/// which reports the failure instead of applying the policy.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RedisLimitError {
    /// The cost can never fit the limit; split the request or raise the quota.
    #[error(transparent)]
    InsufficientCapacity(#[from] InsufficientCapacity),
    /// Redis answered with an error or the connection failed.
    #[error(
        "redis rate-limit call failed: {0}; check that Redis is reachable and REDIS_URL is right"
    )]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer within the configured timeout.
    #[error(
        "redis rate-limit call timed out after {0:?}; raise RedisConfig::timeout or check Redis load"
    )]
    Timeout(std::time::Duration),
    /// The reply did not have the expected shape (a script from another version on the key?).
    #[error(
        "unexpected reply from Redis: {0}; make sure every instance runs the same keel-ratelimit version"
    )]
    Reply(String),
    /// On a Redis Cluster, a multi-limit check's keys live in different slots, so one script
    /// cannot see them all.
    #[error(
        "the keys of a multi-limit check span {0} Redis Cluster slots; use one caller key for all \
         of its limits (the key is the hash tag), or check them with check_batch"
    )]
    CrossSlot(usize),
    /// A batch or multi-limit check was given no checks, or more than 1,000.
    #[error("a batch must hold 1 to 1000 checks, got {0}; split larger batches")]
    BatchSize(usize),
}
