//! The memory backend's tables and secondary indexes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use uuid::Uuid;

use super::Tx;
use super::index::InvertedIndex;
use crate::clock::Timestamp;
use crate::error::Result;
use crate::event::{Event, OutboxRecord};
use crate::id::{CommentId, PostId, UserId};
use crate::model::{ApiKey, Comment, Notification, Post, TokenHash, User};
use crate::page::{
    List, Ordered, RangeFn, Seek, SortValue, Window, anchor, check_seek, paginate_keys,
};
use crate::repo::SearchIndexing;

/// One outbox row and its delivery state.
#[derive(Debug)]
pub(super) struct OutboxEntry {
    pub(super) record: OutboxRecord,
    pub(super) leased_until: Option<Timestamp>,
}

/// Every table, each with the indexes its queries need (the same ones the PostgreSQL schema has).
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(super) users: HashMap<UserId, User>,
    /// Lowercased username -> id (ordered, for prefix search).
    pub(super) usernames: BTreeMap<String, UserId>,
    /// Lowercased email -> id.
    pub(super) emails: HashMap<String, UserId>,
    pub(super) posts: HashMap<PostId, Post>,
    /// (author, created_at, post): an author's posts in time order.
    pub(super) posts_by_author: BTreeSet<(UserId, Timestamp, PostId)>,
    /// (created_at, post): every post in time order.
    pub(super) posts_by_time: BTreeSet<(Timestamp, PostId)>,
    /// (follower, followee) -> since.
    pub(super) follows: HashMap<(UserId, UserId), Timestamp>,
    /// (followee, since, follower).
    pub(super) followers_idx: BTreeSet<(UserId, Timestamp, UserId)>,
    /// (follower, since, followee).
    pub(super) following_idx: BTreeSet<(UserId, Timestamp, UserId)>,
    /// (user, post) -> since.
    pub(super) likes: HashMap<(UserId, PostId), Timestamp>,
    /// (post, user).
    pub(super) likes_by_post: BTreeSet<(PostId, UserId)>,
    /// (user, post).
    pub(super) likes_by_user: BTreeSet<(UserId, PostId)>,
    pub(super) comments: HashMap<CommentId, Comment>,
    /// (post, parent, created_at, comment): a thread level in time order.
    pub(super) comment_idx: BTreeSet<(PostId, Option<CommentId>, Timestamp, CommentId)>,
    /// (author, comment).
    pub(super) comments_by_author: BTreeSet<(UserId, CommentId)>,
    /// Unpublished outbox records by `seq`.
    pub(super) outbox: BTreeMap<i64, OutboxEntry>,
    /// The next outbox `seq`.
    pub(super) next_seq: i64,
    /// Refresh token hash -> (user, expires at).
    pub(super) refresh_tokens: HashMap<TokenHash, (UserId, Timestamp)>,
    /// API key hash -> key.
    pub(super) api_keys: HashMap<TokenHash, ApiKey>,
    /// (user, created_at, key id) -> key hash: a user's keys in time order.
    pub(super) api_key_idx: BTreeMap<(UserId, Timestamp, Uuid), TokenHash>,
    /// Notifications by id.
    pub(super) notifications: HashMap<Uuid, Notification>,
    /// (recipient, created_at, notification): a user's notifications in time order.
    pub(super) notification_idx: BTreeSet<(UserId, Timestamp, Uuid)>,
    /// Full-text index of posts.
    pub(super) post_index: InvertedIndex<PostId>,
    /// Full-text index of users.
    pub(super) user_index: InvertedIndex<UserId>,
    /// Whether writes update the two full-text indexes.
    pub(super) search: SearchIndexing,
}

/// The smallest and largest UUIDs, for range bounds.
pub(super) const MIN_ID: Uuid = Uuid::nil();
pub(super) const MAX_ID: Uuid = Uuid::max();
/// The smallest and largest times, for range bounds.
pub(super) const MIN_TS: Timestamp = Timestamp::from_micros(i64::MIN);
pub(super) const MAX_TS: Timestamp = Timestamp::from_micros(i64::MAX);

impl State {
    /// Appends an event to the outbox (called inside the operation that caused it).
    pub(super) fn emit(&mut self, tx: &Tx<'_>, event: Event) {
        let seq = self.next_seq.max(1);
        self.next_seq = seq.saturating_add(1);
        let record = OutboxRecord {
            seq,
            id: tx.ids.next_at(tx.now),
            event,
            created_at: tx.now,
            attempts: 0,
        };
        self.outbox.insert(
            seq,
            OutboxEntry {
                record,
                leased_until: None,
            },
        );
    }

    /// Sets a post's counters to its like and comment rows.
    pub(super) fn recount(&mut self, post: PostId) {
        let likes = self
            .likes_by_post
            .range((post, UserId(MIN_ID))..=(post, UserId(MAX_ID)))
            .count();
        let comments = self
            .comment_idx
            .range(
                (post, None, MIN_TS, CommentId(MIN_ID))
                    ..=(post, Some(CommentId(MAX_ID)), MAX_TS, CommentId(MAX_ID)),
            )
            .count();
        if let Some(p) = self.posts.get_mut(&post) {
            p.like_count = i64::try_from(likes).unwrap_or(i64::MAX);
            p.comment_count = i64::try_from(comments).unwrap_or(i64::MAX);
        }
    }
}

/// A key of a per-user list in time order: (user, created_at, row id).
pub(super) type UserTimeKey = (UserId, Timestamp, Uuid);

/// One window of `user`'s rows in an index of [`UserTimeKey`]s, newest first
/// (`created_at` desc, id desc: notifications, API keys); `load` turns a key into its row.
pub(super) fn newest_first_of_user<'a, T>(
    range: &'a RangeFn<'a, UserTimeKey, &'a UserTimeKey>,
    user: UserId,
    list: List,
    seek: &Seek,
    load: impl Fn(&UserTimeKey) -> Option<T>,
) -> Result<Window<T>> {
    check_seek(seek)?;
    let anchor = anchor(seek, |v| match v {
        [SortValue::I64(at), SortValue::Uuid(id)] => Some((user, Timestamp::from_micros(*at), *id)),
        _ => None,
    })?;
    let index = Ordered {
        range,
        lo: (user, MIN_TS, MIN_ID),
        hi: (user, MAX_TS, MAX_ID),
        desc: true,
        key: |k: &&UserTimeKey| **k,
    };
    paginate_keys(
        &index.slice(seek, anchor.as_ref()),
        list,
        seek,
        |(_, at, id)| vec![SortValue::I64(at.as_micros()), SortValue::Uuid(*id)],
        |k| load(k),
    )
}
