//! The concurrent-writes model shared by the memory and PostgreSQL traversal tests: rows, sort
//! specs, random write scripts, and the checker.

use std::collections::{BTreeMap, BTreeSet};

use keel_pagination::{Nulls, SortSpec, SortValue, ValueKind};
use proptest::prelude::*;

/// A row: a unique id, a low-cardinality `a` (many ties) and a nullable `b`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) id: i64,
    pub(crate) a: i64,
    pub(crate) b: Option<i64>,
}

/// The sorts every traversal is run with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sort {
    /// `a DESC, id DESC`: row-value predicate.
    Desc,
    /// `a ASC, id ASC`: row-value predicate.
    Asc,
    /// `a ASC, b DESC NULLS LAST, id DESC`: mixed directions and NULLs.
    Mixed,
    /// `b ASC NULLS FIRST, id ASC`.
    NullsFirst,
}

impl Sort {
    pub(crate) fn spec(self) -> SortSpec {
        let b = SortSpec::builder();
        match self {
            Sort::Desc => b.desc("a", ValueKind::I64),
            Sort::Asc => b.asc("a", ValueKind::I64),
            Sort::Mixed => {
                b.asc("a", ValueKind::I64)
                    .desc_nullable("b", ValueKind::I64, Nulls::Last)
            }
            Sort::NullsFirst => b.asc_nullable("b", ValueKind::I64, Nulls::First),
        }
        .tiebreaker("id", ValueKind::I64)
        .unwrap()
    }

    pub(crate) fn key(self) -> impl Fn(&Row) -> Vec<SortValue> + Copy {
        move |r: &Row| match self {
            Sort::Desc | Sort::Asc => vec![SortValue::I64(r.a), SortValue::I64(r.id)],
            Sort::Mixed => vec![
                SortValue::I64(r.a),
                SortValue::from(r.b),
                SortValue::I64(r.id),
            ],
            Sort::NullsFirst => vec![SortValue::from(r.b), SortValue::I64(r.id)],
        }
    }
}

/// One write between two pages.
#[derive(Debug, Clone)]
pub(crate) enum Write {
    Insert {
        a: i64,
        b: Option<i64>,
    },
    /// Deletes the n-th live row (modulo the count).
    Delete(usize),
}

pub(crate) fn sort_strategy() -> impl Strategy<Value = Sort> {
    prop_oneof![
        Just(Sort::Desc),
        Just(Sort::Asc),
        Just(Sort::Mixed),
        Just(Sort::NullsFirst)
    ]
}

fn row_values() -> impl Strategy<Value = (i64, Option<i64>)> {
    (0..5i64, proptest::option::of(0..4i64))
}

pub(crate) fn initial_strategy() -> impl Strategy<Value = Vec<(i64, Option<i64>)>> {
    proptest::collection::vec(row_values(), 0..40)
}

pub(crate) fn writes_strategy() -> impl Strategy<Value = Vec<Vec<Write>>> {
    let write = prop_oneof![
        row_values().prop_map(|(a, b)| Write::Insert { a, b }),
        any::<usize>().prop_map(Write::Delete),
    ];
    proptest::collection::vec(proptest::collection::vec(write, 0..4), 0..30)
}

/// Live rows and the history needed to check a traversal.
#[derive(Debug, Default)]
pub(crate) struct Model {
    pub(crate) live: BTreeMap<i64, Row>,
    pub(crate) initial: BTreeSet<i64>,
    pub(crate) deleted: BTreeSet<i64>,
    pub(crate) next_id: i64,
}

impl Model {
    pub(crate) fn new(initial: &[(i64, Option<i64>)]) -> Self {
        let mut m = Model {
            next_id: 1,
            ..Model::default()
        };
        for &(a, b) in initial {
            let r = m.insert(a, b);
            m.initial.insert(r.id);
        }
        m
    }

    pub(crate) fn insert(&mut self, a: i64, b: Option<i64>) -> Row {
        let row = Row {
            id: self.next_id,
            a,
            b,
        };
        self.next_id += 1;
        self.live.insert(row.id, row.clone());
        row
    }

    /// Applies one write to the model; returns what the backend must do.
    pub(crate) fn apply(&mut self, w: &Write) -> Option<Change> {
        match w {
            Write::Insert { a, b } => Some(Change::Insert(self.insert(*a, *b))),
            Write::Delete(n) if !self.live.is_empty() => {
                let id = *self.live.keys().nth(n % self.live.len())?;
                self.live.remove(&id);
                self.deleted.insert(id);
                Some(Change::Delete(id))
            }
            Write::Delete(_) => None,
        }
    }

    /// Checks a finished traversal whose rows are `seen`, flattened in sort order.
    pub(crate) fn check(&self, sort: Sort, seen: &[Row]) {
        let spec = sort.spec();
        let key = sort.key();
        let mut ids = BTreeSet::new();
        for r in seen {
            assert!(ids.insert(r.id), "row {} returned twice", r.id);
        }
        for pair in seen.windows(2) {
            assert_eq!(
                spec.compare(&key(&pair[0]), &key(&pair[1])),
                std::cmp::Ordering::Less,
                "out of order: {:?} then {:?}",
                pair[0],
                pair[1]
            );
        }
        for id in self.initial.difference(&self.deleted) {
            assert!(
                ids.contains(id),
                "row {id} existed throughout but was skipped"
            );
        }
    }
}

/// A write for the backend under test (the memory traversal works on the model directly).
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
#[derive(Debug, Clone)]
pub(crate) enum Change {
    Insert(Row),
    Delete(i64),
}
