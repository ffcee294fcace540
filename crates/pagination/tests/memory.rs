//! The in-memory keyset backend: pages, edges, cursors, and traversals under concurrent writes.

use keel_pagination::keyset::{Direction, Seek, Window, memory};
use keel_pagination::{
    CursorCodec, KeyRing, KeysetError, LimitPolicy, PageRequest, Position, QueryKey, SortSpec,
    SortValue, ValueKind,
};
use proptest::prelude::*;

use crate::traversal::{
    Change, Model, Row, Sort, initial_strategy, sort_strategy, writes_strategy,
};

fn sorted(model: &Model, sort: Sort) -> Vec<Row> {
    let mut rows: Vec<Row> = model.live.values().cloned().collect();
    sort.spec().sort_by_key(&mut rows, sort.key());
    rows
}

fn ids(w: &Window<Row>) -> Vec<i64> {
    w.items.iter().map(|r| r.id).collect()
}

fn rows(n: i64) -> Model {
    let initial: Vec<(i64, Option<i64>)> = (0..n).map(|i| (i / 3, None)).collect();
    Model::new(&initial)
}

#[test]
fn first_middle_last_and_backward_pages() {
    let sort = Sort::Asc;
    let (spec, key) = (sort.spec(), sort.key());
    let data = sorted(&rows(7), sort);
    let p1 = memory::paginate(&data, &spec, &Seek::first(3), key).unwrap();
    assert_eq!(ids(&p1), [1, 2, 3]);
    assert!(p1.has_next && !p1.has_prev);
    let p2 = memory::paginate(&data, &spec, &seek(Direction::Forward, &p1.next, 3), key).unwrap();
    assert_eq!(ids(&p2), [4, 5, 6]);
    assert!(p2.has_next && p2.has_prev);
    let p3 = memory::paginate(&data, &spec, &seek(Direction::Forward, &p2.next, 3), key).unwrap();
    assert_eq!(ids(&p3), [7]);
    assert!(!p3.has_next && p3.has_prev);
    // Back from the third page's prev cursor is the second page again.
    let back =
        memory::paginate(&data, &spec, &seek(Direction::Backward, &p3.prev, 3), key).unwrap();
    assert_eq!(ids(&back), [4, 5, 6]);
    assert!(back.has_next && back.has_prev);
    // The last page, read from the end.
    let last = memory::paginate(&data, &spec, &Seek::last(3), key).unwrap();
    assert_eq!(ids(&last), [5, 6, 7]);
    assert!(!last.has_next && last.has_prev);
}

fn seek(direction: Direction, position: &Position, limit: usize) -> Seek {
    Seek {
        direction,
        position: position.clone(),
        limit,
    }
}

#[test]
fn empty_collection_gives_resume_cursors_both_ways() {
    let sort = Sort::Desc;
    let w = memory::paginate(&[], &sort.spec(), &Seek::first(10), sort.key()).unwrap();
    assert!(w.items.is_empty() && !w.has_next && !w.has_prev);
    assert!(w.next.is_edge() && w.prev.is_edge());
    // Rows arrive; the resume cursor of the empty page finds them.
    let data = sorted(&rows(2), sort);
    let later = memory::paginate(
        &data,
        &sort.spec(),
        &seek(Direction::Forward, &w.next, 10),
        sort.key(),
    )
    .unwrap();
    assert_eq!(later.items.len(), 2);
}

#[test]
fn polling_at_the_end_finds_new_rows_and_keeps_has_prev() {
    let sort = Sort::Asc;
    let (spec, key) = (sort.spec(), sort.key());
    let mut model = rows(4);
    let data = sorted(&model, sort);
    let p = memory::paginate(&data, &spec, &Seek::first(10), key).unwrap();
    assert_eq!(p.items.len(), 4);
    assert!(!p.has_next);
    // Poll: nothing new. The empty page keeps its anchor and knows rows precede it.
    let empty =
        memory::paginate(&data, &spec, &seek(Direction::Forward, &p.next, 10), key).unwrap();
    assert!(empty.items.is_empty() && !empty.has_next && empty.has_prev);
    assert_eq!(empty.next, p.next);
    // Its prev cursor includes the anchor row: reading back returns the last rows again.
    let back = memory::paginate(
        &data,
        &spec,
        &seek(Direction::Backward, &empty.prev, 2),
        key,
    )
    .unwrap();
    assert_eq!(ids(&back), [3, 4]);
    // A new row sorts after the anchor: the same resume cursor finds it.
    model.insert(10, None);
    let data = sorted(&model, sort);
    let newer = memory::paginate(
        &data,
        &spec,
        &seek(Direction::Forward, &empty.next, 10),
        key,
    )
    .unwrap();
    assert_eq!(ids(&newer), [5]);
}

