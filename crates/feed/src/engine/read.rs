//! Reading a page: the stored timeline, merged with pulled authors, continued into the pull
//! path past the capped end.

use super::FeedEngine;
use super::lifecycle::visible_to;
use crate::config::Strategy;
use crate::error::Result;
use crate::merge::{merge_into, merge_newest};
use crate::model::{Position, Post, TimelineEntry, UserId};

/// At most this many refills when the filter hides entries, so one read stays bounded.
const MAX_ROUNDS: usize = 8;
/// A read marks its owner active at most this often (milliseconds).
const TOUCH_EVERY_MS: u64 = 60_000;

/// A page request: whose timeline, from where, how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadRequest {
    /// The reader.
    pub user: UserId,
    /// Entries strictly older than this position (the `next` of the previous page); `None`
    /// for the newest page.
    pub before: Option<Position>,
    /// Entries wanted (clamped to `1..=max_page`).
    pub limit: usize,
}

impl ReadRequest {
    /// The newest page of `limit` entries of `user`'s timeline.
    pub fn first(user: UserId, limit: usize) -> Self {
        Self {
            user,
            before: None,
            limit,
        }
    }
}

/// One page of a timeline, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedPage {
    /// The entries.
    pub entries: Vec<TimelineEntry>,
    /// Where the next page starts (`ReadRequest::before`); `None` at the end of history.
    /// Positions are keyset positions, so the next page is stable while new posts arrive.
    pub next: Option<Position>,
    /// The stored timeline was missing or stale: this page was merged from the follow graph
    /// while the timeline is rebuilt (a server may answer HTTP 206, as Mastodon does).
    pub regenerating: bool,
}

enum Mode {
    Stored,
    Pull,
}

/// Entries read for one round of a page, and where the next round resumes.
struct Batch {
    /// Newest first.
    entries: Vec<TimelineEntry>,
    /// Every entry newer than this was considered; `None` at the end of history.
    resume: Option<Position>,
}

impl FeedEngine {
    /// Reads one page of `req.user`'s home timeline.
    ///
    /// # Errors
    /// A graph, source or store error.
    pub async fn read(&self, req: &ReadRequest) -> Result<FeedPage> {
        let limit = req.limit.clamp(1, self.config.max_page);
        let user = req.user;
        let mut regenerating = false;
        let mut mode = if matches!(self.config.strategy, Strategy::Pull) {
            Mode::Pull
        } else if self.is_regenerating(user) {
            regenerating = true;
            Mode::Pull
        } else {
            Mode::Stored
        };
        let mut out: Vec<TimelineEntry> = Vec::new();
        let mut cursor = req.before;
        // Where the next page starts: the last entry of a full page, the position the last
        // batch resumes from when the rounds ran out, or `None` at the end of history.
        let mut next = None;
        for _ in 0..MAX_ROUNDS {
            let want = limit - out.len();
            let batch = match mode {
                Mode::Stored => match self.stored_batch(user, cursor, want).await? {
                    Some(b) => b,
                    None => {
                        regenerating = true;
                        mode = Mode::Pull;
                        self.pull_batch(user, cursor, want).await?
                    }
                },
                Mode::Pull => self.pull_batch(user, cursor, want).await?,
            };
            let full = match &self.filter {
                // Nothing hidden: the batch is the page (no copy).
                None if out.is_empty() => {
                    out = batch.entries;
                    out.len() == limit
                }
                _ => self.keep_visible(user, &batch.entries, &mut out, limit),
            };
            if full {
                next = out.last().map(|e| e.position);
                break;
            }
            next = batch.resume;
            match batch.resume {
                Some(r) => cursor = Some(r),
                None => break,
            }
        }
        if regenerating && !self.is_regenerating(user) {
            self.schedule_regeneration(user).await?;
        }
        Ok(FeedPage {
            entries: out,
            next,
            regenerating,
        })
    }

    /// Appends the entries of `batch` the filter shows `user` to `out`, up to `limit`;
    /// returns whether `out` is full.
    fn keep_visible(
        &self,
        user: UserId,
        batch: &[TimelineEntry],
        out: &mut Vec<TimelineEntry>,
        limit: usize,
    ) -> bool {
        out.reserve(batch.len().min(limit - out.len()));
        for e in batch {
            if self.filter.as_ref().is_none_or(|f| f.allows(user, e)) {
                out.push(*e);
                if out.len() == limit {
                    return true;
                }
            }
        }
        false
    }

    async fn schedule_regeneration(&self, user: UserId) -> Result<()> {
        // Marked before scheduling, so readers see it at once; the rebuild clears it.
        self.regenerating.lock().insert(user);
        let scheduled = self
            .scheduler
            .read()
            .as_ref()
            .is_some_and(|schedule| schedule(user));
        if !scheduled {
            self.regenerate(user).await?;
        }
        Ok(())
    }

