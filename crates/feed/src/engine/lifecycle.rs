//! Follow, unfollow, delete and regeneration.

use std::collections::HashSet;

use super::FeedEngine;
use crate::config::Strategy;
use crate::error::Result;
use crate::graph::GraphCursor;
use crate::merge::merge_newest;
use crate::metrics as m;
use crate::model::{Position, Post, PostId, TimelineEntry, UserId, Visibility};

/// Posts fetched per request when removing an unfollowed author's entries.
const UNFOLLOW_PAGE: usize = 200;

/// Whether `reader` may see `post` when it is pulled.
pub(super) fn visible_to(post: &Post, reader: UserId) -> bool {
    match post.visibility {
        Visibility::Private => post.author == reader,
        _ => true,
    }
}

impl FeedEngine {
    /// Tells the engine that `follower` now follows `followee` (already recorded in the
    /// graph): the followee's recent posts are copied into the follower's timeline, unless the
    /// followee is pulled at read time. Returns how many entries were added.
    ///
    /// # Errors
    /// A graph, source or store error.
    pub async fn follow(&self, follower: UserId, followee: UserId) -> Result<usize> {
        self.forget_pulled(follower);
        let pulled = self.reclassify(followee).await?;
        if pulled || matches!(self.config.strategy, Strategy::Pull) {
            return Ok(0);
        }
        let entries = self
            .pulled(followee, follower, None, self.config.backfill_per_author)
            .await?;
        let n = self
            .store
            .insert(follower, &entries, self.config.cap)
            .await?;
        // Write, then re-check (see fan-out): an unfollow that raced the backfill is undone.
        if !self.graph.is_following(follower, followee).await? {
            self.store.remove(follower, &entries).await?;
            return Ok(0);
        }
        Ok(n)
    }

    /// Tells the engine that `follower` no longer follows `followee` (already removed from the
    /// graph): the followee's entries leave the follower's timeline. The removal looks up the
    /// followee's recent posts (at most the timeline cap) instead of scanning the timeline.
    ///
    /// # Errors
    /// A graph, source or store error.
    pub async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<()> {
        self.forget_pulled(follower);
        self.reclassify(followee).await?;
        if matches!(self.config.strategy, Strategy::Pull) {
            return Ok(());
        }
        // Stored copies of the followee's posts deleted while they were pulled.
        let retracted = self.store.retracted(followee).await?;
        self.store
            .remove_posts(&[follower], followee, &retracted)
            .await?;
        let mut before: Option<Position> = None;
        let mut seen = 0;
        while seen < self.config.cap {
            let posts = self
                .posts
                .recent_posts(followee, before, UNFOLLOW_PAGE)
                .await?;
            let entries: Vec<TimelineEntry> = posts.iter().map(Post::entry).collect();
            self.store.remove(follower, &entries).await?;
            seen += posts.len();
            match posts.last() {
                Some(p) if posts.len() == UNFOLLOW_PAGE => before = Some(p.entry().position),
                _ => break,
            }
        }
        Ok(())
    }

    /// Deletes post `id` by `author` from every timeline: tombstones it first (so no late or
    /// repeated delivery writes it back, and a running fan-out of it stops at its next chunk),
    /// then removes it from the author's timeline and, for a pushed author, from every
    /// follower's. Remove it from the post source too, so the pull path no longer returns it.
    /// Only the id and the author are needed: the post may already be gone from storage.
    ///
    /// For an author pulled at read time (hybrid, at or above the threshold) the cost does not
    /// depend on the follower count: the post is recorded as retracted instead of walking the
    /// followers. Readers take a pulled author's posts from the post source and hide the stored
    /// copies pushed before the author crossed the threshold; those copies are removed when the
    /// author falls below it again (or when a follower unfollows).
    ///
    /// # Errors
    /// A graph or store error; deleting again is safe.
    pub async fn delete(&self, id: PostId, author: UserId) -> Result<()> {
        self.store.tombstone(id).await?;
        self.store.remove_posts(&[author], author, &[id]).await?;
        match self.config.strategy {
            Strategy::Pull => return Ok(()),
            Strategy::Push => {}
            Strategy::Hybrid { .. } => {
                if self.reclassify(author).await? {
                    self.store.retract(author, id).await?;
                    // An author who fell below the threshold meanwhile had their retracted
                    // posts cleared by that crossing, perhaps without this one: walk then.
                    if self.cached_pulled(author) {
                        return Ok(());
                    }
                }
            }
        }
        let mut after: Option<GraphCursor> = None;
        loop {
            let page = self
                .graph
                .followers(author, after.as_ref(), self.config.chunk_size)
                .await?;
            self.store.remove_posts(&page.users, author, &[id]).await?;
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// Rebuilds `user`'s timeline from the follow graph, as Mastodon does for a new or
    /// long-inactive user. [`is_regenerating`](Self::is_regenerating) is `true` meanwhile.
    /// Returns how many entries the rebuilt timeline received.
    ///
    /// # Errors
    /// A graph, source or store error; the timeline then stays partial until the next rebuild.
    pub async fn regenerate(&self, user: UserId) -> Result<usize> {
        self.regenerating.lock().insert(user);
        let result = self.regenerate_inner(user).await;
        self.regenerating.lock().remove(&user);
        m::regenerated();
        result
    }

    async fn regenerate_inner(&self, user: UserId) -> Result<usize> {
        if matches!(self.config.strategy, Strategy::Pull) {
            return Ok(0);
        }
        // Create first, read the posts second: a post published meanwhile is either delivered
        // to the new timeline or already in the source when we read it.
        self.store.evict(user).await?;
        self.store.create(user, self.clock.now_ms()).await?;
        let authors = self.followees_and_self(user).await?;
        let mut lists = Vec::with_capacity(authors.len());
        let mut pushed_authors = Vec::with_capacity(authors.len());
        for a in authors {
            if a != user && self.is_pulled(a).await? {
                continue;
            }
            lists.push(
                self.pulled(a, user, None, self.config.backfill_per_author)
                    .await?,
            );
            pushed_authors.push(a);
        }
        // A list that filled its quota may go on: below its last entry the rebuild is not
        // complete, so only the entries at or above that horizon are kept, and the timeline
        // is marked partial (older entries come from the pull path).
        let per_author = self.config.backfill_per_author;
        let mut horizon: Option<Position> = lists
            .iter()
            .filter(|l| l.len() >= per_author)
            .filter_map(|l| l.last().map(|e| e.position))
            .max();
        let mut merged = merge_newest(&lists, self.config.cap);
        if merged.len() >= self.config.cap {
            horizon = horizon.max(merged.last().map(|e| e.position));
        }
        if let Some(h) = horizon {
            merged.retain(|e| e.position >= h);
        }
        let n = self.store.insert(user, &merged, self.config.cap).await?;
        if horizon.is_some() {
            self.store.mark_partial(user).await?;
        }
        // Re-check the graph: entries of an author unfollowed during the rebuild go.
        let now: HashSet<UserId> = self.followees_and_self(user).await?.into_iter().collect();
        for (a, list) in pushed_authors.iter().zip(&lists) {
            if !now.contains(a) {
                self.store.remove(user, list).await?;
            }
        }
        Ok(n)
    }

    /// Re-reads `author`'s side of the hybrid threshold; an author who fell below it gets
    /// their recent posts pushed to followers (they were pulled until now). Returns whether the
    /// author is pulled.
    async fn reclassify(&self, author: UserId) -> Result<bool> {
        let (pulled, before) = self.classify(author).await?;
        if before == Some(true) && !pulled {
            self.backfill_followers(author).await?;
        }
        Ok(pulled)
    }
}
