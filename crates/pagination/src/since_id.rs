//! Twitter- and Mastodon-style id windows over time-ordered ids (snowflakes, UUIDv7):
//! `max_id`, `since_id` and `min_id`. Pages are newest first.
//!
//! - `max_id=X`: items older than X (the next page of a timeline).
//! - `since_id=X`: the *newest* items newer than X; if more than a page arrived, the ones just
//!   after X are left out (a gap, as on Twitter).
//! - `min_id=X`: the items *immediately* newer than X, no gap (Mastodon's way to catch up page
//!   by page). When both are given, `min_id` wins.
//!
//! The response links `next` with `max_id=<oldest item>` and `prev` with `min_id=<newest
//! item>`, as Mastodon does. Ids are compared as given, so they must sort by time.
//!
//! ```
//! use keel_pagination::LimitPolicy;
//! use keel_pagination::since_id::IdRequest;
//! let ids: Vec<u64> = (1..=10).collect(); // ascending
//! let req = IdRequest { max_id: Some(8), limit: Some(3), ..IdRequest::default() };
//! let page = req.window(&LimitPolicy::default()).slice(&ids, |i| *i);
//! assert_eq!(page.items, vec![7, 6, 5]);
//! assert_eq!((page.next_max_id, page.prev_min_id), (Some(5), Some(7)));
//! let link = page.links("https://x.example/api/v1/timelines/home?limit=3");
//! assert!(link.to_string().contains("max_id=5>; rel=\"next\""));
//! let caught_up = IdRequest { min_id: Some(2), limit: Some(3), ..IdRequest::default() }
//!     .window(&LimitPolicy::default()).slice(&ids, |i| *i);
//! assert_eq!(caught_up.items, vec![5, 4, 3]);
//! ```

use std::fmt::Display;

use serde::{Deserialize, Serialize};

use crate::link::{LinkHeader, with_params};
use crate::page::Page;
use crate::request::LimitPolicy;

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRequest<Id> {
    /// Only items with ids below this.
    #[serde(default = "none")]
    pub max_id: Option<Id>,
    /// The newest items with ids above this (may leave a gap).
    #[serde(default = "none")]
    pub since_id: Option<Id>,
    /// The items immediately above this (no gap).
    #[serde(default = "none")]
    pub min_id: Option<Id>,
    /// Items wanted; clamped.
    #[serde(default)]
    pub limit: Option<u32>,
}

fn none<Id>() -> Option<Id> {
    None
}

impl<Id> Default for IdRequest<Id> {
    fn default() -> Self {
        Self {
            max_id: None,
            since_id: None,
            min_id: None,
            limit: None,
        }
    }
}

/// A checked id window: exclusive bounds, which end to take from, and a clamped limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdWindow<Id> {
    /// Items must have ids above this.
    pub lower: Option<Id>,
    /// Items must have ids below this.
    pub upper: Option<Id>,
    /// Take the oldest items above `lower` (`min_id`) instead of the newest.
    pub oldest_first: bool,
    /// Items at most.
    pub limit: usize,
}

/// A page of an id window, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdPage<T, Id> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Send as `max_id` for older items: the oldest item's id (the request's `max_id` on an
    /// empty page, so the client can retry).
    pub next_max_id: Option<Id>,
    /// Send as `min_id` for newer items: the newest item's id (the request's lower bound on an
    /// empty page, so polling resumes where it stopped).
    pub prev_min_id: Option<Id>,
    /// Whether more items were there in the direction read (older for `max_id`/`since_id`,
    /// newer for `min_id`).
    pub has_more: bool,
}

impl<Id: Clone> IdRequest<Id> {
    /// The window to read, with the limit clamped.
    pub fn window(&self, policy: &LimitPolicy) -> IdWindow<Id> {
        let oldest_first = self.min_id.is_some();
        IdWindow {
            lower: self.min_id.clone().or_else(|| self.since_id.clone()),
            upper: self.max_id.clone(),
            oldest_first,
            limit: policy.clamp(self.limit),
        }
    }
}

