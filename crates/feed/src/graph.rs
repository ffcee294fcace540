//! The follow graph the engine reads through, and a small in-memory implementation.

use std::collections::{BTreeSet, HashMap};

use foldhash::fast::RandomState;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use parking_lot::RwLock;

use crate::error::Result;
use crate::model::UserId;

/// Who follows whom. The caller owns the graph: it records a follow, then tells the engine
/// ([`FeedEngine::follow`](crate::FeedEngine::follow)).
///
/// Lists are paginated by user id: each call returns up to `limit` ids in ascending order,
/// strictly after `after`; the caller continues from the last id until a short page.
#[async_trait]
pub trait FollowGraph: Send + Sync + std::fmt::Debug {
    /// Followers of `author`, ascending, strictly after `after`, at most `limit`.
    async fn followers(
        &self,
        author: UserId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>>;

    /// Users `user` follows, ascending, strictly after `after`, at most `limit`.
    async fn followees(
        &self,
        user: UserId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>>;

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

fn page(set: Option<&BTreeSet<UserId>>, after: Option<UserId>, limit: usize) -> Vec<UserId> {
    let Some(set) = set else { return Vec::new() };
    let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
    set.range((lower, Bound::Unbounded))
        .take(limit)
        .copied()
        .collect()
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
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>> {
        Ok(page(self.edges.read().followers.get(&author), after, limit))
    }

    async fn followees(
        &self,
        user: UserId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>> {
        Ok(page(self.edges.read().followees.get(&user), after, limit))
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
