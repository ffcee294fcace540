//! Notifications (someone followed you, liked or commented on your post): written by the
//! notifications consumer into keel-storage ([`NotificationRepo`](keel_storage::NotificationRepo),
//! the newest 500 per user, shared by every instance on one database and kept across
//! restarts), read by `GET /notifications`. This module holds what the API answers.

use keel_storage::{CommentId, PostId, Timestamp, UserId};
use serde::Serialize;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// `actor` followed you.
    Followed,
    /// `actor` liked your post.
    Liked,
    /// `actor` commented on your post.
    Commented,
}

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Notification {
    /// Its id (time-ordered).
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    /// What happened.
    pub kind: NotificationKind,
    /// Who did it.
    #[schema(value_type = String, format = Uuid)]
    pub actor_id: UserId,
    /// The post it is about, if any.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub post_id: Option<PostId>,
    /// The comment, for `commented`.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub comment_id: Option<CommentId>,
    /// When (microseconds since the epoch).
    #[schema(value_type = i64)]
    pub created_at: Timestamp,
}

impl From<&keel_storage::Notification> for Notification {
    fn from(n: &keel_storage::Notification) -> Self {
        Self {
            id: n.id,
            kind: match n.kind {
                keel_storage::NotificationKind::Followed => NotificationKind::Followed,
                keel_storage::NotificationKind::Liked => NotificationKind::Liked,
                _ => NotificationKind::Commented,
            },
            actor_id: n.actor,
            post_id: n.post,
            comment_id: n.comment,
            created_at: n.created_at,
        }
    }
}
