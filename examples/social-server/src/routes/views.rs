//! What the API answers: views of the storage model (never a password hash), with RFC 3339
//! times.

use keel_storage::{Comment, Post, User, Visibility};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::time;

/// A user's public profile (the email only for its owner).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// Id.
    pub id: uuid::Uuid,
    /// Unique username.
    pub username: String,
    /// Email: only shown to the user themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Display name.
    pub display_name: String,
    /// Bio.
    pub bio: Option<String>,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// Verified account.
    pub verified: bool,
    /// Followers.
    pub followers_count: u64,
    /// Followed.
    pub following_count: u64,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last updated (RFC 3339).
    pub updated_at: String,
}

impl UserView {
    /// The view of `u` with its counts; the email when `owner`.
    pub fn new(u: &User, counts: keel_storage::FollowCounts, owner: bool) -> Self {
        Self {
            id: u.id.0,
            username: u.username.clone(),
            email: owner.then(|| u.email.clone()),
            display_name: u.display_name.clone(),
            bio: u.bio.clone(),
            avatar_url: u.avatar_url.clone(),
            verified: u.verified,
            followers_count: counts.followers,
            following_count: counts.following,
            created_at: time::format(u.created_at),
            updated_at: time::format(u.updated_at),
        }
    }
}

/// Who may see a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisibilityDto {
    /// Everyone.
    Public,
    /// The author's followers.
    Followers,
    /// Only the author.
    Private,
}

impl From<VisibilityDto> for Visibility {
    fn from(v: VisibilityDto) -> Self {
        match v {
            VisibilityDto::Public => Visibility::Public,
            VisibilityDto::Followers => Visibility::Followers,
            VisibilityDto::Private => Visibility::Private,
        }
    }
}

impl From<Visibility> for VisibilityDto {
    fn from(v: Visibility) -> Self {
        match v {
            Visibility::Public => VisibilityDto::Public,
            Visibility::Followers => VisibilityDto::Followers,
            _ => VisibilityDto::Private,
        }
    }
}

/// The kind of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostTypeDto {
    /// Text.
    Text,
    /// Image(s) in `media`.
    Image,
    /// Video in `media`.
    Video,
}

impl From<PostTypeDto> for keel_storage::PostType {
    fn from(v: PostTypeDto) -> Self {
        match v {
            PostTypeDto::Text => Self::Text,
            PostTypeDto::Image => Self::Image,
            PostTypeDto::Video => Self::Video,
        }
    }
}

impl From<keel_storage::PostType> for PostTypeDto {
    fn from(v: keel_storage::PostType) -> Self {
        match v {
            keel_storage::PostType::Image => Self::Image,
            keel_storage::PostType::Video => Self::Video,
            _ => Self::Text,
        }
    }
}

/// A post.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PostView {
    /// Id.
    pub id: uuid::Uuid,
    /// Author's id.
    pub author_id: uuid::Uuid,
    /// Text.
    pub content: String,
    /// Media URLs.
    pub media: Vec<String>,
    /// Kind.
    pub post_type: PostTypeDto,
    /// Who may see it.
    pub visibility: VisibilityDto,
    /// Likes.
    pub like_count: i64,
    /// Comments.
    pub comment_count: i64,
    /// Hashtags found in the content.
    pub hashtags: Vec<String>,
    /// Mentioned usernames.
    pub mentions: Vec<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last updated (RFC 3339).
    pub updated_at: String,
}

impl From<&Post> for PostView {
    fn from(p: &Post) -> Self {
        Self {
            id: p.id.0,
            author_id: p.author.0,
            content: p.content.clone(),
            media: p.media.clone(),
            post_type: p.kind.into(),
            visibility: p.visibility.into(),
            like_count: p.like_count,
            comment_count: p.comment_count,
            hashtags: p.hashtags.clone(),
            mentions: p.mentions.clone(),
            created_at: time::format(p.created_at),
            updated_at: time::format(p.updated_at),
        }
    }
}

/// A comment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommentView {
    /// Id.
    pub id: uuid::Uuid,
    /// The post.
    pub post_id: uuid::Uuid,
    /// The author.
    pub author_id: uuid::Uuid,
    /// The comment it answers, if any.
    pub parent_id: Option<uuid::Uuid>,
    /// Text.
    pub content: String,
    /// Created (RFC 3339).
    pub created_at: String,
}

impl From<&Comment> for CommentView {
    fn from(c: &Comment) -> Self {
        Self {
            id: c.id.0,
            post_id: c.post.0,
            author_id: c.author.0,
            parent_id: c.parent.map(|p| p.0),
            content: c.content.clone(),
            created_at: time::format(c.created_at),
        }
    }
}

/// One follower or followee.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FollowView {
    /// The other user's id.
    pub user_id: uuid::Uuid,
    /// Their username (absent if the account vanished meanwhile).
    pub username: Option<String>,
    /// Since when (RFC 3339).
    pub followed_at: String,
}

/// A like's result.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LikeView {
    /// Whether the caller likes the post now.
    pub liked: bool,
    /// The post's likes now.
    pub like_count: i64,
}