    /// Up to `n` entries from the stored timeline (merged with pulled authors under hybrid,
    /// continued by the pull path past its end); `None` when the timeline must be rebuilt.
    async fn stored_batch(
        &self,
        user: UserId,
        before: Option<Position>,
        n: usize,
    ) -> Result<Option<Batch>> {
        let now = self.clock.now_ms();
        let Some(slice) = self.store.page(user, before, n).await? else {
            return Ok(None);
        };
        if slice.last_active_ms < now.saturating_sub(self.config.inactive_after_ms) {
            return Ok(None);
        }
        if now.saturating_sub(slice.last_active_ms) >= TOUCH_EVERY_MS {
            self.store.touch(user, now).await?;
        }
        let stored_exhausted = slice.entries.len() < n;
        let boundary = slice.entries.last().map(|e| e.position).or(before);
        let mut stored = slice.entries;
        // Entries to merge into the stored page, in no particular order.
        let mut extra: Vec<TimelineEntry> = Vec::new();
        if matches!(self.config.strategy, Strategy::Hybrid { .. }) {
            let pulled = self.pulled_followees(user, now).await?;
            if !pulled.authors().is_empty() {
                // The pull path is the truth for pulled authors: stored copies of their posts
                // (pushed before they crossed the threshold) are left out, so a post of theirs
                // deleted without walking their followers does not show.
                stored.retain(|e| !pulled.contains(e.author));
                // A full stored page bounds what a pulled author can add: nothing older than
                // its last entry can make this page, so pulled authors are read down to it
                // (inclusive: that entry may be one of theirs, left out above).
                let floor = if stored_exhausted { None } else { boundary };
                self.pulled_many(pulled.authors(), user, before, n, floor, &mut extra)
                    .await?;
            }
        }
        if stored_exhausted {
            // Past the capped end (or the true end) of the stored timeline: the same position
            // continues into the pull path, so history does not stop at the cap.
            extra.extend(self.pull_batch(user, boundary, n).await?.entries);
        }
        let entries = if extra.is_empty() {
            stored
        } else {
            merge_into(&stored, extra, n)
        };
        // Everything newer than the boundary was considered: a short page ends history only
        // when the stored timeline (and so the pull path) did.
        let resume = if entries.len() == n {
            entries.last().map(|e| e.position)
        } else if stored_exhausted {
            None
        } else {
            boundary
        };
        Ok(Some(Batch { entries, resume }))
    }

    /// Up to `n` entries merged from every followee's (and the reader's own) recent posts.
    async fn pull_batch(&self, user: UserId, before: Option<Position>, n: usize) -> Result<Batch> {
        let authors = self.followees_and_self(user).await?;
        let mut lists = Vec::with_capacity(authors.len());
        for a in authors {
            lists.push(self.pulled(a, user, before, n).await?);
        }
        let entries = merge_newest(&lists, n);
        let resume = if entries.len() < n {
            None
        } else {
            entries.last().map(|e| e.position)
        };
        Ok(Batch { entries, resume })
    }

    /// [`pulled_down_to`](Self::pulled_down_to) for several authors, with one batched request
    /// for all of them ([`PostSource::recent_posts_many`]); only an author some of whose posts
    /// are hidden from `reader` is asked again. The entries are appended to `out`, in no
    /// particular order.
    ///
    /// [`PostSource::recent_posts_many`]: crate::PostSource::recent_posts_many
    async fn pulled_many(
        &self,
        authors: &[UserId],
        reader: UserId,
        before: Option<Position>,
        n: usize,
        floor: Option<Position>,
        out: &mut Vec<TimelineEntry>,
    ) -> Result<()> {
        let posts = self
            .posts
            .recent_posts_many(authors, before, floor, n)
            .await?;
        out.reserve(posts.len());
        // One author's posts are consecutive: walk them group by group.
        for group in posts.chunk_by(|a, b| a.author == b.author) {
            let start = out.len();
            out.extend(
                group
                    .iter()
                    .filter(|p| visible_to(p, reader))
                    .map(Post::entry),
            );
            if group.len() == n
                && out.len() - start < n
                && let Some(first) = group.first()
            {
                // Hidden posts cut this author's list short: ask again, past them.
                out.truncate(start);
                out.extend(
                    self.pulled_down_to(first.author, reader, before, n, floor)
                        .await?,
                );
            }
        }
        Ok(())
    }

    /// `author`'s newest `n` posts older than `before` that `reader` may see.
    pub(super) async fn pulled(
        &self,
        author: UserId,
        reader: UserId,
        before: Option<Position>,
        n: usize,
    ) -> Result<Vec<TimelineEntry>> {
        self.pulled_down_to(author, reader, before, n, None).await
    }

    /// Like [`pulled`](Self::pulled), stopping once a post at or below `floor` is seen (posts
    /// below `floor` are left out).
    async fn pulled_down_to(
        &self,
        author: UserId,
        reader: UserId,
        mut before: Option<Position>,
        n: usize,
        floor: Option<Position>,
    ) -> Result<Vec<TimelineEntry>> {
        // With a floor, look at a few posts first: a pulled author often has none above it.
        let mut step = if floor.is_some() { n.min(2) } else { n };
        let mut out = Vec::with_capacity(step);
        // Hidden posts (another author's private ones) are skipped by asking again from the
        // last post seen, so they cannot end a page early.
        loop {
            let posts = self.posts.recent_posts(author, before, step).await?;
            let short = posts.len() < step;
            if let Some(f) = floor
                && posts.last().is_some_and(|p| p.entry().position <= f)
            {
                // Entries below the floor cannot make this page: leave them out. The entry at the
                // floor is kept: the stored entry there may have been left out (a pulled
                // author's), and it cannot be a pulled author's and a stored one at once.
                out.extend(
                    posts
                        .iter()
                        .filter(|p| visible_to(p, reader))
                        .map(|p| p.entry())
                        .filter(|e| e.position >= f)
                        .take(n.saturating_sub(out.len())),
                );
                return Ok(out);
            }
            for p in &posts {
                if visible_to(p, reader) {
                    out.push(p.entry());
                    if out.len() == n {
                        return Ok(out);
                    }
                }
            }
            match posts.last() {
                Some(p) if !short => before = Some(p.entry().position),
                _ => return Ok(out),
            }
            step = n;
        }
    }
}
