//! Keyset (seek) pagination: a [`Position`] in a sort, a [`Seek`] (where to go from it), and the
//! [`Window`] a backend returns; [`memory`] for sorted collections, `postgres` for SQL.
//!
//! # Semantics (every backend)
//!
//! A page *after* position P holds the first `limit` rows strictly after P (or at and after P,
//! for an inclusive position), in sort order. A page *before* P holds the last `limit` rows
//! strictly before P, still in sort order. Each page returns a resume cursor both ways, even
//! when it is short or empty:
//!
//! - `next`: after the last row (an empty forward page keeps its own anchor), so a client that
//!   reached the end can poll it for rows added later.
//! - `prev`: before the first row (an empty forward page points at and before its anchor).
//!
//! `has_next` and `has_prev` say whether rows exist beyond those cursors *now*, in both
//! directions of travel. Because a position holds the anchor row's sort values (not only its
//! id), a deleted anchor never breaks continuation.

pub mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;

use serde::{Deserialize, Serialize};

use crate::cursor::{CursorCodec, CursorError, QueryKey};
use crate::page::{Page, Total};
use crate::value::SortValue;

/// A place in a sort order: the sort values of an anchor row (tiebreaker included), or an edge.
///
/// - An *edge* (no values) is the start when read forward and the end when read backward.
/// - An *exclusive* position (the usual) excludes the anchor; an *inclusive* one includes it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Position {
    values: Vec<SortValue>,
    inclusive: bool,
}

impl Position {
    /// The edge: the start of the sort going forward, its end going backward.
    pub fn edge() -> Self {
        Self::default()
    }

    /// Just past the row with these sort values (the row itself excluded).
    pub fn after(values: Vec<SortValue>) -> Self {
        Self {
            values,
            inclusive: false,
        }
    }

    /// At the row with these sort values (the row itself included).
    pub fn at(values: Vec<SortValue>) -> Self {
        Self {
            values,
            inclusive: true,
        }
    }

    pub(crate) fn from_parts(values: Vec<SortValue>, inclusive: bool) -> Self {
        Self { values, inclusive }
    }

    /// The anchor's sort values, one per field; empty for an edge.
    pub fn values(&self) -> &[SortValue] {
        &self.values
    }

    /// Whether this is an edge.
    pub fn is_edge(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether the anchor row itself is included.
    pub fn is_inclusive(&self) -> bool {
        self.inclusive && !self.values.is_empty()
    }
}

/// Which way a page reads from its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Rows after the position (`after` cursor, or the first page).
    Forward,
    /// Rows before the position (`before` cursor).
    Backward,
}

/// A verified request for one page: direction, position and a clamped limit. Made by
/// [`PageRequest::seek`](crate::PageRequest::seek).
#[derive(Debug, Clone, PartialEq)]
pub struct Seek {
    /// Which way to read.
    pub direction: Direction,
    /// From where.
    pub position: Position,
    /// How many rows at most (already clamped: at least 1).
    pub limit: usize,
}

impl Seek {
    /// The first page, forward, with `limit` rows (at least 1).
    pub fn first(limit: usize) -> Self {
        Self {
            direction: Direction::Forward,
            position: Position::edge(),
            limit: limit.max(1),
        }
    }

    /// The last page (read backward from the end), with `limit` rows (at least 1).
    pub fn last(limit: usize) -> Self {
        Self {
            direction: Direction::Backward,
            position: Position::edge(),
            limit: limit.max(1),
        }
    }
}

/// One page of rows with its positions, before cursors are signed: what a keyset backend
/// returns. Turn it into a [`Page`] with [`into_page`](Self::into_page).
#[derive(Debug, Clone, PartialEq)]
pub struct Window<T> {
    /// The rows, in sort order.
    pub items: Vec<T>,
    /// Each row's sort values, parallel to `items`.
    pub item_values: Vec<Vec<SortValue>>,
    /// Resume position forward: after the last row, or the anchor when the page is empty.
    pub next: Position,
    /// Resume position backward: before the first row, or the anchor when the page is empty.
    pub prev: Position,
    /// Whether rows exist after `next` now.
    pub has_next: bool,
    /// Whether rows exist before `prev` now.
    pub has_prev: bool,
    /// The total, when a count policy asked for one.
    pub total: Option<Total>,
}

impl<T> Window<T> {
    /// Sets the total (see [`CountPolicy`](crate::CountPolicy)).
    #[must_use]
    pub fn with_total(mut self, total: Option<Total>) -> Self {
        self.total = total;
        self
    }

    /// Signs both resume cursors and returns the page.
    ///
    /// # Errors
    /// [`CursorError::PositionTooLarge`] when a sort value is too long for a cursor.
    pub fn into_page(self, codec: &CursorCodec, query: &QueryKey) -> Result<Page<T>, CursorError> {
        Ok(Page {
            next_cursor: Some(codec.encode(query, &self.next)?),
            prev_cursor: Some(codec.encode(query, &self.prev)?),
            has_next: self.has_next,
            has_prev: self.has_prev,
            total: self.total,
            items: self.items,
        })
    }
}

/// Builds the window of a page from the rows fetched in reading order (`limit + 1` asked, so one
/// extra row means more follow) and whether rows exist on the far side of the position.
pub(crate) fn assemble<T>(
    seek: &Seek,
    mut fetched: Vec<(T, Vec<SortValue>)>,
    beyond_position: impl FnOnce(&Position) -> bool,
) -> Window<T> {
    let more = fetched.len() > seek.limit;
    fetched.truncate(seek.limit);
    if seek.direction == Direction::Backward {
        fetched.reverse();
    }
    let (items, item_values): (Vec<T>, Vec<Vec<SortValue>>) = fetched.into_iter().unzip();
    let anchor = &seek.position;
    let (next, prev) = match (item_values.first(), item_values.last()) {
        (Some(first), Some(last)) => (
            Position::after(last.clone()),
            Position::after(first.clone()),
        ),
        _ => {
            // Empty page: keep the anchor. The side the page read from keeps its exclusivity;
            // the other side includes the anchor row, so it is not skipped either way.
            let flipped = Position::from_parts(anchor.values.clone(), !anchor.is_inclusive());
            match seek.direction {
                Direction::Forward => (anchor.clone(), flipped),
                Direction::Backward => (flipped, anchor.clone()),
            }
        }
    };
    let (has_next, has_prev) = match seek.direction {
        Direction::Forward => (more, beyond_position(&prev)),
        Direction::Backward => (beyond_position(&next), more),
    };
    Window {
        items,
        item_values,
        next,
        prev,
        has_next,
        has_prev,
        total: None,
    }
}
