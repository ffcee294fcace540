//! Sort values: [`SortValue`], one column's value in a keyset position, and its [`ValueKind`].

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The type of a sort field, checked against every value a cursor carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ValueKind {
    /// `bool` (PostgreSQL `boolean`).
    Bool,
    /// `i64` (PostgreSQL `bigint`; also timestamps stored as microseconds).
    I64,
    /// `f64` (PostgreSQL `double precision`), ordered by [`f64::total_cmp`].
    F64,
    /// UTF-8 text (PostgreSQL `text` with the `"C"` collation, i.e. byte order).
    Text,
    /// Raw bytes (PostgreSQL `bytea`).
    Bytes,
    /// A UUID (PostgreSQL `uuid`), ordered by its bytes.
    Uuid,
}

impl ValueKind {
    /// The one-byte tag used in the cursor encoding and the query fingerprint.
    pub(crate) const fn tag(self) -> u8 {
        match self {
            ValueKind::Bool => 1,
            ValueKind::I64 => 2,
            ValueKind::F64 => 3,
            ValueKind::Text => 4,
            ValueKind::Bytes => 5,
            ValueKind::Uuid => 6,
        }
    }

    /// The kind for a tag, if any.
    pub(crate) const fn from_tag(tag: u8) -> Option<Self> {
        Some(match tag {
            1 => ValueKind::Bool,
            2 => ValueKind::I64,
            3 => ValueKind::F64,
            4 => ValueKind::Text,
            5 => ValueKind::Bytes,
            6 => ValueKind::Uuid,
            _ => return None,
        })
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueKind::Bool => "bool",
            ValueKind::I64 => "i64",
            ValueKind::F64 => "f64",
            ValueKind::Text => "text",
            ValueKind::Bytes => "bytes",
            ValueKind::Uuid => "uuid",
        })
    }
}

/// One sort field's value for one row: what a keyset position and a cursor are made of.
///
/// `Null` is only accepted in fields declared nullable (with a chosen NULL placement).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SortValue {
    /// SQL `NULL`: allowed only in nullable sort fields.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit signed integer.
    I64(i64),
    /// A 64-bit float.
    F64(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A UUID.
    Uuid(Uuid),
}

impl SortValue {
    /// The kind of this value, `None` for [`SortValue::Null`].
    pub fn kind(&self) -> Option<ValueKind> {
        Some(match self {
            SortValue::Null => return None,
            SortValue::Bool(_) => ValueKind::Bool,
            SortValue::I64(_) => ValueKind::I64,
            SortValue::F64(_) => ValueKind::F64,
            SortValue::Text(_) => ValueKind::Text,
            SortValue::Bytes(_) => ValueKind::Bytes,
            SortValue::Uuid(_) => ValueKind::Uuid,
        })
    }

    /// Whether this is [`SortValue::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, SortValue::Null)
    }

    /// Compares two non-null values of the same kind in ascending order.
    ///
    /// Values of different kinds (which validated positions never contain) order by kind so the
    /// comparison stays total; NULL placement is the sort field's business, not this function's
    /// (NULL orders first here).
    pub fn cmp_asc(&self, other: &SortValue) -> Ordering {
        match (self, other) {
            (SortValue::Bool(a), SortValue::Bool(b)) => a.cmp(b),
            (SortValue::I64(a), SortValue::I64(b)) => a.cmp(b),
            (SortValue::F64(a), SortValue::F64(b)) => a.total_cmp(b),
            (SortValue::Text(a), SortValue::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (SortValue::Bytes(a), SortValue::Bytes(b)) => a.cmp(b),
            (SortValue::Uuid(a), SortValue::Uuid(b)) => a.as_bytes().cmp(b.as_bytes()),
            (a, b) => {
                let rank = |v: &SortValue| v.kind().map_or(0, ValueKind::tag);
                rank(a).cmp(&rank(b))
            }
        }
    }
}

impl From<bool> for SortValue {
    fn from(v: bool) -> Self {
        SortValue::Bool(v)
    }
}
impl From<i64> for SortValue {
    fn from(v: i64) -> Self {
        SortValue::I64(v)
    }
}
impl From<i32> for SortValue {
    fn from(v: i32) -> Self {
        SortValue::I64(i64::from(v))
    }
}
impl From<u32> for SortValue {
    fn from(v: u32) -> Self {
        SortValue::I64(i64::from(v))
    }
}
impl From<f64> for SortValue {
    fn from(v: f64) -> Self {
        SortValue::F64(v)
    }
}
impl From<String> for SortValue {
    fn from(v: String) -> Self {
        SortValue::Text(v)
    }
}
impl From<&str> for SortValue {
    fn from(v: &str) -> Self {
        SortValue::Text(v.to_owned())
    }
}
impl From<Vec<u8>> for SortValue {
    fn from(v: Vec<u8>) -> Self {
        SortValue::Bytes(v)
    }
}
impl From<Uuid> for SortValue {
    fn from(v: Uuid) -> Self {
        SortValue::Uuid(v)
    }
}
impl<T: Into<SortValue>> From<Option<T>> for SortValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SortValue::Null, Into::into)
    }
}
