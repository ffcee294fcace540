//! Notifications: someone followed you, liked or commented on your post.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::StorageError;
use crate::id::{CommentId, PostId, UserId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotificationKind {
    /// The actor followed the recipient.
    Followed,
    /// The actor liked the recipient's post.
    Liked,
    /// The actor commented on the recipient's post.
    Commented,
}

impl NotificationKind {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Followed => "followed",
            Self::Liked => "liked",
            Self::Commented => "commented",
        }
    }
}

impl fmt::Display for NotificationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NotificationKind {
    type Err = StorageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "followed" => Ok(Self::Followed),
            "liked" => Ok(Self::Liked),
            "commented" => Ok(Self::Commented),
            other => Err(StorageError::invalid(
                "kind",
                format!(
                    "unknown notification kind {other:?}; expected followed, liked or commented"
                ),
            )),
        }
    }
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Its id: the id of the event it came from (UUIDv7), so a redelivered event adds nothing.
    pub id: uuid::Uuid,
    /// Whom it is for.
    pub recipient: UserId,
    /// What happened.
    pub kind: NotificationKind,
    /// Who did it.
    pub actor: UserId,
    /// The post it is about (`liked`, `commented`).
    pub post: Option<PostId>,
    /// The comment (`commented`).
    pub comment: Option<CommentId>,
    /// When it happened.
    pub created_at: Timestamp,
}
