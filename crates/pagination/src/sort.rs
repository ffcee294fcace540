//! Sort specifications: [`SortSpec`] (one or more [`SortField`]s plus a unique tiebreaker),
//! [`Order`] and [`Nulls`].
//!
//! A keyset position is only well defined when the sort is total, so every spec ends with a
//! unique tiebreaker (usually the primary key), appended by [`SortSpecBuilder::tiebreaker`].
//! Rows with equal sort values are then ordered by id, and a page boundary that falls among them
//! never skips or repeats a row.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::error::KeysetError;
use crate::keyset::Position;
use crate::value::{SortValue, ValueKind};

/// The most sort fields a spec may have, tiebreaker included.
pub const MAX_SORT_FIELDS: usize = 8;

/// Direction of one sort field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

impl Order {
    /// The opposite direction.
    #[must_use]
    pub const fn reversed(self) -> Self {
        match self {
            Order::Asc => Order::Desc,
            Order::Desc => Order::Asc,
        }
    }

    /// `ASC` or `DESC`.
    pub const fn sql(self) -> &'static str {
        match self {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        }
    }
}

/// Where NULLs go in a nullable sort field, regardless of its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nulls {
    /// NULLs come before every value (`NULLS FIRST`).
    First,
    /// NULLs come after every value (`NULLS LAST`).
    Last,
}

impl Nulls {
    /// The opposite placement.
    #[must_use]
    pub const fn reversed(self) -> Self {
        match self {
            Nulls::First => Nulls::Last,
            Nulls::Last => Nulls::First,
        }
    }

    /// `NULLS FIRST` or `NULLS LAST`.
    pub const fn sql(self) -> &'static str {
        match self {
            Nulls::First => "NULLS FIRST",
            Nulls::Last => "NULLS LAST",
        }
    }
}

/// One field of a sort: a column name, its value kind, its direction, and (only for nullable
/// fields) where NULLs go.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SortField {
    name: String,
    kind: ValueKind,
    order: Order,
    nulls: Option<Nulls>,
}

impl SortField {
    /// The column name (a plain or `table.column` SQL identifier).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The value kind every position value of this field must have.
    pub fn kind(&self) -> ValueKind {
        self.kind
    }
    /// The direction.
    pub fn order(&self) -> Order {
        self.order
    }
    /// `Some` for a nullable field: where its NULLs go. `None`: the field is NOT NULL, and a NULL
    /// value is an error.
    pub fn nulls(&self) -> Option<Nulls> {
        self.nulls
    }

    /// Compares two values of this field in output order (direction and NULL placement applied).
    pub fn compare(&self, a: &SortValue, b: &SortValue) -> Ordering {
        let nulls_first = matches!(self.nulls, Some(Nulls::First));
        match (a.is_null(), b.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) if nulls_first => Ordering::Less,
            (true, false) => Ordering::Greater,
            (false, true) if nulls_first => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => match self.order {
                Order::Asc => a.cmp_asc(b),
                Order::Desc => a.cmp_asc(b).reverse(),
            },
        }
    }
}

/// A total sort order: user fields, then a unique tiebreaker. Build one with
/// [`SortSpec::builder`].
///
/// ```
/// use keel_pagination::{SortSpec, ValueKind, Nulls};
/// let spec = SortSpec::builder()
///     .desc("created_at", ValueKind::I64)
///     .asc_nullable("rank", ValueKind::F64, Nulls::Last)
///     .tiebreaker("id", ValueKind::Uuid)?;
/// assert_eq!(spec.fields().len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SortSpec {
    fields: Vec<SortField>,
}

/// Builds a [`SortSpec`]; finish with [`tiebreaker`](SortSpecBuilder::tiebreaker).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct SortSpecBuilder {
    fields: Vec<SortField>,
}

impl SortSpecBuilder {
    fn push(mut self, name: &str, kind: ValueKind, order: Order, nulls: Option<Nulls>) -> Self {
        self.fields.push(SortField {
            name: name.to_owned(),
            kind,
            order,
            nulls,
        });
        self
    }

    /// Adds a NOT NULL field, smallest first.
    pub fn asc(self, name: &str, kind: ValueKind) -> Self {
        self.push(name, kind, Order::Asc, None)
    }

    /// Adds a NOT NULL field, largest first.
    pub fn desc(self, name: &str, kind: ValueKind) -> Self {
        self.push(name, kind, Order::Desc, None)
    }

    /// Adds a nullable field, smallest first, with NULLs where `nulls` says.
    pub fn asc_nullable(self, name: &str, kind: ValueKind, nulls: Nulls) -> Self {
        self.push(name, kind, Order::Asc, Some(nulls))
    }

    /// Adds a nullable field, largest first, with NULLs where `nulls` says.
    pub fn desc_nullable(self, name: &str, kind: ValueKind, nulls: Nulls) -> Self {
        self.push(name, kind, Order::Desc, Some(nulls))
    }