#[test]
fn deleted_anchor_does_not_break_continuation() {
    let sort = Sort::Desc;
    let (spec, key) = (sort.spec(), sort.key());
    let mut model = rows(9);
    let data = sorted(&model, sort);
    let p1 = memory::paginate(&data, &spec, &Seek::first(4), key).unwrap();
    let anchor = p1.items.last().unwrap().id;
    model.live.remove(&anchor);
    let data = sorted(&model, sort);
    let p2 = memory::paginate(&data, &spec, &seek(Direction::Forward, &p1.next, 4), key).unwrap();
    let expected: Vec<i64> = sorted(&rows(9), sort)
        .iter()
        .skip(4)
        .take(4)
        .map(|r| r.id)
        .collect();
    assert_eq!(ids(&p2), expected);
}

#[test]
fn null_in_a_not_null_field_is_an_error_not_a_panic() {
    let spec = SortSpec::builder()
        .asc("a", ValueKind::I64)
        .tiebreaker("id", ValueKind::I64)
        .unwrap();
    let data = vec![Row {
        id: 1,
        a: 0,
        b: None,
    }];
    let key = |r: &Row| vec![SortValue::from(r.b), SortValue::I64(r.id)];
    let e = memory::paginate(&data, &spec, &Seek::first(5), key).unwrap_err();
    assert!(matches!(e, KeysetError::UnexpectedNull { .. }), "{e:?}");
    // A cursor position of the wrong shape is refused too.
    let bad = seek(
        Direction::Forward,
        &Position::after(vec![SortValue::I64(1)]),
        5,
    );
    assert!(matches!(
        memory::paginate(&data, &spec, &bad, |r: &Row| vec![
            SortValue::I64(r.a),
            SortValue::I64(r.id)
        ]),
        Err(KeysetError::WrongArity { .. })
    ));
}

#[test]
fn bad_identifiers_are_refused() {
    for name in ["a;drop", "", "1a", "a.b.c", "a b", "\"x\""] {
        assert!(
            matches!(
                SortSpec::builder()
                    .asc(name, ValueKind::I64)
                    .tiebreaker("id", ValueKind::I64),
                Err(KeysetError::InvalidIdentifier { .. })
            ),
            "{name:?}"
        );
    }
    assert!(matches!(
        SortSpec::builder()
            .asc("id", ValueKind::I64)
            .tiebreaker("id", ValueKind::I64),
        Err(KeysetError::DuplicateField { .. })
    ));
    assert!(
        SortSpec::builder()
            .asc("p.created_at", ValueKind::I64)
            .tiebreaker("p.id", ValueKind::I64)
            .is_ok()
    );
}

