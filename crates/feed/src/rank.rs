//! Ranking: chronological by default, a trending score with time decay, a global top-N
//! leaderboard, and the [`Ranker`] trait for your own.
//!
//! # The gravity formula
//! [`Gravity`] is the formula Hacker News popularised:
//!
//! ```text
//! score = (points - 1) / (age_hours + 2) ^ gravity        (gravity 1.8 by default)
//! ```
//!
//! The `- 1` discounts the author's own vote, `+ 2` keeps brand-new posts from dividing by
//! almost zero, and a larger gravity makes posts sink faster with age. Scores change as time
//! passes, so they are computed at read time over a window of recent entries
//! ([`FeedEngine::read_ranked`]).
//!
//! # The leaderboard
//! A global top-N cannot be re-scored on every read, so [`Leaderboard`] stores Reddit's "hot"
//! score, whose time term grows instead of the old posts decaying:
//! `hot = log10(max(points, 1)) + (created_s - 2020-01-01) / 45_000` (a post needs 10x the
//! points to beat one posted 12.5 hours later). Order never needs recomputing; the board keeps
//! its `capacity` best posts.

use std::collections::HashMap;

use async_trait::async_trait;
use foldhash::fast::RandomState;
use parking_lot::Mutex;

use crate::engine::{FeedEngine, ReadRequest};
use crate::error::Result;
use crate::model::{Post, PostId, TimelineEntry, UserId};
use crate::score::SCORE_EPOCH_MS;

/// Orders a window of timeline entries: higher scores first.
pub trait Ranker: Send + Sync {
    /// The rank of `entry`, given its `points` (likes, reposts: whatever the caller counts) and
    /// the current time.
    fn score(&self, entry: &TimelineEntry, points: f64, now_ms: u64) -> f64;
}

/// Newest first: the timeline's own order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chronological;

impl Ranker for Chronological {
    fn score(&self, entry: &TimelineEntry, _points: f64, _now_ms: u64) -> f64 {
        entry.position.score.as_f64()
    }
}

/// Hacker News' gravity: `(points - 1) / (age_hours + 2) ^ gravity`.
#[derive(Debug, Clone, Copy)]
pub struct Gravity {
    /// How fast posts sink with age (1.8 on Hacker News).
    pub gravity: f64,
}

impl Default for Gravity {
    fn default() -> Self {
        Self { gravity: 1.8 }
    }
}

impl Ranker for Gravity {
    fn score(&self, entry: &TimelineEntry, points: f64, now_ms: u64) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let age_hours = now_ms.saturating_sub(entry.position.score.unix_ms()) as f64 / 3_600_000.0;
        (points - 1.0) / (age_hours + 2.0).powf(self.gravity)
    }
}

/// Reddit's "hot" score of a post with `points`: see the module docs.
pub fn hot_score(post: &Post, points: f64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let secs = post.score.unix_ms().saturating_sub(SCORE_EPOCH_MS) as f64 / 1000.0;
    points.max(1.0).log10() + secs / 45_000.0
}

/// Sorts `entries` by `ranker`, best first (ties: newest first); `points` gives each entry's
/// points.
pub fn rank(
    entries: &mut [TimelineEntry],
    ranker: &dyn Ranker,
    points: &dyn Fn(&TimelineEntry) -> f64,
    now_ms: u64,
) {
    let mut scored: Vec<(f64, TimelineEntry)> = entries
        .iter()
        .map(|e| (ranker.score(e, points(e), now_ms), *e))
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| b.1.position.cmp(&a.1.position))
    });
    for (slot, (_, e)) in entries.iter_mut().zip(scored) {
        *slot = e;
    }
}

impl FeedEngine {
    /// The best `limit` entries among the newest `window` of `user`'s timeline, ordered by
    /// `ranker`. Ranked reads are one window, not pages: rank positions move as time passes.
    ///
    /// # Errors
    /// A graph, source or store error.
    pub async fn read_ranked(
        &self,
        user: UserId,
        window: usize,
        limit: usize,
        ranker: &dyn Ranker,
        points: &dyn Fn(&TimelineEntry) -> f64,
    ) -> Result<Vec<TimelineEntry>> {
        let page = self
            .read(&ReadRequest::first(user, window.max(limit)))
            .await?;
        let mut entries = page.entries;
        rank(&mut entries, ranker, points, self.clock_now_ms());
        entries.truncate(limit);
        Ok(entries)
    }
}

/// A global top-N of posts by [`hot_score`].
#[async_trait]
pub trait Leaderboard: Send + Sync + std::fmt::Debug {
    /// Sets `post`'s points (its total, not an increment).
    async fn record(&self, post: &Post, points: f64) -> Result<()>;
    /// Removes a post (deleted).
    async fn remove(&self, post: PostId) -> Result<()>;
    /// The best `n` posts with their hot scores, best first.
    async fn top(&self, n: usize) -> Result<Vec<(PostId, f64)>>;
}

/// A leaderboard in memory, keeping its `capacity` best posts.
#[derive(Debug)]
pub struct MemoryLeaderboard {
    capacity: usize,
    scores: Mutex<HashMap<PostId, f64, RandomState>>,
}

impl MemoryLeaderboard {
    /// A board that keeps the best `capacity` posts (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            scores: Mutex::default(),
        }
    }
}

fn best_first(a: &(PostId, f64), b: &(PostId, f64)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then_with(|| b.0.cmp(&a.0))
}

#[async_trait]
impl Leaderboard for MemoryLeaderboard {
    async fn record(&self, post: &Post, points: f64) -> Result<()> {
        let mut scores = self.scores.lock();
        scores.insert(post.id, hot_score(post, points));
        // Exactly `capacity`, as in Redis: drop the worst (one linear scan).
        while scores.len() > self.capacity {
            let worst = scores
                .iter()
                .map(|(k, v)| (*k, *v))
                .max_by(best_first)
                .map(|(k, _)| k);
            match worst {
                Some(w) => scores.remove(&w),
                None => break,
            };
        }
        Ok(())
    }

    async fn remove(&self, post: PostId) -> Result<()> {
        self.scores.lock().remove(&post);
        Ok(())
    }

    async fn top(&self, n: usize) -> Result<Vec<(PostId, f64)>> {
        let mut all: Vec<(PostId, f64)> =
            self.scores.lock().iter().map(|(k, v)| (*k, *v)).collect();
        all.sort_by(best_first);
        all.truncate(n.min(self.capacity));
        Ok(all)
    }
}
