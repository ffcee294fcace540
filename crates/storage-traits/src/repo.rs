//! The repository traits, one per aggregate, and [`Store`], all of them together.
//!
//! Each trait is async (`async-trait`) and object safe: hold a backend as `Arc<dyn Store>` and
//! hand out `Arc<dyn PostRepo>` (trait upcasting) to code that needs only posts. Every method
//! validates its input the same way in every backend (see [`crate::validate`]) and returns
//! [`StorageError`](crate::StorageError) variants that tests assert on.
//!
//! Lists take a `keel-pagination` [`Seek`] and return a [`Window`] (see [`crate::page`] for
//! each list's sort); a `seek.limit` above [`MAX_PAGE_SIZE`](crate::page::MAX_PAGE_SIZE) is
//! invalid input.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::Result;
use crate::event::OutboxRecord;
use crate::id::{CommentId, PostId, UserId};
use crate::model::{
    ApiKey, Comment, Follow, FollowCounts, LikeOutcome, NewComment, NewPost, NewUser, Notification,
    Post, PostPatch, PostQuery, TokenHash, User, UserPatch,
};
use crate::page::{Seek, Window};

/// Users: sign-up, lookups, partial updates, deletion, prefix search.
#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Creates a user. `Conflict` on a taken username or email (case-insensitive).
    async fn create_user(&self, new: NewUser) -> Result<User>;
    /// The user with this id, or `NotFound`.
    async fn user(&self, id: UserId) -> Result<User>;
    /// The user with this username (case-insensitive), or `NotFound`.
    async fn user_by_username(&self, username: &str) -> Result<User>;
    /// The user with this email (case-insensitive), or `NotFound`.
    async fn user_by_email(&self, email: &str) -> Result<User>;
    /// Applies a partial update and returns the new user. An empty patch returns the user
    /// unchanged and writes nothing.
    async fn update_user(&self, id: UserId, patch: UserPatch) -> Result<User>;
    /// Deletes a user with their posts, follows, likes and comments, fixing the counters of
    /// other users' posts they liked or commented on.
    async fn delete_user(&self, id: UserId) -> Result<()>;
    /// Users whose username starts with `prefix` (case-insensitive), by username.
    async fn users_by_prefix(&self, prefix: &str, seek: &Seek) -> Result<Window<User>>;
}

/// Posts: create, read, edit, delete, list by author, fetch many.
#[async_trait]
pub trait PostRepo: Send + Sync {
    /// Creates a post (the author must exist); parses its hashtags and mentions.
    async fn create_post(&self, new: NewPost) -> Result<Post>;
    /// The post with this id, or `NotFound`.
    async fn post(&self, id: PostId) -> Result<Post>;
    /// Applies a partial update and returns the new post.
    async fn update_post(&self, id: PostId, patch: PostPatch) -> Result<Post>;
    /// Deletes a post with its likes and comments.
    async fn delete_post(&self, id: PostId) -> Result<()>;
    /// An author's posts, newest first (keyset on creation time and id).
    async fn posts_by_author(&self, author: UserId, seek: &Seek) -> Result<Window<Post>>;
    /// Posts matching `query` (optional author, time bounds) that its viewer may see, in its
    /// order ([`PostQuery::list`] gives the list and sort for cursors). Keyset over
    /// `(created_at, id)`: served by `posts_time_idx` (every author) or `posts_author_time_idx`
    /// (one author) in PostgreSQL. A `query.author` that does not exist lists nothing.
    async fn list_posts(&self, query: &PostQuery, seek: &Seek) -> Result<Window<Post>>;
    /// The posts with these ids, in the order asked; missing ids are skipped, duplicates kept
    /// once. At most 1,000 ids.
    async fn posts_by_ids(&self, ids: &[PostId]) -> Result<Vec<Post>>;
}

/// The follow graph.
#[async_trait]
pub trait FollowRepo: Send + Sync {
    /// `follower` follows `followee`. Idempotent: `Ok(false)` when already following.
    /// Self-follow is invalid input; a missing user is `NotFound`.
    async fn follow(&self, follower: UserId, followee: UserId) -> Result<bool>;
    /// `follower` unfollows `followee`. Idempotent: `Ok(false)` when not following.
    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<bool>;
    /// Who follows `user`, most recent first.
    async fn followers(&self, user: UserId, seek: &Seek) -> Result<Window<Follow>>;
    /// Whom `user` follows, most recent first.
    async fn following(&self, user: UserId, seek: &Seek) -> Result<Window<Follow>>;
    /// How many follow `user` and how many `user` follows.
    async fn follow_counts(&self, user: UserId) -> Result<FollowCounts>;
    /// Whether `follower` follows `followee`.
    async fn is_following(&self, follower: UserId, followee: UserId) -> Result<bool>;
}

