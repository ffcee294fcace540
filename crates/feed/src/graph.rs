//! The follow graph the engine reads through, and a small in-memory implementation.

use std::collections::{BTreeSet, HashMap};

use foldhash::fast::RandomState;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use keel_pagination::SortValue;
use keel_pagination::keyset::Position as KeysetPosition;
use parking_lot::RwLock;

use crate::error::{FeedError, Result};
use crate::model::UserId;

/// Where a follower or followee list resumes: made by the graph with one page, passed back
/// unchanged for the next. The engine never looks inside.
///
/// It holds a keel-pagination keyset position, so any keyset-paginated backend can resume
/// exactly where it stopped (keel-storage pages follows by recency); [`GraphCursor::after_user`]
/// is the simple form for graphs ordered by user id, as [`MemoryGraph`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GraphCursor(KeysetPosition);

impl GraphCursor {
    /// A cursor resuming after `position` in the graph's own order.
    pub fn new(position: KeysetPosition) -> Self {
        Self(position)
    }

    /// The keyset position inside.
    pub fn position(&self) -> &KeysetPosition {
        &self.0
    }

    /// A cursor resuming strictly after `user`, for lists ordered by user id.
    pub fn after_user(user: UserId) -> Self {
        Self(KeysetPosition::after(vec![SortValue::Uuid(user.as_uuid())]))
    }

    /// The user of a cursor made by [`after_user`](Self::after_user); `None` for any other.
    pub fn user(&self) -> Option<UserId> {
        match self.0.values() {
            [SortValue::Uuid(u)] if !self.0.is_inclusive() => Some(UserId::from(*u)),
            _ => None,
        }
    }
}

/// One page of a follower or followee list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FollowPage {
    /// The users, in the graph's order.
    pub users: Vec<UserId>,
    /// Where the next page starts; `None` when this page ends the list.
    pub next: Option<GraphCursor>,
}

/// Who follows whom. The caller owns the graph: it records a follow, then tells the engine
/// ([`FeedEngine::follow`](crate::FeedEngine::follow)).
///
/// Lists are paginated in the graph's own order (by user id in [`MemoryGraph`], most recent
/// follow first over keel-storage): each call returns at most `limit` users after the cursor
/// (a backend may return fewer, for example when its pages are smaller) and the cursor of the
/// next page, `None` at the end. A walk over an unchanged graph sees every user once.
#[async_trait]
pub trait FollowGraph: Send + Sync + std::fmt::Debug {
    /// Followers of `author` after `after` (from the start when `None`), at most `limit`.
    async fn followers(
        &self,
        author: UserId,
        after: Option<&GraphCursor>,
        limit: usize,
    ) -> Result<FollowPage>;

    /// Users `user` follows after `after` (from the start when `None`), at most `limit`.
    async fn followees(
        &self,
        user: UserId,
        after: Option<&GraphCursor>,
        limit: usize,
    ) -> Result<FollowPage>;

    /// How many followers `author` has.
    async fn follower_count(&self, author: UserId) -> Result<u64>;

    /// Whether `follower` follows `author`.
    async fn is_following(&self, follower: UserId, author: UserId) -> Result<bool>;

    /// A number that changes whenever a follow is removed, if the backend can provide one
    /// cheaply (default: `None`).
    ///
    /// When the version read before a fan-out chunk equals the one read after writing it, no
    /// unfollow can have raced the chunk and the engine skips
    /// [`not_following`](Self::not_following). It must be read with sequentially consistent
    /// ordering against the graph's own state.
    fn removal_version(&self) -> Option<u64> {
        None
    }

    /// The users among `candidates` that do not follow `author` (any more).
    ///
    /// The engine calls this after delivering a chunk, to undo deliveries that raced an
    /// unfollow. The default asks [`is_following`](Self::is_following) once per candidate;
    /// backends should answer in one query.
    async fn not_following(&self, author: UserId, candidates: &[UserId]) -> Result<Vec<UserId>> {
        let mut gone = Vec::new();
        for &c in candidates {
            if !self.is_following(c, author).await? {
                gone.push(c);
            }
        }
        Ok(gone)
    }
}