    /// Appends the unique, NOT NULL tiebreaker (usually the primary key) in the direction of the
    /// last field (ascending when it is the only field), and validates the spec.
    ///
    /// # Errors
    /// [`KeysetError::InvalidIdentifier`], [`KeysetError::DuplicateField`] or
    /// [`KeysetError::TooManyFields`].
    pub fn tiebreaker(self, name: &str, kind: ValueKind) -> Result<SortSpec, KeysetError> {
        let order = self.fields.last().map_or(Order::Asc, |f| f.order);
        self.tiebreaker_with_order(name, kind, order)
    }

    /// Appends the unique tiebreaker in an explicit direction, and validates the spec.
    ///
    /// # Errors
    /// As [`tiebreaker`](Self::tiebreaker).
    pub fn tiebreaker_with_order(
        self,
        name: &str,
        kind: ValueKind,
        order: Order,
    ) -> Result<SortSpec, KeysetError> {
        let fields = self.push(name, kind, order, None).fields;
        if fields.len() > MAX_SORT_FIELDS {
            return Err(KeysetError::TooManyFields {
                count: fields.len(),
                max: MAX_SORT_FIELDS,
            });
        }
        for (i, f) in fields.iter().enumerate() {
            if !is_identifier(&f.name) {
                return Err(KeysetError::InvalidIdentifier {
                    name: f.name.clone(),
                });
            }
            if fields.iter().take(i).any(|g| g.name == f.name) {
                return Err(KeysetError::DuplicateField {
                    name: f.name.clone(),
                });
            }
        }
        Ok(SortSpec { fields })
    }
}

/// `ident` or `qualifier.ident`, each part `[A-Za-z_][A-Za-z0-9_]*`, at most 63 bytes a part.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut parts = 0;
    for part in name.split('.') {
        parts += 1;
        let mut chars = part.chars();
        let ok_first = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !ok_first || part.len() > 63 || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return false;
        }
    }
    parts <= 2
}

impl SortSpec {
    /// Starts a spec.
    pub fn builder() -> SortSpecBuilder {
        SortSpecBuilder::default()
    }

    /// The fields in order, tiebreaker last.
    pub fn fields(&self) -> &[SortField] {
        &self.fields
    }

    /// The tiebreaker (the last field).
    pub fn tiebreaker(&self) -> Option<&SortField> {
        self.fields.last()
    }

    /// Compares two rows' sort values in output order. Both slices must have one value per field
    /// (as [`check_values`](Self::check_values) ensures); extra values are ignored.
    pub fn compare(&self, a: &[SortValue], b: &[SortValue]) -> Ordering {
        for ((field, x), y) in self.fields.iter().zip(a).zip(b) {
            let o = field.compare(x, y);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// Sorts `items` into this spec's order, reading each item's values with `key`.
    pub fn sort_by_key<T>(&self, items: &mut [T], key: impl Fn(&T) -> Vec<SortValue>) {
        items.sort_by_cached_key(|item| SortKey {
            spec: self,
            values: key(item),
        });
    }

    /// Checks that a row's values fit this spec: one per field, of the field's kind, NULL only
    /// in nullable fields.
    ///
    /// # Errors
    /// [`KeysetError::WrongArity`], [`KeysetError::WrongKind`] or [`KeysetError::UnexpectedNull`].
    pub fn check_values(&self, values: &[SortValue]) -> Result<(), KeysetError> {
        if values.len() != self.fields.len() {
            return Err(KeysetError::WrongArity {
                expected: self.fields.len(),
                got: values.len(),
            });
        }
        for (field, value) in self.fields.iter().zip(values) {
            match value.kind() {
                None if field.nulls.is_none() => {
                    return Err(KeysetError::UnexpectedNull {
                        field: field.name.clone(),
                    });
                }
                Some(kind) if kind != field.kind => {
                    return Err(KeysetError::WrongKind {
                        field: field.name.clone(),
                        expected: field.kind,
                        got: kind,
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks a position against this spec: an edge, or values that pass
    /// [`check_values`](Self::check_values).
    ///
    /// # Errors
    /// As [`check_values`](Self::check_values).
    pub fn check_position(&self, position: &Position) -> Result<(), KeysetError> {
        if position.is_edge() {
            Ok(())
        } else {
            self.check_values(position.values())
        }
    }

    /// A canonical byte description (names, kinds, directions, NULL placement), hashed into the
    /// query fingerprint.
    pub(crate) fn canonical_bytes(&self, out: &mut Vec<u8>) {
        for f in &self.fields {
            out.extend_from_slice(f.name.as_bytes());
            out.push(0);
            out.push(f.kind.tag());
            out.push(match f.order {
                Order::Asc => b'a',
                Order::Desc => b'd',
            });
            out.push(match f.nulls {
                None => b'n',
                Some(Nulls::First) => b'f',
                Some(Nulls::Last) => b'l',
            });
        }
    }
}

struct SortKey<'a> {
    spec: &'a SortSpec,
    values: Vec<SortValue>,
}

impl PartialEq for SortKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for SortKey<'_> {}
impl PartialOrd for SortKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SortKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.spec.compare(&self.values, &other.values)
    }
}
