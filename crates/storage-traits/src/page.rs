//! Keyset pages: [`PageRequest`], [`Position`] and [`Page`].
//!
//! Every list is ordered by a key that is unique and stable (a time plus an id, a username, a
//! rank offset), and a page continues strictly after the [`Position`] of the previous page's last
//! item. A position is plain data (`serde`), ready to be sealed into a signed opaque cursor by
//! `keel-pagination` at the API edge; backends never see cursor strings.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::error::{Result, StorageError};

/// Largest page any list returns.
pub const MAX_PAGE_SIZE: u32 = 200;
/// Page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 20;

/// Where a list resumes: the sort key of the last item already seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Position {
    /// Lists ordered by creation time, ties broken by id.
    TimeId {
        /// Creation time of the last item seen.
        at: Timestamp,
        /// Id of the last item seen (for follows and likes: the other user's id).
        id: Uuid,
    },
    /// Lists ordered by a text key (usernames, lowercased).
    Key {
        /// The last key seen.
        key: String,
    },
    /// Ranked lists (search): how many items were already returned.
    Offset {
        /// Items already returned.
        offset: u64,
    },
}

/// One page to read: how many items, after which position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// Items wanted (1 to [`MAX_PAGE_SIZE`]).
    pub limit: u32,
    /// Resume strictly after this position; `None` starts at the beginning.
    pub after: Option<Position>,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }

    /// The page of `limit` items after `position`.
    pub fn after(limit: u32, position: Position) -> Self {
        Self {
            limit,
            after: Some(position),
        }
    }

    /// The limit, checked: 0 and values above [`MAX_PAGE_SIZE`] are invalid input.
    pub fn checked_limit(&self) -> Result<usize> {
        if self.limit == 0 || self.limit > MAX_PAGE_SIZE {
            return Err(StorageError::invalid(
                "limit",
                format!("1 to {MAX_PAGE_SIZE} items per page"),
            ));
        }
        Ok(self.limit as usize)
    }

    /// The time-and-id position, or `None` at the start; another kind is invalid input.
    pub fn time_id(&self) -> Result<Option<(Timestamp, Uuid)>> {
        match &self.after {
            None => Ok(None),
            Some(Position::TimeId { at, id }) => Ok(Some((*at, *id))),
            Some(_) => Err(wrong_kind("a time-and-id position")),
        }
    }

    /// The text-key position, or `None` at the start; another kind is invalid input.
    pub fn key(&self) -> Result<Option<&str>> {
        match &self.after {
            None => Ok(None),
            Some(Position::Key { key }) => Ok(Some(key)),
            Some(_) => Err(wrong_kind("a text-key position")),
        }
    }

    /// The offset position (0 at the start); another kind is invalid input.
    pub fn offset(&self) -> Result<u64> {
        match &self.after {
            None => Ok(0),
            Some(Position::Offset { offset }) => Ok(*offset),
            Some(_) => Err(wrong_kind("an offset position")),
        }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::first(DEFAULT_PAGE_SIZE)
    }
}

fn wrong_kind(expected: &str) -> StorageError {
    StorageError::invalid(
        "after",
        format!("this list resumes from {expected}; pass the position the previous page returned"),
    )
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` when this page is the last.
    pub next: Option<Position>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched items: the extra item, when present, proves
    /// there is a next page; it is dropped and the position of the last kept item becomes `next`.
    pub fn from_overfetch(
        mut items: Vec<T>,
        limit: usize,
        position: impl Fn(&T) -> Position,
    ) -> Self {
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more {
            items.last().map(position)
        } else {
            None
        };
        Self { items, next }
    }

    /// Maps the items, keeping the position.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overfetch_sets_next_only_when_more() {
        let p = Page::from_overfetch(vec![1u64, 2, 3], 2, |x| Position::Offset { offset: *x });
        assert_eq!(p.items, [1, 2]);
        assert_eq!(p.next, Some(Position::Offset { offset: 2 }));
        let p = Page::from_overfetch(vec![1u64, 2], 2, |x| Position::Offset { offset: *x });
        assert_eq!(p.next, None);
    }

    #[test]
    fn limits_and_kinds_are_checked() {
        assert!(PageRequest::first(0).checked_limit().is_err());
        assert!(
            PageRequest::first(MAX_PAGE_SIZE + 1)
                .checked_limit()
                .is_err()
        );
        assert_eq!(PageRequest::first(5).checked_limit().unwrap(), 5);
        let r = PageRequest::after(5, Position::Offset { offset: 3 });
        assert!(r.time_id().is_err());
        assert_eq!(r.offset().unwrap(), 3);
        let json = serde_json::to_string(&Position::Key { key: "ada".into() }).unwrap();
        assert_eq!(json, r#"{"k":"key","key":"ada"}"#);
    }
}
