//! Keyset pagination in PostgreSQL (feature `postgres`): SQL built with sqlx's `QueryBuilder`,
//! every value bound as a parameter, never spliced into the SQL text.
//!
//! For a page after position `P` the query is
//!
//! ```sql
//! SELECT <columns>, <sort fields> FROM <table>
//! WHERE (<filter>) AND (<position predicate>)
//! ORDER BY <sort fields in reading order> LIMIT <limit + 1>
//! ```
//!
//! The extra row says whether more follow. The position predicate takes one of two forms:
//!
//! - **Row values** when every field reads in the same direction and none is nullable:
//!   `(created_at, id) < ($1, $2)`. PostgreSQL turns it into a single index range bound.
//! - **Expanded** otherwise (mixed directions, nullable fields):
//!   `a >= $1 AND (a > $1 OR (b < $2 OR ...))`, with NULL placement handled per field. The
//!   leading `a >= $1` still bounds an index scan.
//!
//! A page before `P` reverses every direction (and NULL placement), reads the same way, and
//! flips the rows back. `has_prev` (forward) and `has_next` (backward) come from the same
//! statement: a scalar subquery `(SELECT 1 ... ORDER BY ... LIMIT 1)` on the same index, which
//! PostgreSQL evaluates once. Only an empty page needs a second query
//! ([`PgKeyset::exists_query`]); pass `&mut *tx` if that one must share the page's snapshot.
//!
//! Identifiers (table, sort fields) are validated as plain SQL identifiers; the `columns` list
//! and the filter are SQL written by the developer and must never contain client input except
//! through `push_bind`.
//!
//! Text sort fields compare in the column's collation in PostgreSQL and by bytes in memory: the
//! two agree when the column uses `COLLATE "C"`.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use super::{Direction, Position, Seek, Window, assemble};
use crate::error::{KeysetError, PageError};
use crate::page::{CountPolicy, Total};
use crate::sort::{Nulls, Order, SortField, SortSpec, is_identifier};
use crate::value::{SortValue, ValueKind};

