//! Errors: [`KeysetError`] (sort specs and positions), [`RequestError`] (page requests), and
//! [`PageError`], the one a handler matches on. Cursor errors are in [`crate::cursor`].
//!
//! Every error a client can cause maps to HTTP 400 ([`PageError::is_client_error`]); none panics.

use thiserror::Error;

use crate::cursor::{CursorError, KeyError};
use crate::value::ValueKind;

/// A sort spec or a position that does not fit it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeysetError {
    /// A field name is not a plain SQL identifier. Field names are spliced into SQL, so only
    /// `[A-Za-z_][A-Za-z0-9_]*` (optionally `table.column`) is accepted.
    #[error(
        "sort field name {name:?} is not a plain SQL identifier: use letters, digits and `_` (optionally `table.column`)"
    )]
    InvalidIdentifier {
        /// The rejected name.
        name: String,
    },
    /// The same field appears twice in a spec.
    #[error(
        "sort field {name:?} appears twice: list each field once (the tiebreaker is appended for you)"
    )]
    DuplicateField {
        /// The repeated name.
        name: String,
    },
    /// More fields than [`crate::MAX_SORT_FIELDS`].
    #[error("sort has {count} fields, more than the {max} allowed: sort by fewer fields")]
    TooManyFields {
        /// Fields in the spec.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A row or position has a different number of values than the spec has fields.
    #[error("expected {expected} sort values (one per field, tiebreaker included), got {got}")]
    WrongArity {
        /// Fields in the spec.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A value's kind differs from its field's kind.
    #[error(
        "sort field {field:?} holds {expected} values but got a {got}: return the field's own type from the key function"
    )]
    WrongKind {
        /// The field.
        field: String,
        /// Its declared kind.
        expected: ValueKind,
        /// The kind found.
        got: ValueKind,
    },
    /// A NULL in a field declared NOT NULL. Declare it with `asc_nullable`/`desc_nullable` and
    /// choose where NULLs go, or keep NULLs out of the column.
    #[error(
        "sort field {field:?} is not nullable but a row has NULL there: declare it with asc_nullable/desc_nullable and choose where NULLs go"
    )]
    UnexpectedNull {
        /// The field.
        field: String,
    },
}

/// A page request that cannot be served as sent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Both `after` and `before` were given.
    #[error("a page request may carry `after` or `before`, not both: send only one cursor")]
    BothCursors,
    /// Relay `first` and `last` together.
    #[error("send `first` (with `after`) or `last` (with `before`), not both")]
    FirstAndLast,
    /// An offset page deeper than the server allows.
    #[error(
        "page {page} starts at row {offset}, deeper than the {max} allowed: narrow the filter or use cursor pagination"
    )]
    OffsetTooDeep {
        /// The page asked for.
        page: u64,
        /// Its first row.
        offset: u64,
        /// The deepest offset allowed.
        max: u64,
    },
    /// A limit policy whose default is zero or above its maximum.
    #[error("limit policy default {default} must be between 1 and the maximum {max}")]
    InvalidLimitPolicy {
        /// The default limit.
        default: u32,
        /// The maximum limit.
        max: u32,
    },
}

impl RequestError {
    /// Whether the client caused this error (answer 400); a bad limit policy is the server's.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, RequestError::InvalidLimitPolicy { .. })
    }
}

/// Any pagination error: what a handler matches on and maps to an HTTP status.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PageError {
    /// The client's cursor was rejected (400).
    #[error(transparent)]
    Cursor(#[from] CursorError),
    /// The request was malformed (400), or the limit policy was misconfigured (500).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The sort spec or the rows did not fit (a server bug: 500).
    #[error(transparent)]
    Keyset(#[from] KeysetError),
    /// The key ring was misconfigured (500).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The database failed (500).
    #[cfg(feature = "postgres")]
    #[error("database error while paginating: {0}")]
    Database(#[from] sqlx::Error),
}

impl PageError {
    /// Whether the client caused this error (answer 400) rather than the server (answer 500).
    pub fn is_client_error(&self) -> bool {
        match self {
            PageError::Cursor(e) => e.is_client_error(),
            PageError::Request(e) => e.is_client_error(),
            _ => false,
        }
    }

    /// The HTTP status a server should answer: 400 for client errors, 500 otherwise.
    pub fn http_status(&self) -> u16 {
        if self.is_client_error() { 400 } else { 500 }
    }
}
