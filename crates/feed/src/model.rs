//! The values the engine moves around: users, posts, timeline entries and positions.

use crate::score::Score;

/// A user (a follower, a followee, an author or a reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(pub u64);

/// A post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PostId(pub u64);

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
