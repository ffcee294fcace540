//! The in-memory backend: [`MemoryStore`], concurrent, the embedded default of the server.
//!
//! All state sits behind one `parking_lot::RwLock`. Each operation validates its input, then
//! takes the lock once and applies every change (rows, counters, indexes, the outbox event)
//! before releasing it, so an operation is a transaction: readers never see half of it, and
//! 1,000 concurrent likes leave every count exact. A synchronous lock is right here: no `.await`
//! happens while it is held and the critical sections are short map updates.

mod credentials;
mod index;
mod notifications;
mod outbox;
mod posts;
mod social;
mod state;
mod users;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::RwLock;

use crate::clock::{Clock, SystemClock, Timestamp};
use crate::error::Result;
use crate::event::OutboxRecord;
use crate::id::{CommentId, IdGenerator, PostId, UserId};
use crate::model::{
    Comment, Follow, FollowCounts, LikeOutcome, NewComment, NewPost, NewUser, Post, PostPatch,
    PostQuery, User, UserPatch,
};
use crate::page::{Seek, Window};
use crate::repo::{
    CommentRepo, FollowRepo, LikeRepo, OutboxRepo, PostRepo, SearchHit, SearchIndexing, SearchRepo,
    UserRepo,
};

use state::State;

/// The in-memory backend. Cheap to clone (clones share the data).
#[derive(Debug, Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    clock: Arc<dyn Clock>,
    ids: IdGenerator,
    state: RwLock<State>,
}

/// What a write needs besides the state: the time and fresh ids.
pub(crate) struct Tx<'a> {
    pub(crate) now: Timestamp,
    pub(crate) ids: &'a IdGenerator,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store on the system clock with random ids.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock), IdGenerator::random())
    }

    /// An empty store on the given clock and id generator (tests pass a
    /// [`ManualClock`](crate::ManualClock) and a seeded generator).
    pub fn with_clock(clock: Arc<dyn Clock>, ids: IdGenerator) -> Self {
        Self {
            inner: Arc::new(Inner {
                clock,
                ids,
                state: RwLock::new(State::default()),
            }),
        }
    }

    /// This store with its full-text index maintained as `mode` says (the default is
    /// [`SearchIndexing::Inline`]). Under `Deferred`, an event consumer calls
    /// [`SearchRepo::reindex_post`] and [`SearchRepo::reindex_user`].
    #[must_use]
    pub fn with_search_indexing(self, mode: SearchIndexing) -> Self {
        self.inner.state.write().search = mode;
        self
    }

    fn write<T>(&self, f: impl FnOnce(&mut State, &Tx<'_>) -> Result<T>) -> Result<T> {
        let tx = Tx {
            now: self.inner.clock.now(),
            ids: &self.inner.ids,
        };
        let mut state = self.inner.state.write();
        f(&mut state, &tx)
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> Result<T>) -> Result<T> {
        f(&self.inner.state.read())
    }
}

#[async_trait]
impl UserRepo for MemoryStore {
    async fn create_user(&self, new: NewUser) -> Result<User> {
        crate::validate::new_user(&new)?;
        self.write(|s, tx| s.create_user(tx, new))
    }
    async fn user(&self, id: UserId) -> Result<User> {
        self.read(|s| s.user(id).cloned())
    }
    async fn user_by_username(&self, username: &str) -> Result<User> {
        self.read(|s| s.user_by_username(username).cloned())
    }
    async fn user_by_email(&self, email: &str) -> Result<User> {
        self.read(|s| s.user_by_email(email).cloned())
    }
    async fn update_user(&self, id: UserId, patch: UserPatch) -> Result<User> {
        crate::validate::user_patch(&patch)?;
        self.write(|s, tx| s.update_user(tx, id, patch))
    }
    async fn delete_user(&self, id: UserId) -> Result<()> {
        self.write(|s, tx| s.delete_user(tx, id))
    }
    async fn users_by_prefix(&self, prefix: &str, seek: &Seek) -> Result<Window<User>> {
        self.read(|s| s.users_by_prefix(prefix, seek))
    }
}

