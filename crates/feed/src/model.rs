//! The values the engine moves around: users, posts, timeline entries and positions.
//!
//! Users and posts are identified by 128 bits: the bits of a UUID (keel-storage mints UUIDv7,
//! which sort by creation time), so ids mean the same thing in every process and survive a
//! restart. Any other 128-bit (or smaller) id scheme works as well; ids are only compared and
//! hashed.

use uuid::Uuid;

use crate::score::Score;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub u128);

        impl $name {
            /// The id as a UUID (the same 128 bits).
            pub const fn as_uuid(self) -> Uuid {
                Uuid::from_u128(self.0)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u.as_u128())
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.as_uuid()
            }
        }

        impl From<u128> for $name {
            fn from(bits: u128) -> Self {
                Self(bits)
            }
        }

        impl std::fmt::Display for $name {
            /// The hyphenated UUID form.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.as_uuid(), f)
            }
        }
    };
}

id_type!(
    /// A user (a follower, a followee, an author or a reader): a UUID's 128 bits.
    UserId
);
id_type!(
    /// A post: a UUID's 128 bits. With UUIDv7 ids, id order is creation order.
    PostId
);

/// Who may see a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Visibility {
    /// Everyone; delivered to every follower.
    #[default]
    Public,
    /// Followers only; delivered to followers and shown to them alone.
    FollowersOnly,
    /// The author alone: never fanned out, shown only in the author's own timeline.
    Private,
}

/// A post's metadata: what the engine needs to place and filter it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Post {
    /// The post.
    pub id: PostId,
    /// Its author.
    pub author: UserId,
    /// Its place in time (see [`Score`]).
    pub score: Score,
    /// Who may see it.
    pub visibility: Visibility,
}

impl Post {
    /// The timeline entry for this post.
    pub fn entry(&self) -> TimelineEntry {
        TimelineEntry {
            position: Position {
                score: self.score,
                post: self.id,
            },
            author: self.author,
        }
    }
}

/// The total order of a timeline: newest first means larger positions first.
///
/// Equal scores are ordered by post id, so no two entries share a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// The score (time and sequence).
    pub score: Score,
    /// The post, breaking ties.
    pub post: PostId,
}

/// One line of a timeline: a post's position and its author (for filters and unfollows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimelineEntry {
    /// Where the entry sits.
    pub position: Position,
    /// The post's author.
    pub author: UserId,
}

impl TimelineEntry {
    /// The post id.
    pub fn post(&self) -> PostId {
        self.position.post
    }
}
