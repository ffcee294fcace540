//! Posts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::StorageError;
use crate::id::{PostId, UserId};

/// The kind of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostType {
    /// Text only (media optional).
    #[default]
    Text,
    /// An image post: at least one media URL.
    Image,
    /// A video post: at least one media URL.
    Video,
}

/// Who may see a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone; the only visibility that search returns.
    #[default]
    Public,
    /// The author's followers.
    Followers,
    /// The author alone.
    Private,
}

macro_rules! str_enum {
    ($t:ty, $field:literal, $($v:ident => $s:literal),+) => {
        impl $t {
            /// The stored name.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = StorageError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok(Self::$v),)+
                    other => Err(StorageError::invalid(
                        $field,
                        format!("unknown value {other:?}; expected one of {}", [$($s),+].join(", ")),
                    )),
                }
            }
        }
    };
}

str_enum!(PostType, "post_type", Text => "text", Image => "image", Video => "video");
str_enum!(Visibility, "visibility", Public => "public", Followers => "followers", Private => "private");

/// A stored post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// Id (UUIDv7, sorts by creation).
    pub id: PostId,
    /// The author.
    pub author: UserId,
    /// Text content (1 to 5,000 characters).
    pub content: String,
    /// Media URLs (at most 4).
    pub media: Vec<String>,
    /// Kind.
    pub kind: PostType,
    /// Who may see it.
    pub visibility: Visibility,
    /// Number of likes, kept equal to the like rows in the same transaction.
    pub like_count: i64,
    /// Number of comments, kept equal to the comment rows in the same transaction.
    pub comment_count: i64,
    /// Hashtags parsed from the content (lowercase, without `#`, first occurrence order).
    pub hashtags: Vec<String>,
    /// Mentioned usernames parsed from the content (lowercase, without `@`).
    pub mentions: Vec<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// What creating a post provides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPost {
    /// The author (must exist).
    pub author: UserId,
    /// Text content (1 to 5,000 characters, not only whitespace).
    pub content: String,
    /// Media URLs (at most 4, each at most 2,048 characters).
    pub media: Vec<String>,
    /// Kind.
    pub kind: PostType,
    /// Who may see it.
    pub visibility: Visibility,
}

impl NewPost {
    /// A public text post.
    pub fn text(author: UserId, content: impl Into<String>) -> Self {
        Self {
            author,
            content: content.into(),
            media: Vec::new(),
            kind: PostType::Text,
            visibility: Visibility::Public,
        }
    }
}

/// A partial update of a post: `None` leaves a field unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PostPatch {
    /// New content (hashtags and mentions are parsed again).
    pub content: Option<String>,
    /// New media list.
    pub media: Option<Vec<String>>,
    /// New kind.
    pub kind: Option<PostType>,
    /// New visibility.
    pub visibility: Option<Visibility>,
}

/// Applies `patch` to `post`, re-parsing hashtags and mentions and checking the merged post.
/// On error `post` is unchanged.
pub(crate) fn apply_post_patch(
    post: &mut Post,
    patch: PostPatch,
    now: Timestamp,
) -> crate::Result<()> {
    let content = patch.content.unwrap_or_else(|| post.content.clone());
    let media = patch.media.unwrap_or_else(|| post.media.clone());
    let kind = patch.kind.unwrap_or(post.kind);
    crate::validate::patched_post(&content, &media, kind)?;
    post.hashtags = crate::text::hashtags(&content);
    post.mentions = crate::text::mentions(&content);
    post.content = content;
    post.media = media;
    post.kind = kind;
    if let Some(v) = patch.visibility {
        post.visibility = v;
    }
    post.updated_at = now;
    Ok(())
}

/// The search terms of a post: its content and hashtags.
pub(crate) fn post_terms(post: &Post) -> Vec<String> {
    let mut t = crate::text::tokens(&post.content);
    for h in &post.hashtags {
        t.extend(crate::text::tokens(h));
    }
    t
}
