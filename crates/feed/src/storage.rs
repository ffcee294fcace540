//! The bridge to keel-storage (feature `storage`): the engine's [`FollowGraph`] and
//! [`PostSource`] over a keel-storage backend, and the conversions between their models.
//!
//! ```
//! use std::sync::Arc;
//! use keel_feed::{FeedEngine, MemoryStore, StorageGraph, StoragePosts, Strategy};
//! use keel_storage::Store;
//!
//! let store: Arc<dyn Store> = Arc::new(keel_storage::MemoryStore::new());
//! let engine = FeedEngine::builder(
//!     Arc::new(StorageGraph::new(store.clone())),
//!     Arc::new(StoragePosts::new(store.clone())),
//!     Arc::new(MemoryStore::new()),
//! )
//! .strategy(Strategy::Hybrid { threshold: 10_000 })
//! .build()?;
//! # let _ = engine;
//! # Ok::<(), keel_feed::FeedError>(())
//! ```
//!
//! # Ids, scores and order
//! A storage UUID becomes a feed id with the same 128 bits ([`From`] both ways). A post's
//! [`Score`] is its creation time: the millisecond, with the microsecond within it as the
//! sequence ([`score_at`]). keel-storage lists an author's posts by creation time (in
//! microseconds) then id; the feed orders by score then id: the same order, so a feed position
//! maps exactly onto a storage keyset position and the pull path pages through storage without
//! skipping or repeating a post.
//!
//! # Follow lists
//! keel-storage lists follows most recent first; [`StorageGraph`] hands out its keyset
//! positions as [`GraphCursor`]s, so walks resume exactly. Pages are at most
//! [`MAX_PAGE_SIZE`] (200) users, whatever the engine's
//! chunk size.
//!
//! # Limits
//! - Posts created before 2020-01-01 (or after 2298) have no [`Score`]: they are not in feeds
//!   (the pull path stops at the first one, since older posts follow).
//! - keel-storage has no batch membership query, so [`FollowGraph::not_following`] asks
//!   [`FollowRepo::is_following`] per candidate, or walks the author's follower list when that
//!   takes fewer queries; [`FollowGraph::removal_version`] is not available (the engine always
//!   re-checks a fan-out chunk).
//! - [`PostSource::recent_posts_many`] asks once per author (keel-storage has no multi-author
//!   query).

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use foldhash::fast::RandomState;
use keel_pagination::SortValue;
use keel_pagination::keyset::{Direction, Position as KeysetPosition, Seek};
use keel_storage::page::MAX_PAGE_SIZE;
use keel_storage::{FollowRepo, PostRepo, StorageError, Timestamp};

use crate::error::{FeedError, Result};
use crate::graph::{FollowGraph, FollowPage, GraphCursor};
use crate::model::{Position, Post, PostId, UserId, Visibility};
use crate::score::Score;
use crate::source::PostSource;

impl From<keel_storage::UserId> for UserId {
    fn from(id: keel_storage::UserId) -> Self {
        Self(id.0.as_u128())
    }
}

impl From<UserId> for keel_storage::UserId {
    fn from(id: UserId) -> Self {
        Self(id.as_uuid())
    }
}

impl From<keel_storage::PostId> for PostId {
    fn from(id: keel_storage::PostId) -> Self {
        Self(id.0.as_u128())
    }
}

impl From<PostId> for keel_storage::PostId {
    fn from(id: PostId) -> Self {
        Self(id.as_uuid())
    }
}

impl From<keel_storage::Visibility> for Visibility {
    fn from(v: keel_storage::Visibility) -> Self {
        match v {
            keel_storage::Visibility::Public => Visibility::Public,
            keel_storage::Visibility::Followers => Visibility::FollowersOnly,
            keel_storage::Visibility::Private => Visibility::Private,
        }
    }
}

/// Microseconds in a millisecond: the sequences a storage post's score uses (below 1,024).
const MICROS_PER_MS: i64 = 1_000;

