//! [`PageRequest`] (what a client sends) and [`LimitPolicy`] (what the server allows).

use serde::{Deserialize, Serialize};

use crate::cursor::{CursorCodec, QueryKey};
use crate::error::{PageError, RequestError};
use crate::keyset::{Direction, Position, Seek};

/// The limits a server allows: a default when the client sends none, and a maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitPolicy {
    default: u32,
    max: u32,
}

impl Default for LimitPolicy {
    /// 20 by default, at most 100.
    fn default() -> Self {
        Self {
            default: 20,
            max: 100,
        }
    }
}

impl LimitPolicy {
    /// A policy with `default` rows when none is asked, and at most `max`.
    ///
    /// # Errors
    /// [`RequestError::InvalidLimitPolicy`] unless `1 <= default <= max`.
    pub fn new(default: u32, max: u32) -> Result<Self, RequestError> {
        if default == 0 || default > max {
            return Err(RequestError::InvalidLimitPolicy { default, max });
        }
        Ok(Self { default, max })
    }

    /// The default limit.
    pub fn default_limit(&self) -> u32 {
        self.default
    }

    /// The maximum limit.
    pub fn max_limit(&self) -> u32 {
        self.max
    }

    /// The limit to use for what the client asked: the default when absent, 1 when zero, the
    /// maximum when above it. Never an error: a client's limit is a wish, not an order.
    pub fn clamp(&self, asked: Option<u32>) -> usize {
        let n = asked.unwrap_or(self.default).clamp(1, self.max.max(1));
        usize::try_from(n).unwrap_or(usize::MAX)
    }
}

/// What a client sends for one page: an optional limit and at most one cursor.
///
/// Deserialize it straight from query parameters (`?limit=20&after=...`). Nothing in it is
/// trusted: [`seek`](Self::seek) clamps the limit and verifies the cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// Rows wanted; clamped by a [`LimitPolicy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Read forward from this cursor (a previous page's `next_cursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Read backward from this cursor (a previous page's `prev_cursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
}

impl PageRequest {
    /// The first page with the policy's default limit.
    pub fn first() -> Self {
        Self::default()
    }

    /// The first page with `limit` rows.
    pub fn with_limit(limit: u32) -> Self {
        Self {
            limit: Some(limit),
            ..Self::default()
        }
    }

    /// Reads forward from `cursor`.
    #[must_use]
    pub fn after(mut self, cursor: impl Into<String>) -> Self {
        self.after = Some(cursor.into());
        self.before = None;
        self
    }

    /// Reads backward from `cursor`.
    #[must_use]
    pub fn before(mut self, cursor: impl Into<String>) -> Self {
        self.before = Some(cursor.into());
        self.after = None;
        self
    }

    /// The direction this request reads in.
    pub fn direction(&self) -> Direction {
        if self.before.is_some() && self.after.is_none() {
            Direction::Backward
        } else {
            Direction::Forward
        }
    }

    /// Verifies the cursor for `query`, clamps the limit, and returns where to read.
    /// An empty cursor is an edge: `after=` reads from the start, `before=` from the end.
    ///
    /// # Errors
    /// [`PageError::Request`] with [`RequestError::BothCursors`] when both cursors are given;
    /// [`PageError::Cursor`] when the cursor is rejected. Both are the client's fault (400).
    pub fn seek(
        &self,
        codec: &CursorCodec,
        query: &QueryKey,
        policy: &LimitPolicy,
    ) -> Result<Seek, PageError> {
        let limit = policy.clamp(self.limit);
        let after = self.after.as_deref();
        let before = self.before.as_deref();
        let (direction, cursor) = match (after, before) {
            (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => {
                return Err(RequestError::BothCursors.into());
            }
            // `before` alone (an empty one means: from the end) reads backward.
            (None | Some(""), Some(b)) => (Direction::Backward, b),
            (Some(a), _) => (Direction::Forward, a),
            (None, None) => (Direction::Forward, ""),
        };
        let position = if cursor.is_empty() {
            Position::edge()
        } else {
            codec.decode(query, cursor)?
        };
        Ok(Seek {
            direction,
            position,
            limit,
        })
    }
}
