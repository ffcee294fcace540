//! Domain events written to the outbox: [`Event`] and the stored [`OutboxRecord`].
//!
//! Every change a repository makes appends its event in the same transaction, so the database
//! and the events can never disagree: a relay (`keel-events`) claims unpublished records, publishes
//! them, and marks each published. A crash between publish and mark re-publishes the record
//! after its lease expires: delivery is at least once, and consumers deduplicate by
//! [`OutboxRecord::id`].
//!
//! Order is kept per aggregate ([`Event::aggregate_id`]): a record is claimable only when no
//! earlier unpublished record of the same aggregate is held by a live lease, so two relays never
//! publish one post's events out of order. The fields map one to one onto a `keel-events`
//! envelope: `id`, [`Event::family`], [`Event::kind`] (type), [`Event::VERSION`],
//! [`Event::aggregate_id`], `created_at` and the event's JSON as payload.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::id::{CommentId, PostId, UserId};
use crate::model::Visibility;

/// A change to the social model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum Event {
    /// A user signed up.
    UserCreated {
        /// The new user.
        user: UserId,
        /// Their username.
        username: String,
    },
    /// A user's profile changed.
    UserUpdated {
        /// The user.
        user: UserId,
    },
    /// A user was deleted, with their posts, follows, likes and comments.
    UserDeleted {
        /// The user.
        user: UserId,
    },
    /// A post was created.
    PostCreated {
        /// The post.
        post: PostId,
        /// Its author.
        author: UserId,
        /// Its visibility.
        visibility: Visibility,
        /// Its creation time (the post's `created_at`), so consumers order and rank it
        /// without reading the post back. Records written before this field existed read as
        /// [`Timestamp::EPOCH`]: treat that as unknown.
        #[serde(default)]
        created_at: Timestamp,
    },
    /// A post was edited.
    PostUpdated {
        /// The post.
        post: PostId,
        /// Its author.
        author: UserId,
    },
    /// A post was deleted.
    PostDeleted {
        /// The post.
        post: PostId,
        /// Its author.
        author: UserId,
    },
    /// `follower` started following `followee`.
    Followed {
        /// Who follows.
        follower: UserId,
        /// Who is followed.
        followee: UserId,
    },
    /// `follower` stopped following `followee`.
    Unfollowed {
        /// Who unfollowed.
        follower: UserId,
        /// Who was unfollowed.
        followee: UserId,
    },
    /// `user` liked `post`.
    Liked {
        /// Who liked.
        user: UserId,
        /// The post.
        post: PostId,
    },
    /// `user` took back a like.
    Unliked {
        /// Who unliked.
        user: UserId,
        /// The post.
        post: PostId,
    },
    /// A comment was added.
    CommentAdded {
        /// The comment.
        comment: CommentId,
        /// The post.
        post: PostId,
        /// Its author.
        author: UserId,
        /// The comment it replies to.
        parent: Option<CommentId>,
    },
    /// A comment (and its replies) was deleted.
    CommentDeleted {
        /// The comment.
        comment: CommentId,
        /// The post.
        post: PostId,
    },
}

impl Event {
    /// The event's type name, as stored and as published (`PostCreated`, `Liked`...); also the
    /// `type` tag of its JSON form.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::UserCreated { .. } => "UserCreated",
            Event::UserUpdated { .. } => "UserUpdated",
            Event::UserDeleted { .. } => "UserDeleted",
            Event::PostCreated { .. } => "PostCreated",
            Event::PostUpdated { .. } => "PostUpdated",
            Event::PostDeleted { .. } => "PostDeleted",
            Event::Followed { .. } => "Followed",
            Event::Unfollowed { .. } => "Unfollowed",
            Event::Liked { .. } => "Liked",
            Event::Unliked { .. } => "Unliked",
            Event::CommentAdded { .. } => "CommentAdded",
            Event::CommentDeleted { .. } => "CommentDeleted",
        }
    }
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRecord {
    /// Append order: strictly increasing in commit order within a backend.
    pub seq: i64,
    /// A unique id (UUIDv7), the idempotency key for consumers.
    pub id: Uuid,
    /// The event.
    pub event: Event,
    /// When the change happened.
    pub created_at: Timestamp,
    /// How many times the record has been claimed (1 on the first claim).
    pub attempts: u32,
}

impl Event {
    /// The payload schema version of every event here; bumped on an incompatible change.
    pub const VERSION: u32 = 1;

    /// The stream the event belongs on: `users`, `posts` (posts, likes, comments) or
    /// `follows`. Lowercase, as `keel-events` families are.
    pub fn family(&self) -> &'static str {
        match self {
            Event::UserCreated { .. } | Event::UserUpdated { .. } | Event::UserDeleted { .. } => {
                "users"
            }
            Event::Followed { .. } | Event::Unfollowed { .. } => "follows",
            Event::PostCreated { .. }
            | Event::PostUpdated { .. }
            | Event::PostDeleted { .. }
            | Event::Liked { .. }
            | Event::Unliked { .. }
            | Event::CommentAdded { .. }
            | Event::CommentDeleted { .. } => "posts",
        }
    }

    /// The aggregate whose events must stay in order: the user for user events, the follower
    /// for follow events, the post for post, like and comment events.
    pub fn aggregate_id(&self) -> String {
        match self {
            Event::UserCreated { user, .. }
            | Event::UserUpdated { user }
            | Event::UserDeleted { user } => user.to_string(),
            Event::Followed { follower, .. } | Event::Unfollowed { follower, .. } => {
                follower.to_string()
            }
            Event::PostCreated { post, .. }
            | Event::PostUpdated { post, .. }
            | Event::PostDeleted { post, .. }
            | Event::Liked { post, .. }
            | Event::Unliked { post, .. }
            | Event::CommentAdded { post, .. }
            | Event::CommentDeleted { post, .. } => post.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_created_carries_its_time_and_reads_old_records() {
        let e = Event::PostCreated {
            post: PostId(Uuid::nil()),
            author: UserId(Uuid::nil()),
            visibility: Visibility::Public,
            created_at: Timestamp::from_micros(42),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["created_at"], 42);
        let mut old = v;
        old.as_object_mut().unwrap().remove("created_at");
        match serde_json::from_value::<Event>(old).unwrap() {
            Event::PostCreated { created_at, .. } => assert_eq!(created_at, Timestamp::EPOCH),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn events_serialize_with_their_kind_as_tag() {
        let e = Event::Liked {
            user: UserId(Uuid::nil()),
            post: PostId(Uuid::nil()),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], e.kind());
        assert_eq!(v["type"], "Liked");
        assert_eq!(serde_json::from_value::<Event>(v).unwrap(), e);
        assert_eq!(e.family(), "posts");
        assert_eq!(e.aggregate_id(), Uuid::nil().to_string());
    }
}
