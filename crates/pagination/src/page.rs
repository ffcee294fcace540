//! [`Page`], the one page type every strategy returns, and the count it may carry
//! ([`CountPolicy`], [`Total`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// One page of items with its resume cursors.
///
/// Keyset pages always carry both cursors, even when short or empty, so a client can resume (or
/// poll for newer rows) from where it stopped; `has_next`/`has_prev` say whether rows are there
/// now. Serializes as `{items, next_cursor, prev_cursor, has_next, has_prev, total?}`; for other
/// wire shapes see [`crate::shapes`], [`crate::relay`] and [`crate::link`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, in sort order.
    pub items: Vec<T>,
    /// Pass as `after` to read on.
    pub next_cursor: Option<String>,
    /// Pass as `before` to read back.
    pub prev_cursor: Option<String>,
    /// Whether items follow this page now.
    pub has_next: bool,
    /// Whether items precede this page now.
    pub has_prev: bool,
    /// How many items the whole query has, when the count policy asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Total>,
}

impl<T> Page<T> {
    /// Maps the items, keeping cursors and flags.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            prev_cursor: self.prev_cursor,
            has_next: self.has_next,
            has_prev: self.has_prev,
            total: self.total,
        }
    }

    /// Whether the page holds no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// How (and whether) to count the whole result, chosen per query: counting is the expensive
/// part of many list endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountPolicy {
    /// No count (the default, and the right one for feeds).
    #[default]
    None,
    /// An exact count (PostgreSQL: `count(*)`, a scan of every matching row).
    Exact,
    /// The planner's estimate (PostgreSQL: the row estimate of `EXPLAIN`; cheap, approximate).
    Estimated,
    /// Count up to a cap, then say "at least" ("1000+"): bounded cost.
    Capped(u64),
}

impl CountPolicy {
    /// The total for a result of `exact` rows under this policy (what in-memory backends use;
    /// `Estimated` is exact there).
    pub fn apply(self, exact: u64) -> Option<Total> {
        match self {
            CountPolicy::None => None,
            CountPolicy::Capped(cap) if exact > cap => Some(Total::AtLeast(cap)),
            CountPolicy::Exact | CountPolicy::Estimated | CountPolicy::Capped(_) => {
                Some(Total::Exact(exact))
            }
        }
    }
}

/// A count of the whole result. Displays as `1234`, `~1200` or `1000+`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Total {
    /// Exactly this many.
    Exact(u64),
    /// About this many (a planner estimate).
    Estimated(u64),
    /// More than this many (a capped count).
    AtLeast(u64),
}

impl Total {
    /// The number, whatever its precision.
    pub fn value(self) -> u64 {
        match self {
            Total::Exact(n) | Total::Estimated(n) | Total::AtLeast(n) => n,
        }
    }
}

impl fmt::Display for Total {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Total::Exact(n) => write!(f, "{n}"),
            Total::Estimated(n) => write!(f, "~{n}"),
            Total::AtLeast(n) => write!(f, "{n}+"),
        }
    }
}