#[test]
fn request_clamps_limit_and_refuses_two_cursors() {
    let codec = CursorCodec::new(KeyRing::new(1, &[3u8; 32]).unwrap());
    let spec = Sort::Asc.spec();
    let query = QueryKey::new("rows", &spec);
    let policy = LimitPolicy::new(10, 50).unwrap();
    let s = PageRequest::with_limit(1_000_000)
        .seek(&codec, &query, &policy)
        .unwrap();
    assert_eq!(s.limit, 50);
    assert_eq!(
        PageRequest::with_limit(0)
            .seek(&codec, &query, &policy)
            .unwrap()
            .limit,
        1
    );
    assert_eq!(
        PageRequest::first()
            .seek(&codec, &query, &policy)
            .unwrap()
            .limit,
        10
    );
    let both = PageRequest {
        limit: None,
        after: Some("a".into()),
        before: Some("b".into()),
    };
    let e = both.seek(&codec, &query, &policy).unwrap_err();
    assert_eq!(e.http_status(), 400);
    let e = PageRequest::first()
        .after("garbage!")
        .seek(&codec, &query, &policy)
        .unwrap_err();
    assert_eq!(e.http_status(), 400);
    assert!(LimitPolicy::new(0, 10).is_err() && LimitPolicy::new(11, 10).is_err());
    // From query parameters.
    let r: PageRequest = serde_json::from_str(r#"{"limit": 5}"#).unwrap();
    assert_eq!(r.limit, Some(5));
}

/// Runs a full traversal with writes between pages; returns the rows seen in sort order.
fn traverse(
    model: &mut Model,
    sort: Sort,
    direction: Direction,
    limit: usize,
    writes: &[Vec<crate::traversal::Write>],
) -> Vec<Row> {
    let (spec, key) = (sort.spec(), sort.key());
    let codec = CursorCodec::new(KeyRing::new(1, &[5u8; 32]).unwrap());
    let query = QueryKey::new("rows", &spec);
    let policy = LimitPolicy::new(limit as u32, 100).unwrap();
    let mut request = PageRequest::first();
    if direction == Direction::Backward {
        request = request.before(String::new());
    }
    let mut pages: Vec<Vec<Row>> = Vec::new();
    for step in 0..500 {
        let s = request.seek(&codec, &query, &policy).unwrap();
        assert_eq!(s.direction, direction);
        let data = sorted(model, sort);
        let page = memory::paginate(&data, &spec, &s, key)
            .unwrap()
            .into_page(&codec, &query)
            .unwrap();
        pages.push(page.items.clone());
        let more = match direction {
            Direction::Forward => page.has_next,
            Direction::Backward => page.has_prev,
        };
        if let Some(batch) = writes.get(step) {
            for w in batch {
                let _: Option<Change> = model.apply(w);
            }
        }
        if !more {
            break;
        }
        request = match direction {
            Direction::Forward => PageRequest::first().after(page.next_cursor.unwrap()),
            Direction::Backward => PageRequest::first().before(page.prev_cursor.unwrap()),
        };
    }
    if direction == Direction::Backward {
        pages.reverse();
    }
    pages.concat()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn forward_traversal_under_writes_never_skips_or_repeats(
        sort in sort_strategy(), initial in initial_strategy(), writes in writes_strategy(), limit in 1usize..6,
    ) {
        let mut model = Model::new(&initial);
        let seen = traverse(&mut model, sort, Direction::Forward, limit, &writes);
        model.check(sort, &seen);
    }

    #[test]
    fn backward_traversal_under_writes_never_skips_or_repeats(
        sort in sort_strategy(), initial in initial_strategy(), writes in writes_strategy(), limit in 1usize..6,
    ) {
        let mut model = Model::new(&initial);
        let seen = traverse(&mut model, sort, Direction::Backward, limit, &writes);
        model.check(sort, &seen);
    }

    /// The flags and resume positions against a brute-force scan, from any position (rows that
    /// exist, rows that were deleted, edges; inclusive or not) in both directions.
    #[test]
    fn flags_match_a_brute_force_scan(
        sort in sort_strategy(), initial in initial_strategy(), limit in 1usize..6,
        anchor in (0..5i64, proptest::option::of(0..4i64), 0..50i64), inclusive: bool,
        edge: bool, backward: bool,
    ) {
        let model = Model::new(&initial);
        let data = sorted(&model, sort);
        let (spec, key) = (sort.spec(), sort.key());
        let values = key(&Row { id: anchor.2, a: anchor.0, b: anchor.1 });
        let position = match (edge, inclusive) {
            (true, _) => Position::edge(),
            (false, true) => Position::at(values),
            (false, false) => Position::after(values),
        };
        let direction = if backward { Direction::Backward } else { Direction::Forward };
        let w = memory::paginate(&data, &spec, &seek(direction, &position, limit), key).unwrap();
        // Rows a read from `p` in `d` would return, by linear scan.
        let reads = |d: Direction, p: &Position| -> Vec<i64> {
            data.iter().filter(|r| {
                if p.is_edge() { return true; }
                let o = spec.compare(&key(r), p.values());
                match (d, o) {
                    (_, std::cmp::Ordering::Equal) => p.is_inclusive(),
                    (Direction::Forward, o) => o == std::cmp::Ordering::Greater,
                    (Direction::Backward, o) => o == std::cmp::Ordering::Less,
                }
            }).map(|r| r.id).collect()
        };
        let all = reads(direction, &position);
        let expected: Vec<i64> = match direction {
            Direction::Forward => all.iter().take(limit).copied().collect(),
            Direction::Backward => all[all.len().saturating_sub(limit)..].to_vec(),
        };
        prop_assert_eq!(ids(&w), expected);
        prop_assert_eq!(w.has_next, !reads(Direction::Forward, &w.next).is_empty());
        prop_assert_eq!(w.has_prev, !reads(Direction::Backward, &w.prev).is_empty());
        // Together the page and its two resume reads cover every row exactly once.
        let mut covered = reads(Direction::Backward, &w.prev);
        covered.extend(ids(&w));
        covered.extend(reads(Direction::Forward, &w.next));
        prop_assert_eq!(covered, data.iter().map(|r| r.id).collect::<Vec<_>>());
    }

    #[test]
    fn without_writes_a_traversal_returns_exactly_the_rows_in_order(
        sort in sort_strategy(), initial in initial_strategy(), limit in 1usize..6, backward: bool,
    ) {
        let mut model = Model::new(&initial);
        let direction = if backward { Direction::Backward } else { Direction::Forward };
        let seen = traverse(&mut model, sort, direction, limit, &[]);
        prop_assert_eq!(seen, sorted(&model, sort));
    }
}
