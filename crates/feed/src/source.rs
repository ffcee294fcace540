//! The post source the engine reads through, and a small in-memory implementation.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use foldhash::fast::RandomState;

use async_trait::async_trait;
use parking_lot::RwLock;

use crate::error::Result;
use crate::model::{Position, Post, PostId, UserId};

/// Where posts live. The caller stores a post, then publishes it
/// ([`FeedEngine::publish`](crate::FeedEngine::publish)); a deleted post must no longer be
/// returned.
#[async_trait]
pub trait PostSource: Send + Sync + std::fmt::Debug {
    /// Posts by `author`, newest first, strictly older than `before` (all when `None`), at
    /// most `limit`.
    async fn recent_posts(
        &self,
        author: UserId,
        before: Option<Position>,
        limit: usize,
    ) -> Result<Vec<Post>>;

    /// One post's metadata, or `None` when it does not exist (or was deleted).
    async fn post(&self, id: PostId) -> Result<Option<Post>>;

    /// Posts by each of `authors` (distinct), strictly older than `before` and not older than
    /// `since` (no bound when `None`), at most `limit` per author, in one list: grouped by
    /// author in the order given, each author's posts newest first; an author with nothing in
    /// range contributes nothing.
    ///
    /// Hybrid reads call this once per page for all pulled authors, with `since` set to the
    /// oldest entry the page can hold: most authors have nothing that recent. The default asks
    /// [`recent_posts`](Self::recent_posts) per author (for two posts first when `since` is
    /// set); backends should answer in one query, and cheaply when nothing is in range.
    async fn recent_posts_many(
        &self,
        authors: &[UserId],
        before: Option<Position>,
        since: Option<Position>,
        limit: usize,
    ) -> Result<Vec<Post>> {
        let mut out = Vec::new();
        for &a in authors {
            let start = out.len();
            let mut cursor = before;
            let mut step = if since.is_some() { limit.min(2) } else { limit };
            while out.len() - start < limit && step > 0 {
                let page = self.recent_posts(a, cursor, step).await?;
                let mut more = page.len() == step;
                for p in &page {
                    if since.is_some_and(|s| p.entry().position < s) {
                        more = false;
                        break;
                    }
                    out.push(*p);
                    if out.len() - start == limit {
                        break;
                    }
                }
                match page.last() {
                    Some(last) if more => cursor = Some(last.entry().position),
                    _ => break,
                }
                step = limit - (out.len() - start);
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Default)]
struct Posts {
    by_author: HashMap<UserId, BTreeMap<Position, Post>, RandomState>,
    by_id: HashMap<PostId, Post, RandomState>,
}

/// Posts in memory, for tests, benches and small deployments.
#[derive(Debug, Default)]
pub struct MemoryPosts {
    inner: RwLock<Posts>,
}

impl MemoryPosts {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `post` (replacing a post with the same id).
    pub fn insert(&self, post: Post) {
        let mut p = self.inner.write();
        if let Some(old) = p.by_id.insert(post.id, post)
            && let Some(m) = p.by_author.get_mut(&old.author)
        {
            m.remove(&old.entry().position);
        }
        p.by_author
            .entry(post.author)
            .or_default()
            .insert(post.entry().position, post);
    }

    /// Removes a post; returns it when it existed.
    pub fn remove(&self, id: PostId) -> Option<Post> {
        let mut p = self.inner.write();
        let post = p.by_id.remove(&id)?;
        if let Some(m) = p.by_author.get_mut(&post.author) {
            m.remove(&post.entry().position);
        }
        Some(post)
    }
}

#[async_trait]
impl PostSource for MemoryPosts {
    async fn recent_posts(
        &self,
        author: UserId,
        before: Option<Position>,
        limit: usize,
    ) -> Result<Vec<Post>> {
        let p = self.inner.read();
        let Some(m) = p.by_author.get(&author) else {
            return Ok(Vec::new());
        };
        Ok(match before {
            Some(b) => m.range(..b).rev().take(limit).map(|(_, v)| *v).collect(),
            None => m.values().rev().take(limit).copied().collect(),
        })
    }

    async fn post(&self, id: PostId) -> Result<Option<Post>> {
        Ok(self.inner.read().by_id.get(&id).copied())
    }

    async fn recent_posts_many(
        &self,
        authors: &[UserId],
        before: Option<Position>,
        since: Option<Position>,
        limit: usize,
    ) -> Result<Vec<Post>> {
        let p = self.inner.read();
        let mut out = Vec::new();
        for a in authors {
            if let Some(m) = p.by_author.get(a) {
                newest_between(m, since, before, limit, &mut out);
            }
        }
        Ok(out)
    }
}

/// Appends up to `limit` posts of `m` to `out`, newest first, strictly older than `before` and
/// not older than `since`. Checks the newest post first: a pulled author usually has nothing
/// in range, and that answer costs nothing.
fn newest_between(
    m: &BTreeMap<Position, Post>,
    since: Option<Position>,
    before: Option<Position>,
    limit: usize,
    out: &mut Vec<Post>,
) {
    let lower = since.map_or(Bound::Unbounded, Bound::Included);
    match (since, before) {
        (Some(s), _) if m.last_key_value().is_none_or(|(newest, _)| *newest < s) => {}
        // An empty range: `BTreeMap::range` would panic on crossed bounds.
        (Some(s), Some(b)) if s >= b => {}
        (_, Some(b)) => out.extend(
            m.range((lower, Bound::Excluded(b)))
                .rev()
                .take(limit)
                .map(|(_, v)| *v),
        ),
        (_, None) => out.extend(
            m.range((lower, Bound::Unbounded))
                .rev()
                .take(limit)
                .map(|(_, v)| *v),
        ),
    }
}