impl<Id: Clone + Ord> IdWindow<Id> {
    /// The page from rows fetched in reading order (newest first, or oldest first for
    /// `min_id`), `limit + 1` of them asked to learn whether more follow.
    pub fn finish<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> Id) -> IdPage<T, Id> {
        let has_more = rows.len() > self.limit;
        rows.truncate(self.limit);
        if self.oldest_first {
            rows.reverse();
        }
        IdPage {
            next_max_id: rows.last().map(&id).or_else(|| self.upper.clone()),
            prev_min_id: rows.first().map(&id).or_else(|| self.lower.clone()),
            items: rows,
            has_more,
        }
    }

    /// The page of `items` sorted by ascending id.
    pub fn slice<T: Clone>(&self, items: &[T], id: impl Fn(&T) -> Id) -> IdPage<T, Id> {
        let start = self
            .lower
            .as_ref()
            .map_or(0, |lo| items.partition_point(|t| id(t) <= *lo));
        let end = self
            .upper
            .as_ref()
            .map_or(items.len(), |hi| items.partition_point(|t| id(t) < *hi))
            .max(start);
        let inside = items.get(start..end).unwrap_or_default();
        let take = self.limit.saturating_add(1);
        let rows: Vec<T> = if self.oldest_first {
            inside.iter().take(take).cloned().collect()
        } else {
            inside.iter().rev().take(take).cloned().collect()
        };
        self.finish(rows, id)
    }

    /// Appends `WHERE`-less conditions, order and limit for an id column (all values bound):
    /// ` AND col > $1 AND col < $2 ORDER BY col DESC LIMIT $3` (`ASC` for `min_id`). Start
    /// the query with a `WHERE` clause of your own (`WHERE TRUE` for none).
    #[cfg(feature = "postgres")]
    pub fn push_sql(
        &self,
        qb: &mut sqlx::QueryBuilder<'static, sqlx::Postgres>,
        column: &str,
    ) -> Result<(), crate::KeysetError>
    where
        Id: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + 'static,
    {
        if !crate::sort::is_identifier(column) {
            return Err(crate::KeysetError::InvalidIdentifier {
                name: column.to_owned(),
            });
        }
        if let Some(lo) = &self.lower {
            qb.push(" AND ")
                .push(column)
                .push(" > ")
                .push_bind(lo.clone());
        }
        if let Some(hi) = &self.upper {
            qb.push(" AND ")
                .push(column)
                .push(" < ")
                .push_bind(hi.clone());
        }
        let order = if self.oldest_first { "ASC" } else { "DESC" };
        let limit = i64::try_from(self.limit.saturating_add(1)).unwrap_or(i64::MAX);
        qb.push(" ORDER BY ")
            .push(column)
            .push(" ")
            .push(order)
            .push(" LIMIT ")
            .push_bind(limit);
        Ok(())
    }
}

impl<T, Id: Display> IdPage<T, Id> {
    /// The shared [`Page`] shape (newest first): `next_cursor` is the `max_id` for older items,
    /// `prev_cursor` the `min_id` for newer ones. `has_next` is [`has_more`](Self::has_more)
    /// when reading older items (`max_id`/`since_id`); `has_prev` is it for `min_id` reads.
    /// The flag for the other direction is not known without another query and is `false`.
    pub fn into_page(self, window: &IdWindow<Id>) -> Page<T> {
        Page {
            has_next: self.has_more && !window.oldest_first,
            has_prev: self.has_more && window.oldest_first,
            next_cursor: self.next_max_id.map(|id| id.to_string()),
            prev_cursor: self.prev_min_id.map(|id| id.to_string()),
            total: None,
            items: self.items,
        }
    }

    /// Mastodon's `Link` header: `next` with `max_id`, `prev` with `min_id`, other parameters
    /// of `base` kept. Omitted when there is no id to link with.
    pub fn links(&self, base: &str) -> LinkHeader {
        const IDS: [&str; 3] = ["max_id", "since_id", "min_id"];
        let mut header = LinkHeader::new();
        if let Some(id) = &self.next_max_id {
            header = header.with(
                "next",
                with_params(base, &IDS, &[("max_id", &id.to_string())]),
            );
        }
        if let Some(id) = &self.prev_min_id {
            header = header.with(
                "prev",
                with_params(base, &IDS, &[("min_id", &id.to_string())]),
            );
        }
        header
    }
}
