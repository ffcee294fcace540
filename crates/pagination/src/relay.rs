//! Relay cursor connections (GraphQL Cursor Connections spec) as serde types: [`Connection`],
//! [`Edge`], [`PageInfo`], and the [`RelayArgs`] (`first`/`after`, `last`/`before`) a resolver
//! receives.
//!
//! ```
//! use keel_pagination::keyset::{memory, Seek};
//! use keel_pagination::relay::RelayArgs;
//! use keel_pagination::{CursorCodec, KeyRing, LimitPolicy, QueryKey, SortSpec, SortValue, ValueKind};
//!
//! let codec = CursorCodec::new(KeyRing::new(1, &[5u8; 32])?);
//! let spec = SortSpec::builder().tiebreaker("id", ValueKind::I64)?;
//! let query = QueryKey::new("users", &spec);
//! let ids: Vec<i64> = (1..=10).collect();
//! let args = RelayArgs { first: Some(3), ..RelayArgs::default() };
//! let seek = args.to_request()?.seek(&codec, &query, &LimitPolicy::default())?;
//! let conn = memory::paginate(&ids, &spec, &seek, |i| vec![SortValue::I64(*i)])?
//!     .into_connection(&codec, &query)?;
//! assert_eq!(conn.edges.len(), 3);
//! assert!(conn.page_info.has_next_page);
//! let json = serde_json::to_value(&conn)?;
//! assert_eq!(json["pageInfo"]["hasNextPage"], true);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::cursor::{CursorCodec, CursorError, QueryKey};
use crate::error::RequestError;
use crate::keyset::{Position, Window};
use crate::request::PageRequest;

/// A Relay connection: edges and page info (camelCase on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection<T> {
    /// One edge per item, in sort order.
    pub edges: Vec<Edge<T>>,
    /// Where this page sits.
    pub page_info: PageInfo,
    /// The total, when counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
}

/// An item and the cursor that points at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge<T> {
    /// The item.
    pub node: T,
    /// Use as `after` for the items after this one, as `before` for those before.
    pub cursor: String,
}

/// Relay page info (camelCase on the wire).
///
/// Unlike the minimum the spec requires, `startCursor` and `endCursor` are set on empty pages
/// too (they resume from where the page was read), and both `has*Page` flags are computed in
/// either direction of travel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    /// Whether items follow `endCursor`.
    pub has_next_page: bool,
    /// Whether items precede `startCursor`.
    pub has_previous_page: bool,
    /// Pass as `before` to read back.
    pub start_cursor: Option<String>,
    /// Pass as `after` to read on.
    pub end_cursor: Option<String>,
}

/// The connection arguments of a Relay field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayArgs {
    /// Items after `after` (forward).
    #[serde(default)]
    pub first: Option<u32>,
    /// Forward from this cursor.
    #[serde(default)]
    pub after: Option<String>,
    /// Items before `before` (backward).
    #[serde(default)]
    pub last: Option<u32>,
    /// Backward from this cursor.
    #[serde(default)]
    pub before: Option<String>,
}

impl RelayArgs {
    /// The equivalent [`PageRequest`]: `first`/`after` read forward, `last`/`before` backward.
    ///
    /// # Errors
    /// [`RequestError::BothCursors`] for `after` with `before`, and
    /// [`RequestError::FirstAndLast`] for `first` with `last` (the spec discourages both; this
    /// crate refuses them rather than guess).
    pub fn to_request(&self) -> Result<PageRequest, RequestError> {
        if self.first.is_some() && self.last.is_some() {
            return Err(RequestError::FirstAndLast);
        }
        if self.after.is_some() && self.before.is_some() {
            return Err(RequestError::BothCursors);
        }
        let backward = self.last.is_some() || self.before.is_some();
        Ok(PageRequest {
            limit: self.first.or(self.last),
            after: if backward { None } else { self.after.clone() },
            // `last` without `before`: the last items, read backward from the end.
            before: if backward {
                Some(self.before.clone().unwrap_or_default())
            } else {
                None
            },
        })
    }
}

impl<T> Window<T> {
    /// Signs a cursor for every edge and both resume cursors, as a Relay connection.
    ///
    /// # Errors
    /// [`CursorError::PositionTooLarge`] when a sort value is too long for a cursor.
    pub fn into_connection(
        self,
        codec: &CursorCodec,
        query: &QueryKey,
    ) -> Result<Connection<T>, CursorError> {
        let mut edges = Vec::with_capacity(self.items.len());
        for (node, values) in self.items.into_iter().zip(self.item_values) {
            let cursor = codec.encode(query, &Position::after(values))?;
            edges.push(Edge { node, cursor });
        }
        Ok(Connection {
            edges,
            page_info: PageInfo {
                has_next_page: self.has_next,
                has_previous_page: self.has_prev,
                start_cursor: Some(codec.encode(query, &self.prev)?),
                end_cursor: Some(codec.encode(query, &self.next)?),
            },
            total_count: self.total.map(crate::page::Total::value),
        })
    }
}
