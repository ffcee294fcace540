//! The social model: users, posts, follows, likes and comments, with their inputs and patches;
//! the users' credentials (refresh tokens, API keys) and notifications.

mod credential;
mod notification;
mod post;
mod social;
mod user;

pub use credential::{ApiKey, TokenHash};
pub use notification::{Notification, NotificationKind};
pub use post::{NewPost, Post, PostOrder, PostPatch, PostQuery, PostType, Visibility};
pub use social::{Comment, Follow, FollowCounts, Like, LikeOutcome, NewComment};
pub use user::{NewUser, User, UserPatch};

pub(crate) use post::{apply_post_patch, post_terms};
pub(crate) use user::{apply_user_patch, user_terms};
