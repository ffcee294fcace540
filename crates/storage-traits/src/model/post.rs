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

/// The order of a post list by creation time (the post id breaks ties the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostOrder {
    /// Newest first: `created_at` desc, `id` desc.
    #[default]
    NewestFirst,
    /// Oldest first: `created_at` asc, `id` asc.
    OldestFirst,
}

/// What [`PostRepo::list_posts`](crate::PostRepo::list_posts) lists: optional author and time
/// bounds, the order, and whose eyes the list is for.
///
/// A post is listed only when the viewer may see it: public posts to everyone, followers-only
/// posts to the author's followers and the author, private posts to the author alone; with no
/// viewer (anonymous) only public posts.
///
/// ```
/// use keel_storage::{PostQuery, Timestamp, UserId};
/// # let (ada, bob) = (UserId(uuid::Uuid::nil()), UserId(uuid::Uuid::max()));
/// let q = PostQuery::all()
///     .by(ada)
///     .created_after(Timestamp::from_millis(1_700_000_000_000))
///     .oldest_first()
///     .seen_by(Some(bob));
/// assert_eq!(q.author, Some(ada));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct PostQuery {
    /// Only this author's posts (`None`: every author).
    pub author: Option<UserId>,
    /// Only posts created strictly after this time.
    pub created_after: Option<Timestamp>,
    /// Only posts created strictly before this time.
    pub created_before: Option<Timestamp>,
    /// Newest or oldest first.
    pub order: PostOrder,
    /// Who reads the list (`None`: anonymous, public posts only).
    pub viewer: Option<UserId>,
}

impl PostQuery {
    /// Every public post, newest first (narrow it with the other methods).
    pub fn all() -> Self {
        Self::default()
    }

    /// Only `author`'s posts.
    #[must_use]
    pub fn by(mut self, author: UserId) -> Self {
        self.author = Some(author);
        self
    }

    /// Only posts created strictly after `t`.
    #[must_use]
    pub fn created_after(mut self, t: Timestamp) -> Self {
        self.created_after = Some(t);
        self
    }

    /// Only posts created strictly before `t`.
    #[must_use]
    pub fn created_before(mut self, t: Timestamp) -> Self {
        self.created_before = Some(t);
        self
    }

    /// Oldest first.
    #[must_use]
    pub fn oldest_first(mut self) -> Self {
        self.order = PostOrder::OldestFirst;
        self
    }

    /// In this order.
    #[must_use]
    pub fn ordered(mut self, order: PostOrder) -> Self {
        self.order = order;
        self
    }

    /// For this viewer (`None`: anonymous).
    #[must_use]
    pub fn seen_by(mut self, viewer: Option<UserId>) -> Self {
        self.viewer = viewer;
        self
    }

    /// The keyset list (and so the sort) this query reads: [`List::Posts`](crate::page::List::Posts)
    /// or [`List::PostsOldestFirst`](crate::page::List::PostsOldestFirst).
    pub fn list(&self) -> crate::page::List {
        match self.order {
            PostOrder::NewestFirst => crate::page::List::Posts,
            PostOrder::OldestFirst => crate::page::List::PostsOldestFirst,
        }
    }

    /// The smallest and largest creation times the bounds admit (inclusive), or `None` when
    /// they admit none.
    pub(crate) fn time_range(&self) -> Option<(Timestamp, Timestamp)> {
        let lo = match self.created_after {
            Some(t) => Timestamp::from_micros(t.as_micros().checked_add(1)?),
            None => Timestamp::from_micros(i64::MIN),
        };
        let hi = match self.created_before {
            Some(t) => Timestamp::from_micros(t.as_micros().checked_sub(1)?),
            None => Timestamp::from_micros(i64::MAX),
        };
        (lo <= hi).then_some((lo, hi))
    }

    /// Whether `viewer` may see `post`, `follows` telling whether the viewer follows its author.
    pub(crate) fn admits(&self, post: &Post, follows: impl FnOnce() -> bool) -> bool {
        match post.visibility {
            Visibility::Public => true,
            Visibility::Followers => match self.viewer {
                Some(v) => v == post.author || follows(),
                None => false,
            },
            Visibility::Private => self.viewer == Some(post.author),
        }
    }
}