/// The score of a post created at `t`: the millisecond, with the microsecond within it as the
/// sequence, so scores order exactly as keel-storage's creation times.
///
/// # Errors
/// [`FeedError::ScoreOutOfRange`] for a time before 2020-01-01 or after 2298.
pub fn score_at(t: Timestamp) -> Result<Score> {
    let micros = u64::try_from(t.as_micros()).map_err(|_| FeedError::ScoreOutOfRange {
        what: "time before 1970",
    })?;
    let per_ms = MICROS_PER_MS.unsigned_abs();
    Score::from_parts(micros / per_ms, micros % per_ms)
}

/// The keel-storage position of the posts strictly older than `p` in
/// [`List::PostsByAuthor`](keel_storage::List::PostsByAuthor) order (`created_at` desc, `id`
/// desc).
fn storage_position(p: Position) -> KeysetPosition {
    let ms = i64::try_from(p.score.unix_ms()).unwrap_or(i64::MAX / MICROS_PER_MS);
    let seq = p.score.sequence();
    let (micros_in_ms, id) = if seq < MICROS_PER_MS.unsigned_abs() {
        // Exact: this is the creation time of a storage post at this position.
        (seq.cast_signed(), p.post.as_uuid())
    } else {
        // No storage post has this sequence (1,000 to `MAX_SEQUENCE`): it sorts after every
        // post of the millisecond.
        (MICROS_PER_MS - 1, uuid::Uuid::max())
    };
    let at = ms
        .saturating_mul(MICROS_PER_MS)
        .saturating_add(micros_in_ms);
    KeysetPosition::after(vec![SortValue::I64(at), SortValue::Uuid(id)])
}

impl TryFrom<&keel_storage::Post> for Post {
    type Error = FeedError;

    /// The feed's view of a stored post: same ids, [`score_at`] its creation time, its
    /// visibility.
    fn try_from(p: &keel_storage::Post) -> Result<Self> {
        Ok(Post {
            id: p.id.into(),
            author: p.author.into(),
            score: score_at(p.created_at)?,
            visibility: p.visibility.into(),
        })
    }
}

fn graph_err(e: &StorageError) -> FeedError {
    FeedError::Graph(e.to_string())
}

fn source_err(e: &StorageError) -> FeedError {
    FeedError::Source(e.to_string())
}

/// A missing row (a deleted user or post) reads as empty.
fn or_missing<T>(
    r: std::result::Result<T, StorageError>,
) -> std::result::Result<Option<T>, StorageError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StorageError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn seek(after: Option<&GraphCursor>, limit: usize) -> Seek {
    Seek {
        direction: Direction::Forward,
        position: after.map_or_else(KeysetPosition::edge, |c| c.position().clone()),
        limit: limit.clamp(1, MAX_PAGE_SIZE),
    }
}

/// The follow graph of a keel-storage backend (feature `storage`).
#[derive(Clone)]
pub struct StorageGraph {
    follows: Arc<dyn FollowRepo>,
}

impl std::fmt::Debug for StorageGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageGraph").finish_non_exhaustive()
    }
}

impl StorageGraph {
    /// The graph of `follows` (any keel-storage backend: pass an `Arc<dyn Store>`).
    pub fn new(follows: Arc<dyn FollowRepo>) -> Self {
        Self { follows }
    }

    async fn list(
        &self,
        user: UserId,
        after: Option<&GraphCursor>,
        limit: usize,
        followers: bool,
    ) -> Result<FollowPage> {
        let seek = seek(after, limit);
        let window = if followers {
            self.follows.followers(user.into(), &seek).await
        } else {
            self.follows.following(user.into(), &seek).await
        };
        let Some(w) = or_missing(window).map_err(|e| graph_err(&e))? else {
            return Ok(FollowPage::default());
        };
        let users = w
            .items
            .iter()
            .map(|f| UserId::from(if followers { f.follower } else { f.followee }))
            .collect();
        Ok(FollowPage {
            users,
            next: w.has_next.then(|| GraphCursor::new(w.next)),
        })
    }
}

