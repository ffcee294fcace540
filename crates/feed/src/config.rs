//! How the engine delivers: the strategy and its limits.

use crate::error::{FeedError, Result};

/// How posts reach timelines. Callers of the engine do not see the difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strategy {
    /// Fan-out on write: each post's id goes into every follower's timeline.
    Push,
    /// Fan-out on read: a read merges the followees' recent posts.
    Pull,
    /// Authors with at least `threshold` followers are pulled at read time and merged with the
    /// pushed timeline; everyone else is pushed.
    Hybrid {
        /// The follower count from which an author is pulled instead of pushed.
        threshold: u64,
    },
}

/// Engine settings. Start from [`FeedConfig::default`] and change what you need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedConfig {
    /// The delivery strategy (default: hybrid with a threshold of 10,000 followers).
    pub strategy: Strategy,
    /// Entries kept per timeline, trimmed on insert (default 800, as Twitter; Mastodon keeps 400).
    pub cap: usize,
    /// Followers per fan-out chunk: one store batch (default 1,000; graphs may return smaller
    /// pages, keel-storage at most 200).
    pub chunk_size: usize,
    /// Fan-out chunks written at once ([`TimelineStore::deliver_many`]): Redis sends them as
    /// concurrent pipelines on one connection (default 4). A group of chunks is one
    /// cancellation point: a delete stops the fan-out at the next group.
    ///
    /// [`TimelineStore::deliver_many`]: crate::TimelineStore::deliver_many
    pub chunks_in_flight: usize,
    /// Posts per followee copied into a timeline on follow and on regeneration (default 40).
    pub backfill_per_author: usize,
    /// Followers inactive for longer than this (milliseconds) are skipped at fan-out and their
    /// timeline is regenerated on their next read (default 14 days, as Mastodon).
    pub inactive_after_ms: u64,
    /// Largest page a read returns; larger requests are clamped (default 200).
    pub max_page: usize,
    /// Under hybrid, how long a reader's list of pulled followees is cached (milliseconds,
    /// default 60 s). Follows, unfollows and threshold crossings seen by this engine refresh it
    /// at once; changes made through another process are seen within this time.
    pub pulled_cache_ms: u64,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            strategy: Strategy::Hybrid { threshold: 10_000 },
            cap: 800,
            chunk_size: 1_000,
            chunks_in_flight: 4,
            backfill_per_author: 40,
            inactive_after_ms: 14 * 24 * 3_600_000,
            max_page: 200,
            pulled_cache_ms: 60_000,
        }
    }
}

impl FeedConfig {
    /// Checks the values.
    ///
    /// # Errors
    /// [`FeedError::InvalidConfig`] when `cap`, `chunk_size`, `chunks_in_flight` or `max_page`
    /// is zero, or a hybrid threshold is zero.
    pub fn validate(&self) -> Result<()> {
        if self.cap == 0 {
            return Err(FeedError::InvalidConfig("cap must be at least 1"));
        }
        if self.chunk_size == 0 {
            return Err(FeedError::InvalidConfig("chunk_size must be at least 1"));
        }
        if self.chunks_in_flight == 0 {
            return Err(FeedError::InvalidConfig(
                "chunks_in_flight must be at least 1",
            ));
        }
        if self.max_page == 0 {
            return Err(FeedError::InvalidConfig("max_page must be at least 1"));
        }
        if matches!(self.strategy, Strategy::Hybrid { threshold: 0 }) {
            return Err(FeedError::InvalidConfig(
                "a hybrid threshold of 0 pulls everyone: use Strategy::Pull",
            ));
        }
        Ok(())
    }
}