#[derive(Debug, Default)]
struct Edges {
    followers: HashMap<UserId, BTreeSet<UserId>, RandomState>,
    followees: HashMap<UserId, BTreeSet<UserId>, RandomState>,
}

/// A follow graph in memory, for tests, benches and small deployments.
#[derive(Debug, Default)]
pub struct MemoryGraph {
    edges: RwLock<Edges>,
    removals: AtomicU64,
}

fn page(
    set: Option<&BTreeSet<UserId>>,
    after: Option<&GraphCursor>,
    limit: usize,
) -> Result<FollowPage> {
    let Some(set) = set else {
        return Ok(FollowPage::default());
    };
    let lower = match after {
        None => Bound::Unbounded,
        Some(c) => Bound::Excluded(c.user().ok_or_else(|| {
            FeedError::Graph("a cursor not made by MemoryGraph was passed to it".to_owned())
        })?),
    };
    let mut it = set.range((lower, Bound::Unbounded));
    let users: Vec<UserId> = it.by_ref().take(limit).copied().collect();
    let next = match (users.last(), it.next()) {
        (Some(&last), Some(_)) => Some(GraphCursor::after_user(last)),
        _ => None,
    };
    Ok(FollowPage { users, next })
}

impl MemoryGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `follower` follows `author`. Returns `false` when it already did.
    pub fn add(&self, follower: UserId, author: UserId) -> bool {
        let mut e = self.edges.write();
        let added = e.followers.entry(author).or_default().insert(follower);
        e.followees.entry(follower).or_default().insert(author);
        added
    }

    /// Records that `follower` no longer follows `author`. Returns `false` when it did not.
    pub fn remove(&self, follower: UserId, author: UserId) -> bool {
        let mut e = self.edges.write();
        // Bumped under the write lock, before the edge goes: a reader that sees the old
        // version after its write also saw the edge.
        self.removals.fetch_add(1, Ordering::SeqCst);
        let removed = e
            .followers
            .get_mut(&author)
            .is_some_and(|s| s.remove(&follower));
        if let Some(s) = e.followees.get_mut(&follower) {
            s.remove(&author);
        }
        removed
    }

    /// Whether `follower` follows `author` (without going through the async trait).
    pub fn follows(&self, follower: UserId, author: UserId) -> bool {
        self.edges
            .read()
            .followers
            .get(&author)
            .is_some_and(|s| s.contains(&follower))
    }

    /// Adds `count` followers to `author` at once, with ids `first..first + count` (for benches).
    pub fn add_many(&self, author: UserId, first: u128, count: u64) {
        let mut e = self.edges.write();
        let end = first.saturating_add(u128::from(count));
        let set = e.followers.entry(author).or_default();
        set.extend((first..end).map(UserId));
        for f in first..end {
            e.followees.entry(UserId(f)).or_default().insert(author);
        }
    }
}

#[async_trait]
impl FollowGraph for MemoryGraph {
    async fn followers(
        &self,
        author: UserId,
        after: Option<&GraphCursor>,
        limit: usize,
    ) -> Result<FollowPage> {
        page(self.edges.read().followers.get(&author), after, limit)
    }

    async fn followees(
        &self,
        user: UserId,
        after: Option<&GraphCursor>,
        limit: usize,
    ) -> Result<FollowPage> {
        page(self.edges.read().followees.get(&user), after, limit)
    }

    async fn follower_count(&self, author: UserId) -> Result<u64> {
        Ok(self
            .edges
            .read()
            .followers
            .get(&author)
            .map_or(0, |s| s.len() as u64))
    }

    async fn is_following(&self, follower: UserId, author: UserId) -> Result<bool> {
        Ok(self
            .edges
            .read()
            .followers
            .get(&author)
            .is_some_and(|s| s.contains(&follower)))
    }

    fn removal_version(&self) -> Option<u64> {
        Some(self.removals.load(Ordering::SeqCst))
    }

    async fn not_following(&self, author: UserId, candidates: &[UserId]) -> Result<Vec<UserId>> {
        let e = self.edges.read();
        let set = e.followers.get(&author);
        Ok(candidates
            .iter()
            .filter(|c| !set.is_some_and(|s| s.contains(c)))
            .copied()
            .collect())
    }
}
