//! Wire shapes of one [`Page`]: Stripe-style lists (`{object, data, has_more}`) and id
//! parameters (`starting_after` / `ending_before`). Relay connections are in
//! [`crate::relay`], `Link` headers in [`crate::link`].
//!
//! ```
//! use keel_pagination::Page;
//! use keel_pagination::keyset::Direction;
//! use keel_pagination::shapes::{IdParams, StripeList};
//! let page = Page::<(u32, &str)> {
//!     items: vec![(7, "a"), (8, "b")],
//!     next_cursor: Some("n".into()), prev_cursor: Some("p".into()),
//!     has_next: true, has_prev: false, total: None,
//! };
//! let ids = IdParams::from_page(&page, |item| item.0.to_string());
//! assert_eq!(ids.starting_after.as_deref(), Some("8"));
//! let list = StripeList::from_page(page, Direction::Forward);
//! assert_eq!(serde_json::to_value(&list)?["has_more"], true);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::keyset::Direction;
use crate::page::Page;

/// A Stripe-style list: `{"object": "list", "data": [...], "has_more": true, ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StripeList<T> {
    /// Always `"list"`.
    pub object: String,
    /// The items.
    pub data: Vec<T>,
    /// Whether more items follow in the direction the client is reading.
    pub has_more: bool,
    /// The cursor that continues in that direction (our addition: opaque and signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> StripeList<T> {
    /// The list for a page read in `direction`: `has_more` and `next_cursor` follow the
    /// direction of travel (Stripe's `ending_before` lists are read backward).
    pub fn from_page(page: Page<T>, direction: Direction) -> Self {
        let (has_more, next_cursor) = match direction {
            Direction::Forward => (page.has_next, page.next_cursor),
            Direction::Backward => (page.has_prev, page.prev_cursor),
        };
        Self {
            object: "list".to_owned(),
            data: page.items,
            has_more,
            next_cursor,
        }
    }
}

/// Stripe-style id parameters: the ids of the boundary items, which a client sends back as
/// `starting_after` (read on) or `ending_before` (read back).
///
/// A server receiving them must load the anchor row by id to learn its sort values; when that
/// row was deleted the id no longer resolves. Signed cursors carry the sort values themselves
/// and do not have that weakness: prefer them for new APIs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdParams {
    /// The last item's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_after: Option<String>,
    /// The first item's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending_before: Option<String>,
}

impl IdParams {
    /// The boundary ids of `page` (both `None` for an empty page).
    pub fn from_page<T>(page: &Page<T>, id: impl Fn(&T) -> String) -> Self {
        Self {
            starting_after: page.items.last().map(&id),
            ending_before: page.items.first().map(&id),
        }
    }
}