#[async_trait]
impl PostRepo for MemoryStore {
    async fn create_post(&self, new: NewPost) -> Result<Post> {
        crate::validate::new_post(&new)?;
        self.write(|s, tx| s.create_post(tx, new))
    }
    async fn post(&self, id: PostId) -> Result<Post> {
        self.read(|s| s.post(id).cloned())
    }
    async fn update_post(&self, id: PostId, patch: PostPatch) -> Result<Post> {
        crate::validate::post_patch(&patch)?;
        self.write(|s, tx| s.update_post(tx, id, patch))
    }
    async fn delete_post(&self, id: PostId) -> Result<()> {
        self.write(|s, tx| s.delete_post(tx, id))
    }
    async fn posts_by_author(&self, author: UserId, seek: &Seek) -> Result<Window<Post>> {
        self.read(|s| s.posts_by_author(author, seek))
    }
    async fn list_posts(&self, query: &PostQuery, seek: &Seek) -> Result<Window<Post>> {
        self.read(|s| s.list_posts(query, seek))
    }
    async fn posts_by_ids(&self, ids: &[PostId]) -> Result<Vec<Post>> {
        crate::validate::post_ids(ids)?;
        self.read(|s| Ok(s.posts_by_ids(ids)))
    }
}

#[async_trait]
impl FollowRepo for MemoryStore {
    async fn follow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        crate::validate::follow(follower, followee)?;
        self.write(|s, tx| s.follow(tx, follower, followee))
    }
    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        self.write(|s, tx| s.unfollow(tx, follower, followee))
    }
    async fn followers(&self, user: UserId, seek: &Seek) -> Result<Window<Follow>> {
        self.read(|s| s.followers(user, seek))
    }
    async fn following(&self, user: UserId, seek: &Seek) -> Result<Window<Follow>> {
        self.read(|s| s.following(user, seek))
    }
    async fn follow_counts(&self, user: UserId) -> Result<FollowCounts> {
        self.read(|s| s.follow_counts(user))
    }
    async fn is_following(&self, follower: UserId, followee: UserId) -> Result<bool> {
        self.read(|s| Ok(s.is_following(follower, followee)))
    }
}

#[async_trait]
impl LikeRepo for MemoryStore {
    async fn like(&self, user: UserId, post: PostId) -> Result<LikeOutcome> {
        self.write(|s, tx| s.like(tx, user, post))
    }
    async fn unlike(&self, user: UserId, post: PostId) -> Result<LikeOutcome> {
        self.write(|s, tx| s.unlike(tx, user, post))
    }
    async fn has_liked(&self, user: UserId, post: PostId) -> Result<bool> {
        self.read(|s| Ok(s.has_liked(user, post)))
    }
    async fn count_like_rows(&self, post: PostId) -> Result<u64> {
        self.read(|s| s.count_like_rows(post))
    }
}

#[async_trait]
impl CommentRepo for MemoryStore {
    async fn add_comment(&self, new: NewComment) -> Result<Comment> {
        crate::validate::new_comment(&new)?;
        self.write(|s, tx| s.add_comment(tx, new))
    }
    async fn comment(&self, id: CommentId) -> Result<Comment> {
        self.read(|s| s.comment(id).cloned())
    }
    async fn comments(
        &self,
        post: PostId,
        parent: Option<CommentId>,
        seek: &Seek,
    ) -> Result<Window<Comment>> {
        self.read(|s| s.comments(post, parent, seek))
    }
    async fn delete_comment(&self, id: CommentId) -> Result<u64> {
        self.write(|s, tx| s.delete_comment(tx, id))
    }
}

#[async_trait]
impl OutboxRepo for MemoryStore {
    async fn claim_outbox(&self, limit: u32, lease: Duration) -> Result<Vec<OutboxRecord>> {
        let limit = crate::validate::claim_limit(limit)?;
        self.write(|s, tx| Ok(s.claim_outbox(tx.now, limit, lease)))
    }
    async fn mark_published(&self, seq: i64) -> Result<bool> {
        self.write(|s, _| s.mark_published(seq))
    }
    async fn release_outbox(&self, seqs: &[i64]) -> Result<()> {
        self.write(|s, _| {
            s.release_outbox(seqs);
            Ok(())
        })
    }
    async fn pending_outbox(&self) -> Result<u64> {
        self.read(|s| Ok(s.pending_outbox()))
    }
}

#[async_trait]
impl SearchRepo for MemoryStore {
    async fn search_posts(&self, query: &str, seek: &Seek) -> Result<Window<SearchHit<Post>>> {
        self.read(|s| s.search_posts(query, seek))
    }
    async fn search_users(&self, query: &str, seek: &Seek) -> Result<Window<SearchHit<User>>> {
        self.read(|s| s.search_users(query, seek))
    }
    async fn reindex_post(&self, post: PostId) -> Result<()> {
        self.write(|s, _| {
            s.reindex_post(post);
            Ok(())
        })
    }
    async fn reindex_user(&self, user: UserId) -> Result<()> {
        self.write(|s, _| {
            s.reindex_user(user);
            Ok(())
        })
    }
}
