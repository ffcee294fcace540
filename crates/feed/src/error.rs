//! The one error type of this crate.

/// What can go wrong in the feed engine, its stores and its inputs.
///
/// A post that is filtered out, a timeline that is being regenerated or a full queue on
/// `FanoutPool::try_submit` are values, not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// A time or sequence does not fit the 53-bit score encoding.
    #[error(
        "score out of range: {what}; scores must stay below 2^53 (milliseconds since 2020-01-01 \
         below 2^43, sequence below 1024) so Redis doubles keep them exact"
    )]
    ScoreOutOfRange {
        /// Which part was out of range.
        what: &'static str,
    },
    /// The configuration is inconsistent.
    #[error("invalid feed configuration: {0}; fix the value passed to the builder")]
    InvalidConfig(&'static str),
    /// A cursor could not be decoded: it was altered, truncated or made by another feed.
    #[error("invalid cursor: {0}; request the first page again without a cursor")]
    InvalidCursor(&'static str),
    /// A page request was rejected by keel-pagination (a bad or foreign cursor, both cursors
    /// given): the client's fault, answer 400 (see `PageError::http_status`).
    #[error("invalid page request: {0}")]
    Page(#[from] keel_pagination::PageError),
    /// The follow graph failed.
    #[error("follow graph error: {0}; check the graph backend and retry")]
    Graph(String),
    /// The post source failed.
    #[error("post source error: {0}; check the post backend and retry")]
    Source(String),
    /// The timeline store failed (a network or server error for Redis).
    #[error("timeline store error: {0}; check the store backend (for Redis, REDIS_URL) and retry")]
    Store(String),
    /// The timeline store returned data this crate did not write.
    #[error("corrupt timeline data: {0}; delete the key or use a key prefix no one else writes")]
    Corrupt(String),
    /// The fan-out pool has shut down and accepts no more jobs.
    #[error("the fan-out pool is shut down; create a new pool to publish")]
    PoolClosed,
}

/// `Result` with [`FeedError`].
pub type Result<T, E = FeedError> = std::result::Result<T, E>;