/// A filter: pushes a boolean SQL expression (binding every value), or nothing for none.
pub trait Filter: Fn(&mut QueryBuilder<'static, Postgres>) {}
impl<F: Fn(&mut QueryBuilder<'static, Postgres>)> Filter for F {}

/// No filter: every row of the table.
pub fn no_filter(_: &mut QueryBuilder<'static, Postgres>) {}

/// Keyset queries over one table (or view) and one sort.
///
/// ```no_run
/// # async fn demo(conn: &mut sqlx::PgConnection) -> Result<(), Box<dyn std::error::Error>> {
/// use keel_pagination::keyset::{Seek, postgres::PgKeyset};
/// use keel_pagination::{SortSpec, ValueKind};
/// use sqlx::Row;
///
/// let spec = SortSpec::builder().desc("created_at", ValueKind::I64).tiebreaker("id", ValueKind::I64)?;
/// let posts = PgKeyset::new("posts", "id, body", spec)?;
/// let author = 42_i64;
/// let window = posts
///     .fetch(conn, &Seek::first(20), |qb| { qb.push("author_id = ").push_bind(author); },
///            |row| row.try_get::<String, _>("body"))
///     .await?;
/// # let _ = window;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PgKeyset {
    table: String,
    columns: String,
    spec: SortSpec,
}

/// One field as read in a given direction.
#[derive(Clone, Copy)]
struct Reading<'a> {
    name: &'a str,
    order: Order,
    nulls: Option<Nulls>,
}

impl PgKeyset {
    /// Keyset queries on `table`, selecting `columns` (developer-written SQL, e.g. `"id, body"`;
    /// the sort fields are selected as well, under aliases `__keel_k0`, `__keel_k1`, ...).
    ///
    /// # Errors
    /// [`KeysetError::InvalidIdentifier`] when `table` is not a plain identifier.
    pub fn new(table: &str, columns: &str, spec: SortSpec) -> Result<Self, KeysetError> {
        if !is_identifier(table) {
            return Err(KeysetError::InvalidIdentifier {
                name: table.to_owned(),
            });
        }
        Ok(Self {
            table: table.to_owned(),
            columns: columns.to_owned(),
            spec,
        })
    }

    /// The sort.
    pub fn spec(&self) -> &SortSpec {
        &self.spec
    }

    fn readings(&self, direction: Direction) -> Vec<Reading<'_>> {
        self.spec
            .fields()
            .iter()
            .map(|f: &SortField| match direction {
                Direction::Forward => Reading {
                    name: f.name(),
                    order: f.order(),
                    nulls: f.nulls(),
                },
                Direction::Backward => Reading {
                    name: f.name(),
                    order: f.order().reversed(),
                    nulls: f.nulls().map(Nulls::reversed),
                },
            })
            .collect()
    }

    /// Appends the predicate "rows a read in `direction` from `position` returns" (`TRUE` for an
    /// edge), binding every value.
    ///
    /// # Errors
    /// A [`KeysetError`] when the position does not fit the sort.
    pub fn push_predicate(
        &self,
        qb: &mut QueryBuilder<'static, Postgres>,
        direction: Direction,
        position: &Position,
    ) -> Result<(), KeysetError> {
        self.spec.check_position(position)?;
        if position.is_edge() {
            qb.push("TRUE");
            return Ok(());
        }
        let readings = self.readings(direction);
        let values = position.values();
        let uniform = readings
            .iter()
            .all(|r| r.nulls.is_none() && Some(r.order) == readings.first().map(|f| f.order));
        if uniform {
            let op = match (readings.first().map(|r| r.order), position.is_inclusive()) {
                (Some(Order::Desc), false) => " < ",
                (Some(Order::Desc), true) => " <= ",
                (_, false) => " > ",
                (_, true) => " >= ",
            };
            qb.push("(");
            for (i, r) in readings.iter().enumerate() {
                if i > 0 {
                    qb.push(", ");
                }
                qb.push(r.name);
            }
            qb.push(")").push(op).push("(");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    qb.push(", ");
                }
                push_value(qb, v);
            }
            qb.push(")");
        } else {
            push_expanded(qb, &readings, values, position.is_inclusive());
        }
        Ok(())
    }

    /// Appends `ORDER BY ...` for reading in `direction`.
    pub fn push_order_by(&self, qb: &mut QueryBuilder<'static, Postgres>, direction: Direction) {
        qb.push(" ORDER BY ");
        for (i, r) in self.readings(direction).iter().enumerate() {
            if i > 0 {
                qb.push(", ");
            }
            qb.push(r.name).push(" ").push(r.order.sql());
            if let Some(n) = r.nulls {
                qb.push(" ").push(n.sql());
            }
        }
    }

    /// The page query for `seek`: filter, position predicate, order, `LIMIT limit + 1`.
    ///
    /// # Errors
    /// A [`KeysetError`] when the position does not fit the sort.
    pub fn page_query(
        &self,
        seek: &Seek,
        filter: &impl Filter,
    ) -> Result<QueryBuilder<'static, Postgres>, KeysetError> {
        self.page_query_with_probe(seek, filter, false)
    }

    /// The page query; with `probe`, one more column `__keel_beyond` (an uncorrelated scalar
    /// subquery, which PostgreSQL runs once as an InitPlan) that is non-NULL when rows exist
    /// on the far side of the seek position: `has_prev` for a forward page, `has_next` for a
    /// backward one, answered in the same statement and snapshot as the page.
    fn page_query_with_probe(
        &self,
        seek: &Seek,
        filter: &impl Filter,
        probe: bool,
    ) -> Result<QueryBuilder<'static, Postgres>, KeysetError> {
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(&self.columns);
        for (i, f) in self.spec.fields().iter().enumerate() {
            qb.push(", ").push(f.name()).push(" AS __keel_k").push(i);
        }
        if probe && !seek.position.is_edge() {
            // Rows before the first row of a forward page are exactly the rows a backward read
            // from the anchor returns, with the anchor's inclusivity flipped (same snapshot).
            let far_side = flip(&seek.position);
            qb.push(", (SELECT 1 FROM ").push(&self.table);
            self.push_where(&mut qb, filter, opposite(seek.direction), &far_side)?;
            self.push_order_by(&mut qb, opposite(seek.direction));
            qb.push(" LIMIT 1) AS __keel_beyond");
        }
        qb.push(" FROM ").push(&self.table);
        self.push_where(&mut qb, filter, seek.direction, &seek.position)?;
        self.push_order_by(&mut qb, seek.direction);
        let limit = i64::try_from(seek.limit.saturating_add(1)).unwrap_or(i64::MAX);
        qb.push(" LIMIT ").push_bind(limit);
        Ok(qb)
    }

    fn push_where(
        &self,
        qb: &mut QueryBuilder<'static, Postgres>,
        filter: &impl Filter,
        direction: Direction,
        position: &Position,
    ) -> Result<(), KeysetError> {
        qb.push(" WHERE (");
        let before = qb.sql().len();
        filter(qb);
        if qb.sql().len() == before {
            qb.push("TRUE");
        }
        qb.push(") AND (");
        self.push_predicate(qb, direction, position)?;
        qb.push(")");
        Ok(())
    }

    /// A query returning one row exactly when a read in `direction` from `position` would
    /// return rows: `SELECT 1 ... ORDER BY <reading order> LIMIT 1`.
    ///
    /// Not `SELECT EXISTS (...)`: under a generic prepared plan PostgreSQL may answer `EXISTS`
    /// with a sequential scan (its estimate says a match comes soon), which reads the whole
    /// table when nothing matches (at the first page, every time). The `ORDER BY ... LIMIT 1`
    /// form is always an index scan that stops at the first row.
    ///
    /// # Errors
    /// A [`KeysetError`] when the position does not fit the sort.
    pub fn exists_query(
        &self,
        direction: Direction,
        position: &Position,
        filter: &impl Filter,
    ) -> Result<QueryBuilder<'static, Postgres>, KeysetError> {
        let mut qb = QueryBuilder::new("SELECT 1 FROM ");
        qb.push(&self.table);
        self.push_where(&mut qb, filter, direction, position)?;
        self.push_order_by(&mut qb, direction);
        qb.push(" LIMIT 1");
        Ok(qb)
    }

    /// Fetches one page: the rows (mapped by `map`), their positions, both resume positions
    /// and both `has_*` flags. One statement (`LIMIT n + 1`, with the far-side probe as a
    /// subquery); a second, index-only probe only when the page is empty.
    ///
    /// # Errors
    /// [`PageError::Database`] when a query fails or a sort column has another type than its
    /// [`ValueKind`]; [`PageError::Keyset`] when a position or a row does not fit the sort
    /// (e.g. a NULL in a field not declared nullable).
    pub async fn fetch<T>(
        &self,
        conn: &mut PgConnection,
        seek: &Seek,
        filter: impl Filter,
        map: impl Fn(&PgRow) -> Result<T, sqlx::Error>,
    ) -> Result<Window<T>, PageError> {
        let mut qb = self.page_query_with_probe(seek, &filter, true)?;
        let rows = qb.build().fetch_all(&mut *conn).await?;
        // From an edge nothing lies beyond; otherwise the first row carries the probe.
        let beyond = if seek.position.is_edge() {
            Some(false)
        } else {
            match rows.first() {
                Some(row) => Some(row.try_get::<Option<i32>, _>("__keel_beyond")?.is_some()),
                None => None,
            }
        };
        let mut fetched = Vec::with_capacity(rows.len());
        for row in &rows {
            let values = self.row_values(row)?;
            self.spec.check_values(&values)?;
            fetched.push((map(row)?, values));
        }
        let mut probe = None;
        let mut window = assemble(seek, fetched, |pos| {
            probe = Some(pos.clone());
            beyond.unwrap_or(false)
        });
        // An empty page has no row to carry the probe: ask separately (the rarer case).
        if let (None, Some(pos)) = (beyond, probe) {
            let mut qb = self.exists_query(opposite(seek.direction), &pos, &filter)?;
            let exists = qb.build().fetch_optional(&mut *conn).await?.is_some();
            match seek.direction {
                Direction::Forward => window.has_prev = exists,
                Direction::Backward => window.has_next = exists,
            }
        }
        Ok(window)
    }

    fn row_values(&self, row: &PgRow) -> Result<Vec<SortValue>, sqlx::Error> {
        let mut values = Vec::with_capacity(self.spec.fields().len());
        for (i, f) in self.spec.fields().iter().enumerate() {
            let col = format!("__keel_k{i}");
            let col = col.as_str();
            values.push(match f.kind() {
                ValueKind::Bool => row.try_get::<Option<bool>, _>(col)?.into(),
                ValueKind::I64 => row.try_get::<Option<i64>, _>(col)?.into(),
                ValueKind::F64 => row.try_get::<Option<f64>, _>(col)?.into(),
                ValueKind::Text => row.try_get::<Option<String>, _>(col)?.into(),
                ValueKind::Bytes => row.try_get::<Option<Vec<u8>>, _>(col)?.into(),
                ValueKind::Uuid => row.try_get::<Option<uuid::Uuid>, _>(col)?.into(),
            });
        }
        Ok(values)
    }

    /// Counts the filtered rows under `policy`: nothing, `count(*)`, the planner's estimate
    /// (`EXPLAIN`, no scan), or a count stopped at the cap ("1000+").
    ///
    /// # Errors
    /// [`PageError::Database`] when the query fails.
    pub async fn count(
        &self,
        conn: &mut PgConnection,
        filter: impl Filter,
        policy: CountPolicy,
    ) -> Result<Option<Total>, PageError> {
        let mut qb = QueryBuilder::new("");
        let filtered = |qb: &mut QueryBuilder<'static, Postgres>| -> Result<(), KeysetError> {
            qb.push("SELECT 1 FROM ").push(&self.table);
            self.push_where(qb, &filter, Direction::Forward, &Position::edge())
        };
        match policy {
            CountPolicy::None => return Ok(None),
            CountPolicy::Exact => {
                qb.push("SELECT count(*) FROM (");
                filtered(&mut qb)?;
                qb.push(") s");
            }
            CountPolicy::Capped(cap) => {
                qb.push("SELECT count(*) FROM (");
                filtered(&mut qb)?;
                let limit = i64::try_from(cap.saturating_add(1)).unwrap_or(i64::MAX);
                qb.push(" LIMIT ").push_bind(limit).push(") s");
            }
            CountPolicy::Estimated => {
                qb.push("EXPLAIN (FORMAT JSON) ");
                filtered(&mut qb)?;
                let plan: serde_json::Value = qb.build().fetch_one(&mut *conn).await?.try_get(0)?;
                let rows = plan
                    .pointer("/0/Plan/Plan Rows")
                    .and_then(serde_json::Value::as_f64)
                    .unwrap_or(0.0);
                // A planner estimate is a non-negative float; round it to a count.
                let rows = if rows.is_finite() && rows > 0.0 {
                    rows.round() as u64
                } else {
                    0
                };
                return Ok(Some(Total::Estimated(rows)));
            }
        }
        let n: i64 = qb.build().fetch_one(&mut *conn).await?.try_get(0)?;
        let n = u64::try_from(n).unwrap_or(0);
        Ok(policy.apply(n))
    }
}

