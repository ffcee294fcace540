//! The relations between users and posts: follows, likes and comments.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::id::{CommentId, PostId, UserId};

/// `follower` follows `followee` since `created_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Follow {
    /// Who follows.
    pub follower: UserId,
    /// Who is followed.
    pub followee: UserId,
    /// Since when.
    pub created_at: Timestamp,
}

/// A user's follow counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FollowCounts {
    /// Users following this user.
    pub followers: u64,
    /// Users this user follows.
    pub following: u64,
}

/// `user` likes `post` since `created_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Like {
    /// Who likes.
    pub user: UserId,
    /// The post liked.
    pub post: PostId,
    /// Since when.
    pub created_at: Timestamp,
}

/// The result of a like or unlike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LikeOutcome {
    /// Whether a row was added (like) or removed (unlike); `false` when it was already so.
    pub changed: bool,
    /// The post's like count after the operation.
    pub like_count: i64,
}

/// A stored comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Id (UUIDv7, sorts by creation).
    pub id: CommentId,
    /// The post commented on.
    pub post: PostId,
    /// The author.
    pub author: UserId,
    /// The comment this one replies to (same post), if any.
    pub parent: Option<CommentId>,
    /// Text (1 to 2,000 characters).
    pub content: String,
    /// Creation time.
    pub created_at: Timestamp,
}

/// What adding a comment provides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewComment {
    /// The post (must exist).
    pub post: PostId,
    /// The author (must exist).
    pub author: UserId,
    /// The comment replied to (must exist on the same post).
    pub parent: Option<CommentId>,
    /// Text (1 to 2,000 characters, not only whitespace).
    pub content: String,
}
