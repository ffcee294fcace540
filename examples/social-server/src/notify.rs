//! Notifications (someone followed you, liked or commented on your post), written by the
//! notifications consumer and read by `GET /notifications`. Kept in memory, newest
//! [`MAX_PER_USER`] per user.

use std::collections::VecDeque;

use dashmap::DashMap;
use keel_storage::{CommentId, PostId, Timestamp, UserId};
use serde::Serialize;

/// Notifications kept per user; older ones are dropped.
pub const MAX_PER_USER: usize = 500;

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

/// Every user's notifications.
#[derive(Debug, Default)]
pub struct Notifications {
    by_user: DashMap<UserId, VecDeque<Notification>>,
}

impl Notifications {
    /// Adds a notification for `recipient` (never for one's own action).
    pub fn push(&self, recipient: UserId, n: Notification) {
        if recipient == n.actor_id {
            return;
        }
        let mut list = self.by_user.entry(recipient).or_default();
        if list.iter().any(|x| x.id == n.id) {
            return;
        }
        list.push_front(n);
        list.truncate(MAX_PER_USER);
    }

    /// `user`'s notifications, newest first.
    pub fn of(&self, user: UserId) -> Vec<Notification> {
        self.by_user
            .get(&user)
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets `user`'s notifications (account deleted).
    pub fn remove_user(&self, user: UserId) {
        self.by_user.remove(&user);
    }
}
