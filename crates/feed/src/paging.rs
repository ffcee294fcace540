//! Signed, opaque page cursors for timelines, with keel-pagination.
//!
//! A timeline is sorted by `score desc, post desc`; the cursor is bound to that sort and to the
//! reader (a cursor from one user's timeline is rejected on another's). The position inside is
//! a keyset position, so pages stay stable while new posts arrive, and the same cursor keeps
//! working past the capped end of the stored timeline (the engine continues by pull).
//!
//! # Untrusted input
//! Cursors are verified by [`CursorCodec`] (length bound, HMAC tag checked in constant time)
//! before they are parsed; a cursor that verifies but does not hold a score and a post id is
//! rejected with [`FeedError::InvalidCursor`]. Limits are clamped by the [`LimitPolicy`].

use keel_pagination::keyset::{Direction, Position as KeysetPosition};
use keel_pagination::{
    CursorCodec, LimitPolicy, Page, PageRequest, QueryKey, SortSpec, SortValue, ValueKind,
};

use crate::engine::{FeedEngine, ReadRequest};
use crate::error::{FeedError, Result};
use crate::model::{Position, PostId, TimelineEntry, UserId};
use crate::score::Score;

/// One page of a home timeline in keel-pagination's shape, plus the regeneration flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePage {
    /// The entries and the signed resume cursor (`next_cursor`, passed back as `after`).
    pub page: Page<TimelineEntry>,
    /// The stored timeline was missing or stale and is being rebuilt (answer HTTP 206).
    pub regenerating: bool,
}

fn spec() -> Result<SortSpec> {
    SortSpec::builder()
        .desc("score", ValueKind::I64)
        .tiebreaker("post", ValueKind::Uuid)
        .map_err(|_| FeedError::InvalidCursor("the timeline sort could not be built"))
}

/// The query key timeline cursors of `user` are bound to.
///
/// # Errors
/// Never in practice; the sort is fixed.
pub fn timeline_query(user: UserId) -> Result<QueryKey> {
    Ok(QueryKey::new("home_timeline", &spec()?).filter("user", &user.to_string()))
}

fn encode(codec: &CursorCodec, query: &QueryKey, p: Position) -> Result<String> {
    // A score is below 2^53, so it always fits an i64.
    let score = i64::try_from(p.score.raw())
        .map_err(|_| FeedError::InvalidCursor("the position's score is out of range"))?;
    let values = vec![SortValue::I64(score), SortValue::Uuid(p.post.as_uuid())];
    codec
        .encode(query, &KeysetPosition::after(values))
        .map_err(|_| FeedError::InvalidCursor("the cursor could not be signed"))
}

fn decode(position: &KeysetPosition) -> Result<Option<Position>> {
    if position.is_edge() {
        return Ok(None);
    }
    let [SortValue::I64(score), SortValue::Uuid(post)] = position.values() else {
        return Err(FeedError::InvalidCursor(
            "the cursor does not hold a timeline position",
        ));
    };
    let score = u64::try_from(*score)
        .ok()
        .and_then(|s| Score::from_raw(s).ok())
        .ok_or(FeedError::InvalidCursor(
            "the cursor's score is out of range",
        ))?;
    let post = post.as_u128();
    // Inclusive: everything older than the anchor, the anchor itself too.
    let post = if position.is_inclusive() {
        post.saturating_add(1)
    } else {
        post
    };
    Ok(Some(Position {
        score,
        post: PostId(post),
    }))
}

impl FeedEngine {
    /// Reads one page of `user`'s home timeline from a keel-pagination request: verifies the
    /// `after` cursor, clamps the limit, and signs the next cursor.
    ///
    /// # Errors
    /// [`FeedError::Page`] for a rejected cursor or request (the client's fault: 400),
    /// [`FeedError::InvalidCursor`] for a `before` cursor (reading newer entries backward is not
    /// supported: start from the first page) or a cursor that is not a timeline position; or
    /// a graph, source or store error.
    pub async fn read_page(
        &self,
        user: UserId,
        request: &PageRequest,
        codec: &CursorCodec,
        policy: &LimitPolicy,
    ) -> Result<TimelinePage> {
        let query = timeline_query(user)?;
        let seek = request.seek(codec, &query, policy)?;
        if seek.direction == Direction::Backward {
            return Err(FeedError::InvalidCursor(
                "timelines read forward only (pass next_cursor as `after`)",
            ));
        }
        let before = decode(&seek.position)?;
        let read = self
            .read(&ReadRequest {
                user,
                before,
                limit: seek.limit,
            })
            .await?;
        let next_cursor = match read.next {
            Some(p) => Some(encode(codec, &query, p)?),
            None => None,
        };
        Ok(TimelinePage {
            page: Page {
                has_next: next_cursor.is_some(),
                has_prev: before.is_some(),
                items: read.entries,
                next_cursor,
                prev_cursor: None,
                total: None,
            },
            regenerating: read.regenerating,
        })
    }
}