#[async_trait]
impl FollowGraph for StorageGraph {
    async fn followers(
        &self,
        author: UserId,
        after: Option<&GraphCursor>,
        limit: usize,
    ) -> Result<FollowPage> {
        self.list(author, after, limit, true).await
    }

    async fn followees(
        &self,
        user: UserId,
        after: Option<&GraphCursor>,
        limit: usize,
    ) -> Result<FollowPage> {
        self.list(user, after, limit, false).await
    }

    async fn follower_count(&self, author: UserId) -> Result<u64> {
        let counts = or_missing(self.follows.follow_counts(author.into()).await)
            .map_err(|e| graph_err(&e))?;
        Ok(counts.map_or(0, |c| c.followers))
    }

    async fn is_following(&self, follower: UserId, author: UserId) -> Result<bool> {
        let r = self
            .follows
            .is_following(follower.into(), author.into())
            .await;
        Ok(or_missing(r).map_err(|e| graph_err(&e))?.unwrap_or(false))
    }

    async fn not_following(&self, author: UserId, candidates: &[UserId]) -> Result<Vec<UserId>> {
        // One query per candidate, or one per page of the author's followers: whichever is
        // fewer.
        let pages = self
            .follower_count(author)
            .await?
            .div_ceil(MAX_PAGE_SIZE as u64);
        if usize::try_from(pages).unwrap_or(usize::MAX) >= candidates.len() {
            let mut gone = Vec::new();
            for &c in candidates {
                if !self.is_following(c, author).await? {
                    gone.push(c);
                }
            }
            return Ok(gone);
        }
        let mut followers: HashSet<UserId, RandomState> = HashSet::default();
        let mut after: Option<GraphCursor> = None;
        loop {
            let page = self
                .followers(author, after.as_ref(), MAX_PAGE_SIZE)
                .await?;
            followers.extend(page.users);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        Ok(candidates
            .iter()
            .filter(|c| !followers.contains(c))
            .copied()
            .collect())
    }
}

/// The posts of a keel-storage backend (feature `storage`). Deleted posts are gone from
/// storage, so the pull path never returns them.
#[derive(Clone)]
pub struct StoragePosts {
    posts: Arc<dyn PostRepo>,
}

impl std::fmt::Debug for StoragePosts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoragePosts").finish_non_exhaustive()
    }
}

impl StoragePosts {
    /// The posts of `posts` (any keel-storage backend: pass an `Arc<dyn Store>`).
    pub fn new(posts: Arc<dyn PostRepo>) -> Self {
        Self { posts }
    }
}

#[async_trait]
impl PostSource for StoragePosts {
    async fn recent_posts(
        &self,
        author: UserId,
        before: Option<Position>,
        limit: usize,
    ) -> Result<Vec<Post>> {
        let mut out = Vec::with_capacity(limit.min(MAX_PAGE_SIZE));
        let mut position = before.map_or_else(KeysetPosition::edge, storage_position);
        while out.len() < limit {
            let want = (limit - out.len()).min(MAX_PAGE_SIZE);
            let seek = Seek {
                direction: Direction::Forward,
                position,
                limit: want,
            };
            let window = self.posts.posts_by_author(author.into(), &seek).await;
            let Some(w) = or_missing(window).map_err(|e| source_err(&e))? else {
                break;
            };
            for p in &w.items {
                match Post::try_from(p) {
                    Ok(post) => out.push(post),
                    // Before 2020: this post and every older one have no score.
                    Err(_) => return Ok(out),
                }
            }
            if !w.has_next || w.items.is_empty() {
                break;
            }
            position = w.next;
        }
        Ok(out)
    }

    async fn post(&self, id: PostId) -> Result<Option<Post>> {
        let post = or_missing(self.posts.post(id.into()).await).map_err(|e| source_err(&e))?;
        Ok(post.and_then(|p| Post::try_from(&p).ok()))
    }
}
