//! Publishing: the author's own timeline, then push (chunked fan-out) or pull.

use super::FeedEngine;
use crate::error::Result;
use crate::graph::GraphCursor;
use crate::metrics as m;
use crate::model::{Post, TimelineEntry, UserId, Visibility};
use crate::store::{DeliverOptions, Delivery};

/// How a post was routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// Written to the followers' timelines.
    Pushed,
    /// Left for readers to pull (fan-out on read, or an author above the hybrid threshold).
    Pulled,
    /// A private post: only the author's own timeline.
    Private,
}

/// What publishing a post did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishReport {
    /// The route taken.
    pub route: Route,
    /// Timelines written (absent, inactive and repeated deliveries are not counted).
    pub delivered: usize,
    /// Follower chunks processed.
    pub chunks: usize,
    /// The post was deleted while fanning out: the remaining chunks were cancelled.
    pub cancelled: bool,
}

impl FeedEngine {
    /// Publishes `post`, already stored in the post source: writes it to the author's own
    /// timeline, then pushes it to followers or leaves it to be pulled, as the strategy says.
    /// Publishing the same post again writes nothing new (deliveries are idempotent).
    ///
    /// This runs the fan-out to completion; the `tokio` feature's
    /// `FanoutPool` runs it in the background instead.
    ///
    /// # Errors
    /// A graph, source or store error; a fan-out stopped by an error may be re-run safely.
    pub async fn publish(&self, post: &Post) -> Result<PublishReport> {
        self.publish_since(post, self.clock.now_ms()).await
    }

    pub(crate) async fn publish_since(
        &self,
        post: &Post,
        started_ms: u64,
    ) -> Result<PublishReport> {
        let entry = post.entry();
        self.store
            .insert(post.author, &[entry], self.config.cap)
            .await?;
        let mut report = PublishReport {
            route: Route::Private,
            delivered: 0,
            chunks: 0,
            cancelled: false,
        };
        if post.visibility == Visibility::Private {
            return Ok(report);
        }
        let (pulled, before) = self.classify(post.author).await?;
        if before == Some(true) && !pulled {
            self.backfill_followers(post.author).await?;
        }
        if pulled {
            report.route = Route::Pulled;
        } else {
            report.route = Route::Pushed;
            self.fan_out(entry, &mut report).await?;
        }
        let now = self.clock.now_ms();
        m::delivery_completed(now.saturating_sub(started_ms));
        Ok(report)
    }

    /// Delivers `entry` to every active follower, [`FeedConfig::chunks_in_flight`] chunks at a
    /// time.
    ///
    /// [`FeedConfig::chunks_in_flight`]: crate::FeedConfig::chunks_in_flight
    async fn fan_out(&self, entry: TimelineEntry, report: &mut PublishReport) -> Result<()> {
        let opts = DeliverOptions {
            cap: self.config.cap,
            active_since_ms: self
                .clock
                .now_ms()
                .saturating_sub(self.config.inactive_after_ms),
        };
        let author = entry.author;
        let group = self.config.chunks_in_flight.max(1);
        let mut after: Option<GraphCursor> = None;
        let mut more = true;
        while more {
            // Read a group of chunks, write them at once (concurrently where the store can).
            let version = self.graph.removal_version();
            let mut chunks: Vec<Vec<UserId>> = Vec::with_capacity(group);
            while more && chunks.len() < group {
                let page = self
                    .graph
                    .followers(author, after.as_ref(), self.config.chunk_size)
                    .await?;
                if !page.users.is_empty() {
                    chunks.push(page.users);
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => more = false,
                }
            }
            if chunks.is_empty() {
                break;
            }
            report.chunks += chunks.len();
            let results = match chunks.as_slice() {
                [one] => vec![self.store.deliver(one, entry, opts).await?],
                _ => self.store.deliver_many(&chunks, entry, opts).await?,
            };
            let mut cancelled = false;
            let mut written = Vec::with_capacity(chunks.len());
            for (chunk, result) in chunks.iter().zip(results) {
                match result {
                    Delivery::Tombstoned => cancelled = true,
                    Delivery::Delivered(n) => {
                        report.delivered += n;
                        m::delivered(n);
                        written.push(chunk);
                    }
                }
            }
            // Write, then re-check: an unfollow that raced these chunks either is seen here or
            // runs its own removal after our write, so no entry of an unfollowed author stays.
            // When the graph says nothing was unfollowed since the chunks were read, skip it.
            let unchanged = version.is_some() && self.graph.removal_version() == version;
            if !unchanged {
                for chunk in written {
                    for gone in self.graph.not_following(author, chunk).await? {
                        self.store.remove(gone, &[entry]).await?;
                    }
                }
            }
            if cancelled {
                report.cancelled = true;
                m::fanout_cancelled();
                break;
            }
        }
        Ok(())
    }

    /// Copies `author`'s recent posts into every follower's timeline: for an author who fell
    /// below the hybrid threshold, whose earlier posts were pulled and never pushed. Stored
    /// copies of the posts deleted while the author was pulled (retracted) are removed first.
    pub(crate) async fn backfill_followers(&self, author: UserId) -> Result<()> {
        let retracted = self.store.retracted(author).await?;
        let entries: Vec<TimelineEntry> = self
            .posts
            .recent_posts(author, None, self.config.backfill_per_author)
            .await?
            .iter()
            .filter(|p| p.visibility != Visibility::Private)
            .map(Post::entry)
            .collect();
        if entries.is_empty() && retracted.is_empty() {
            return Ok(());
        }
        let mut after: Option<GraphCursor> = None;
        loop {
            let page = self
                .graph
                .followers(author, after.as_ref(), self.config.chunk_size)
                .await?;
            self.store
                .remove_posts(&page.users, author, &retracted)
                .await?;
            if !entries.is_empty() {
                for &f in &page.users {
                    self.store.insert(f, &entries, self.config.cap).await?;
                }
                for gone in self.graph.not_following(author, &page.users).await? {
                    self.store.remove(gone, &entries).await?;
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(()),
            }
        }
    }
}
