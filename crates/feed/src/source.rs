//! The post source the engine reads through, and a small in-memory implementation.

use std::collections::{BTreeMap, HashMap};

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

    /// [`recent_posts`](Self::recent_posts) for several authors: one list per author, in the
    /// order given. Hybrid reads call this once for all pulled authors; the default asks once
    /// per author, backends should answer in one query.
    async fn recent_posts_many(
        &self,
        authors: &[UserId],
        before: Option<Position>,
        limit: usize,
    ) -> Result<Vec<Vec<Post>>> {
        let mut out = Vec::with_capacity(authors.len());
        for &a in authors {
            out.push(self.recent_posts(a, before, limit).await?);
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
        limit: usize,
    ) -> Result<Vec<Vec<Post>>> {
        let p = self.inner.read();
        Ok(authors
            .iter()
            .map(|a| {
                p.by_author.get(a).map_or_else(Vec::new, |m| match before {
                    Some(b) => m.range(..b).rev().take(limit).map(|(_, v)| *v).collect(),
                    None => m.values().rev().take(limit).copied().collect(),
                })
            })
            .collect())
    }
}
