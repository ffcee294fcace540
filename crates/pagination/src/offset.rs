//! Offset pagination (`?page=3&per_page=50`) for admin screens that need page numbers.
//!
//! # Drawbacks (why the rest of this crate uses keysets)
//!
//! - **Slow at depth.** `OFFSET n` makes the database produce and discard `n` rows: page 20,000
//!   of 50 reads a million rows (see the `pagination/postgres_depth` benchmark: orders of
//!   magnitude slower than a keyset page at the same depth). [`OffsetPolicy::max_offset`]
//!   bounds that cost; deeper requests get [`RequestError::OffsetTooDeep`].
//! - **Skips and repeats under writes.** A row inserted before the current page shifts every
//!   later row by one, so the next page repeats a row; a deleted row makes it skip one.
//! - **Counts cost a scan** when the UI shows "page 3 of 120" ([`CountPolicy`](crate::CountPolicy)
//!   `Capped` bounds it).
//!
//! Use it only where users jump to page numbers over small, mostly stable results.
//!
//! ```
//! use keel_pagination::offset::{OffsetPolicy, OffsetRequest};
//! let policy = OffsetPolicy::default();
//! let seek = OffsetRequest { page: Some(2), per_page: Some(3) }.seek(&policy)?;
//! let rows: Vec<u32> = (0..10).collect();
//! let page = seek.slice(&rows);
//! assert_eq!(page.items, vec![3, 4, 5]);
//! assert_eq!((page.prev_page, page.next_page), (Some(1), Some(3)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::error::RequestError;
use crate::page::Page;
use crate::request::LimitPolicy;

/// Limits for offset requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetPolicy {
    /// Page sizes.
    pub limits: LimitPolicy,
    /// The deepest first row a page may start at (default 10,000).
    pub max_offset: u64,
}

impl Default for OffsetPolicy {
    fn default() -> Self {
        Self {
            limits: LimitPolicy::default(),
            max_offset: 10_000,
        }
    }
}

/// What a client sends: a 1-based page number and a page size, both optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetRequest {
    /// 1-based page number; absent or 0 means 1.
    #[serde(default)]
    pub page: Option<u64>,
    /// Rows per page; clamped by the policy.
    #[serde(default)]
    pub per_page: Option<u32>,
}

/// A checked offset request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetSeek {
    /// 1-based page number.
    pub page: u64,
    /// Rows per page.
    pub per_page: usize,
    /// Rows to skip: `(page - 1) * per_page`.
    pub offset: u64,
}

/// One page of an offset listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetPage<T> {
    /// The rows.
    pub items: Vec<T>,
    /// This page's number (1-based).
    pub page: u64,
    /// Rows per page.
    pub per_page: usize,
    /// The previous page number, if any.
    pub prev_page: Option<u64>,
    /// The next page number, when rows follow.
    pub next_page: Option<u64>,
}

impl<T> OffsetPage<T> {
    /// The shared [`Page`] shape: the cursors are the neighbouring page numbers as text (send
    /// back as `page`), the flags say whether those pages exist.
    pub fn into_page(self) -> Page<T> {
        Page {
            has_next: self.next_page.is_some(),
            has_prev: self.prev_page.is_some(),
            next_cursor: self.next_page.map(|n| n.to_string()),
            prev_cursor: self.prev_page.map(|n| n.to_string()),
            total: None,
            items: self.items,
        }
    }
}

impl OffsetRequest {
    /// Clamps the page size and checks the depth.
    ///
    /// # Errors
    /// [`RequestError::OffsetTooDeep`] when the page starts beyond `policy.max_offset` (400).
    pub fn seek(&self, policy: &OffsetPolicy) -> Result<OffsetSeek, RequestError> {
        let per_page = policy.limits.clamp(self.per_page);
        let page = self.page.unwrap_or(1).max(1);
        let offset = (page - 1).saturating_mul(per_page as u64);
        if offset > policy.max_offset {
            return Err(RequestError::OffsetTooDeep {
                page,
                offset,
                max: policy.max_offset,
            });
        }
        Ok(OffsetSeek {
            page,
            per_page,
            offset,
        })
    }
}

impl OffsetSeek {
    /// Rows to fetch: one more than the page, to learn whether another follows.
    pub fn fetch_limit(&self) -> usize {
        self.per_page.saturating_add(1)
    }

    /// The page from rows fetched with `OFFSET offset LIMIT fetch_limit()`.
    pub fn finish<T>(&self, mut rows: Vec<T>) -> OffsetPage<T> {
        let more = rows.len() > self.per_page;
        rows.truncate(self.per_page);
        OffsetPage {
            items: rows,
            page: self.page,
            per_page: self.per_page,
            prev_page: (self.page > 1).then(|| self.page - 1),
            next_page: more.then(|| self.page.saturating_add(1)),
        }
    }

    /// The page of an in-memory, already sorted slice.
    pub fn slice<T: Clone>(&self, rows: &[T]) -> OffsetPage<T> {
        let start = usize::try_from(self.offset)
            .unwrap_or(usize::MAX)
            .min(rows.len());
        let end = start.saturating_add(self.fetch_limit()).min(rows.len());
        self.finish(rows.get(start..end).unwrap_or_default().to_vec())
    }

    /// Appends ` LIMIT $n OFFSET $m` (both bound) to a PostgreSQL query.
    #[cfg(feature = "postgres")]
    pub fn push_limit_offset(&self, qb: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>) {
        let limit = i64::try_from(self.fetch_limit()).unwrap_or(i64::MAX);
        let offset = i64::try_from(self.offset).unwrap_or(i64::MAX);
        qb.push(" LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
    }
}