fn opposite(direction: Direction) -> Direction {
    match direction {
        Direction::Forward => Direction::Backward,
        Direction::Backward => Direction::Forward,
    }
}

fn flip(position: &Position) -> Position {
    Position::from_parts(position.values().to_vec(), !position.is_inclusive())
}

fn push_value(qb: &mut QueryBuilder<'static, Postgres>, v: &SortValue) {
    match v {
        // NULLs never reach here: the predicate builders handle them structurally.
        SortValue::Null => qb.push("NULL"),
        SortValue::Bool(b) => qb.push_bind(*b),
        SortValue::I64(i) => qb.push_bind(*i),
        SortValue::F64(f) => qb.push_bind(*f),
        SortValue::Text(s) => qb.push_bind(s.clone()),
        SortValue::Bytes(b) => qb.push_bind(b.clone()),
        SortValue::Uuid(u) => qb.push_bind(*u),
    };
}

/// `ge(0) AND (gt(0) OR (ge(1) AND (gt(1) OR ... gt(last))))`; the last field uses `ge` when
/// the position is inclusive.
fn push_expanded(
    qb: &mut QueryBuilder<'static, Postgres>,
    readings: &[Reading<'_>],
    values: &[SortValue],
    inclusive: bool,
) {
    let pairs: Vec<(&Reading<'_>, &SortValue)> = readings.iter().zip(values).collect();
    let n = pairs.len();
    for (i, (r, v)) in pairs.iter().enumerate() {
        if i + 1 == n {
            push_cmp(qb, r, v, inclusive);
        } else {
            qb.push("(");
            push_cmp(qb, r, v, true);
            qb.push(" AND (");
            push_cmp(qb, r, v, false);
            qb.push(" OR ");
        }
    }
    for _ in 1..n {
        qb.push("))");
    }
}

/// "`r` is after `v` in reading order" (`or_equal`: at or after), NULL placement included.
fn push_cmp(
    qb: &mut QueryBuilder<'static, Postgres>,
    r: &Reading<'_>,
    v: &SortValue,
    or_equal: bool,
) {
    let op = match (r.order, or_equal) {
        (Order::Asc, false) => " > ",
        (Order::Asc, true) => " >= ",
        (Order::Desc, false) => " < ",
        (Order::Desc, true) => " <= ",
    };
    match (r.nulls, v.is_null(), or_equal) {
        // NOT NULL field, or NULLs first and a value: NULLs (before it) fail the comparison.
        (None | Some(Nulls::First), false, _) => {
            qb.push(r.name).push(op);
            push_value(qb, v);
        }
        (Some(Nulls::Last), false, _) => {
            qb.push("(").push(r.name).push(op);
            push_value(qb, v);
            qb.push(" OR ").push(r.name).push(" IS NULL)");
        }
        // Nothing sorts after a last NULL. (A NULL in a NOT NULL field cannot pass
        // `check_position`; it matches nothing too.)
        (Some(Nulls::Last) | None, true, false) | (None, true, true) => {
            qb.push("FALSE");
        }
        (Some(Nulls::Last), true, true) => {
            qb.push(r.name).push(" IS NULL");
        }
        (Some(Nulls::First), true, false) => {
            qb.push(r.name).push(" IS NOT NULL");
        }
        (Some(Nulls::First), true, true) => {
            qb.push("TRUE");
        }
    }
}