/// Likes, with the post's like count updated in the same transaction.
#[async_trait]
pub trait LikeRepo: Send + Sync {
    /// `user` likes `post`. Idempotent. `NotFound` when the user or post does not exist.
    async fn like(&self, user: UserId, post: PostId) -> Result<LikeOutcome>;
    /// `user` takes back a like. Idempotent. `NotFound` when the post does not exist.
    async fn unlike(&self, user: UserId, post: PostId) -> Result<LikeOutcome>;
    /// Whether `user` likes `post`.
    async fn has_liked(&self, user: UserId, post: PostId) -> Result<bool>;
    /// The number of like rows of `post` (counted, not the denormalized counter): for
    /// reconciliation and tests.
    async fn count_like_rows(&self, post: PostId) -> Result<u64>;
}

/// Comments, threaded by an optional parent.
#[async_trait]
pub trait CommentRepo: Send + Sync {
    /// Adds a comment (post, author and parent must exist; the parent on the same post) and
    /// increments the post's comment count.
    async fn add_comment(&self, new: NewComment) -> Result<Comment>;
    /// The comment with this id, or `NotFound`.
    async fn comment(&self, id: CommentId) -> Result<Comment>;
    /// The comments of `post` directly under `parent` (`None`: top level), oldest first.
    async fn comments(
        &self,
        post: PostId,
        parent: Option<CommentId>,
        seek: &Seek,
    ) -> Result<Window<Comment>>;
    /// Deletes a comment and its whole reply thread; returns how many comments were removed.
    async fn delete_comment(&self, id: CommentId) -> Result<u64>;
}

/// The transactional outbox, read by a relay.
///
/// Claiming leases records: a claimed record is invisible to other claims until its lease
/// expires (by the backend's clock) or it is marked published. Relays may run concurrently; each
/// gets disjoint batches.
#[async_trait]
pub trait OutboxRepo: Send + Sync {
    /// Claims up to `limit` unpublished, unleased records in `seq` order, leasing them for
    /// `lease`, skipping any record whose aggregate has an earlier record under a live lease
    /// (see [`crate::event`]). PostgreSQL uses `FOR UPDATE SKIP LOCKED`.
    async fn claim_outbox(&self, limit: u32, lease: Duration) -> Result<Vec<OutboxRecord>>;
    /// Marks one record published. Idempotent: `Ok(false)` when it already was;
    /// `NotFound` when no record has that `seq`.
    async fn mark_published(&self, seq: i64) -> Result<bool>;
    /// Marks several records published in one call (a relay marks a whole published wave at
    /// once: one statement, one commit, instead of one per record); returns how many were
    /// unpublished before. Unknown and already published `seq`s are skipped. The default
    /// marks one after another; PostgreSQL backends override it.
    async fn mark_published_many(&self, seqs: &[i64]) -> Result<u64> {
        let mut marked = 0;
        for &seq in seqs {
            match self.mark_published(seq).await {
                Ok(true) => marked += 1,
                Ok(false) | Err(crate::error::StorageError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(marked)
    }
    /// Gives claimed records back at once (a publish failed; they are claimable again now).
    /// Unknown or already published `seq`s are ignored.
    async fn release_outbox(&self, seqs: &[i64]) -> Result<()>;
    /// How many records are not yet published.
    async fn pending_outbox(&self) -> Result<u64>;
}

/// One ranked search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit<T> {
    /// The match.
    pub item: T,
    /// Relevance (higher is better); comparable within one result list only. Also the first
    /// sort value of the hit's position.
    pub score: f64,
}

/// When a backend updates its full-text index.
///
/// Whatever the mode, a search reads the rows it returns, so a deleted post or user never
/// appears and a post made private stops matching at once; the mode decides when new or edited
/// *text* becomes searchable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SearchIndexing {
    /// Every write updates the index in its own transaction: a post is searchable as soon as
    /// `create_post` returns. The default.
    #[default]
    Inline,
    /// Writes leave the index as it was; a consumer of the outbox events (the design's search
    /// indexer) calls [`SearchRepo::reindex_post`] and [`SearchRepo::reindex_user`]. Writes do
    /// not pay for tokenising and index maintenance, and new or edited text becomes searchable
    /// when the consumer catches up (eventual consistency, as in the high-level design).
    Deferred,
}

/// Full-text search over public posts (content and hashtags) and users (username and display
/// name). A query's terms are ORed; results are ranked by relevance, ties newest first, capped at
/// the [`MAX_SEARCH_HITS`](crate::page::MAX_SEARCH_HITS) best, and paginated by keyset over
/// `(score, id)` ([`List::SearchPosts`](crate::page::List::SearchPosts)).
///
/// The index is maintained by the writes themselves ([`SearchIndexing::Inline`], the default)
/// or by an event consumer calling the `reindex_*` methods ([`SearchIndexing::Deferred`]).
#[async_trait]
pub trait SearchRepo: Send + Sync {
    /// Public posts matching `query`, best first.
    async fn search_posts(&self, query: &str, seek: &Seek) -> Result<Window<SearchHit<Post>>>;
    /// Users matching `query`, best first.
    async fn search_users(&self, query: &str, seek: &Seek) -> Result<Window<SearchHit<User>>>;
    /// Brings `post`'s index entry up to date with its stored row: indexes its current text, or
    /// drops the entry when the post no longer exists (`Ok` either way). It reads the row, not
    /// an event, so it is idempotent and independent of event order: an at-least-once consumer
    /// calls it for every `PostCreated`, `PostUpdated` and `PostDeleted`, duplicates and
    /// reorderings included. Needed under [`SearchIndexing::Deferred`]; harmless under `Inline`.
    async fn reindex_post(&self, post: PostId) -> Result<()>;
    /// Brings `user`'s index entry up to date with its stored row, as
    /// [`reindex_post`](Self::reindex_post) does (for `UserCreated`, `UserUpdated` and
    /// `UserDeleted`).
    async fn reindex_user(&self, user: UserId) -> Result<()>;
}

/// Users' credentials: refresh tokens (revocable, single use) and API keys, each stored only as
/// the [`TokenHash`] of its secret. Deleting a user deletes their credentials. Credentials
/// write no outbox event (they are not part of the social model's history).
///
/// Expiry is judged by the backend's clock: a refresh token is valid while `now < expires_at`.
#[async_trait]
pub trait CredentialRepo: Send + Sync {
    /// Stores a refresh token of `user`, valid until `expires_at`. `NotFound` when the user
    /// does not exist; `Conflict` (field `token`) when the hash is already stored.
    async fn issue_refresh_token(
        &self,
        token: &TokenHash,
        user: UserId,
        expires_at: Timestamp,
    ) -> Result<()>;
    /// Consumes a refresh token: deletes it and returns its user if it was stored and not
    /// expired. Single use: of concurrent calls with one token, at most one gets the user.
    async fn take_refresh_token(&self, token: &TokenHash) -> Result<Option<UserId>>;
    /// Deletes a refresh token; whether it was stored.
    async fn revoke_refresh_token(&self, token: &TokenHash) -> Result<bool>;
    /// Deletes every expired refresh token (run it from a periodic job); returns how many.
    async fn purge_expired_refresh_tokens(&self) -> Result<u64>;
    /// Stores an API key of `user` labelled `name` (1 to 64 characters). `NotFound` when the
    /// user does not exist; `Conflict` (field `token`) when the hash is already stored.
    async fn create_api_key(&self, key: &TokenHash, user: UserId, name: &str) -> Result<ApiKey>;
    /// The API key with this hash, if stored.
    async fn api_key(&self, key: &TokenHash) -> Result<Option<ApiKey>>;
    /// Deletes `user`'s API key `id`; whether it existed (another user's key is not touched).
    async fn revoke_api_key(&self, user: UserId, id: uuid::Uuid) -> Result<bool>;
    /// `user`'s API keys, newest first ([`List::ApiKeys`](crate::page::List::ApiKeys)), so an
    /// owner can find the id of the key to revoke. Never the key itself (only its hash is kept).
    async fn api_keys(&self, user: UserId, seek: &Seek) -> Result<Window<ApiKey>>;
}

/// Most notifications kept per recipient; adding one more drops the oldest.
pub const MAX_NOTIFICATIONS_PER_USER: usize = 500;

/// Notifications, written by an event consumer and read by their recipient. Deleting a user
/// deletes the notifications addressed to them. No outbox event is written.
#[async_trait]
pub trait NotificationRepo: Send + Sync {
    /// Stores `n` for `n.recipient`, keeping only their newest
    /// [`MAX_NOTIFICATIONS_PER_USER`]. Idempotent by `n.id` (`Ok(false)` when already
    /// stored), and `Ok(false)` without writing when the actor is the recipient (nobody is
    /// told of their own action). `NotFound` when the recipient does not exist.
    async fn add_notification(&self, n: Notification) -> Result<bool>;
    /// `user`'s notifications, newest first ([`List::Notifications`](crate::page::List::Notifications)).
    async fn notifications(&self, user: UserId, seek: &Seek) -> Result<Window<Notification>>;
}

/// Every repository of one backend. Implemented for any type that implements them all.
pub trait Store:
    UserRepo
    + PostRepo
    + FollowRepo
    + LikeRepo
    + CommentRepo
    + OutboxRepo
    + SearchRepo
    + CredentialRepo
    + NotificationRepo
{
}

impl<T> Store for T where
    T: UserRepo
        + PostRepo
        + FollowRepo
        + LikeRepo
        + CommentRepo
        + OutboxRepo
        + SearchRepo
        + CredentialRepo
        + NotificationRepo
{
}
