//! Wire shapes and the other strategies: Relay, Link headers, Stripe lists, offset, id windows.

use keel_pagination::keyset::{Direction, memory};
use keel_pagination::link::{LinkHeader, page_links, with_params};
use keel_pagination::offset::{OffsetPolicy, OffsetRequest};
use keel_pagination::relay::RelayArgs;
use keel_pagination::shapes::StripeList;
use keel_pagination::since_id::IdRequest;
use keel_pagination::{
    CursorCodec, KeyRing, LimitPolicy, PageRequest, QueryKey, RequestError, SortSpec, SortValue,
    ValueKind,
};

fn setup() -> (CursorCodec, SortSpec, QueryKey) {
    let codec = CursorCodec::new(KeyRing::new(1, &[8u8; 32]).unwrap());
    let spec = SortSpec::builder()
        .tiebreaker("id", ValueKind::I64)
        .unwrap();
    let query = QueryKey::new("things", &spec);
    (codec, spec, query)
}

fn key(i: &i64) -> Vec<SortValue> {
    vec![SortValue::I64(*i)]
}

#[test]
fn relay_edges_resume_from_any_edge_both_ways() {
    let (codec, spec, query) = setup();
    let data: Vec<i64> = (1..=10).collect();
    let policy = LimitPolicy::default();
    let args = RelayArgs {
        first: Some(4),
        ..RelayArgs::default()
    };
    let seek = args
        .to_request()
        .unwrap()
        .seek(&codec, &query, &policy)
        .unwrap();
    let conn = memory::paginate(&data, &spec, &seek, key)
        .unwrap()
        .into_connection(&codec, &query)
        .unwrap();
    let nodes: Vec<i64> = conn.edges.iter().map(|e| e.node).collect();
    assert_eq!(nodes, [1, 2, 3, 4]);
    assert!(conn.page_info.has_next_page && !conn.page_info.has_previous_page);
    // `after` the second edge.
    let args = RelayArgs {
        first: Some(2),
        after: Some(conn.edges[1].cursor.clone()),
        ..RelayArgs::default()
    };
    let seek = args
        .to_request()
        .unwrap()
        .seek(&codec, &query, &policy)
        .unwrap();
    let w = memory::paginate(&data, &spec, &seek, key).unwrap();
    assert_eq!(w.items, [3, 4]);
    // `last: 2, before` the fourth edge.
    let args = RelayArgs {
        last: Some(2),
        before: Some(conn.edges[3].cursor.clone()),
        ..RelayArgs::default()
    };
    let seek = args
        .to_request()
        .unwrap()
        .seek(&codec, &query, &policy)
        .unwrap();
    assert_eq!(seek.direction, Direction::Backward);
    let w = memory::paginate(&data, &spec, &seek, key).unwrap();
    assert_eq!(w.items, [2, 3]);
    assert!(w.has_prev && w.has_next);
    // `last: 3` alone: the end of the list.
    let args = RelayArgs {
        last: Some(3),
        ..RelayArgs::default()
    };
    let seek = args
        .to_request()
        .unwrap()
        .seek(&codec, &query, &policy)
        .unwrap();
    assert_eq!(
        memory::paginate(&data, &spec, &seek, key).unwrap().items,
        [8, 9, 10]
    );
    // Wire names.
    let json = serde_json::to_value(&conn).unwrap();
    assert!(json["pageInfo"]["endCursor"].is_string());
    assert!(json["edges"][0]["cursor"].is_string());
    assert_eq!(
        RelayArgs {
            first: Some(1),
            last: Some(1),
            ..RelayArgs::default()
        }
        .to_request(),
        Err(RequestError::FirstAndLast)
    );
}

#[test]
fn link_header_matches_github_and_mastodon_forms_and_parses_them() {
    let (codec, spec, query) = setup();
    let data: Vec<i64> = (1..=10).collect();
    let seek = PageRequest::with_limit(3)
        .seek(&codec, &query, &LimitPolicy::default())
        .unwrap();
    let page = memory::paginate(&data, &spec, &seek, key)
        .unwrap()
        .into_page(&codec, &query)
        .unwrap();
    let h = page_links("https://api.example/things?limit=3&q=a%20b#frag", &page);
    let s = h.to_string();
    let next = page.next_cursor.unwrap();
    assert_eq!(
        s,
        format!("<https://api.example/things?limit=3&q=a%20b&after={next}>; rel=\"next\"")
    );
    // GitHub's header.
    let gh = LinkHeader::parse(
        r#"<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", <https://api.github.com/repositories/1300192/issues?page=4>; rel="next", <https://api.github.com/repositories/1300192/issues?page=515>; rel="last", <https://api.github.com/repositories/1300192/issues?page=1>; rel="first""#,
    );
    assert_eq!(
        gh.get("next"),
        Some("https://api.github.com/repositories/1300192/issues?page=4")
    );
    assert_eq!(
        gh.get("last"),
        Some("https://api.github.com/repositories/1300192/issues?page=515")
    );
    // Mastodon's.
    let m = LinkHeader::parse(
        r#"<https://mastodon.example/api/v1/timelines/home?max_id=109>; rel="next", <https://mastodon.example/api/v1/timelines/home?min_id=110>; rel="prev""#,
    );
    assert_eq!(
        m.get("prev"),
        Some("https://mastodon.example/api/v1/timelines/home?min_id=110")
    );
    // Garbage does not panic.
    for bad in ["", "<", ">;rel=", "<a>; rel", "<<>>", "<a>; rel=\"x y\""] {
        let _ = LinkHeader::parse(bad);
    }
    assert_eq!(
        with_params("/p?after=x&limit=2", &["after"], &[("before", "a b")]),
        "/p?limit=2&before=a%20b"
    );
}

#[test]
fn stripe_list_follows_direction_of_travel() {
    let (codec, spec, query) = setup();
    let data: Vec<i64> = (1..=5).collect();
    let seek = PageRequest::with_limit(2)
        .before("")
        .seek(&codec, &query, &LimitPolicy::default())
        .unwrap();
    let page = memory::paginate(&data, &spec, &seek, key)
        .unwrap()
        .into_page(&codec, &query)
        .unwrap();
    let list = StripeList::from_page(page.clone(), Direction::Backward);
    assert_eq!(list.data, [4, 5]);
    assert!(list.has_more);
    assert_eq!(list.next_cursor, page.prev_cursor);
    let json = serde_json::to_value(&list).unwrap();
    assert_eq!(json["object"], "list");
}

#[test]
fn offset_pages_and_their_documented_drawbacks() {
    let policy = OffsetPolicy::default();
    let mut rows: Vec<i64> = (1..=10).collect();
    let req = |page| OffsetRequest {
        page: Some(page),
        per_page: Some(4),
    };
    let p1 = req(1).seek(&policy).unwrap().slice(&rows);
    assert_eq!(p1.items, [1, 2, 3, 4]);
    assert_eq!((p1.prev_page, p1.next_page), (None, Some(2)));
    // A row inserted before the page boundary: page 2 repeats row 4 (the documented drawback).
    rows.insert(0, 0);
    let p2 = req(2).seek(&policy).unwrap().slice(&rows);
    assert_eq!(p2.items, [4, 5, 6, 7]);
    let p3 = req(3).seek(&policy).unwrap().slice(&rows);
    assert_eq!(p3.items, [8, 9, 10]);
    assert_eq!(p3.next_page, None);
    let shared = p2.clone().into_page();
    assert_eq!(shared.items, p2.items);
    assert_eq!(
        (shared.prev_cursor.as_deref(), shared.next_cursor.as_deref()),
        (Some("1"), Some("3"))
    );
    assert!(shared.has_next && shared.has_prev);
    // Page 0 is page 1; deep pages are refused.
    assert_eq!(req(0).seek(&policy).unwrap().page, 1);
    let deep = OffsetRequest {
        page: Some(u64::MAX),
        per_page: Some(100),
    };
    assert!(matches!(
        deep.seek(&policy),
        Err(RequestError::OffsetTooDeep { .. })
    ));
}

#[test]
fn id_windows_max_since_min() {
    let ids: Vec<u64> = (1..=20).collect();
    let policy = LimitPolicy::default();
    let page = |r: IdRequest<u64>| r.window(&policy).slice(&ids, |i| *i);
    let first = page(IdRequest {
        limit: Some(5),
        ..IdRequest::default()
    });
    assert_eq!(first.items, [20, 19, 18, 17, 16]);
    assert!(first.has_more);
    let older = page(IdRequest {
        max_id: first.next_max_id,
        limit: Some(5),
        ..IdRequest::default()
    });
    assert_eq!(older.items, [15, 14, 13, 12, 11]);
    let window = IdRequest {
        max_id: Some(16),
        limit: Some(5),
        ..IdRequest::default()
    }
    .window(&policy);
    let shared = window.slice(&ids, |i| *i).into_page(&window);
    assert_eq!(shared.next_cursor.as_deref(), Some("11"));
    assert_eq!(shared.prev_cursor.as_deref(), Some("15"));
    assert!(shared.has_next);
    // since_id: newest above 3, leaves a gap.
    let since = page(IdRequest {
        since_id: Some(3),
        limit: Some(2),
        ..IdRequest::default()
    });
    assert_eq!(since.items, [20, 19]);
    // min_id: immediately above 3, no gap, and wins over since_id.
    let min = page(IdRequest {
        since_id: Some(10),
        min_id: Some(3),
        limit: Some(2),
        ..IdRequest::default()
    });
    assert_eq!(min.items, [5, 4]);
    assert_eq!(min.prev_min_id, Some(5));
    // Polling at the top: empty, but the resume id is kept.
    let poll = page(IdRequest {
        min_id: Some(20),
        ..IdRequest::default()
    });
    assert!(poll.items.is_empty());
    assert_eq!(poll.prev_min_id, Some(20));
    let link = poll.links("https://m.example/api/v1/timelines/home?min_id=20&limit=5");
    assert_eq!(
        link.get("prev"),
        Some("https://m.example/api/v1/timelines/home?limit=5&min_id=20")
    );
    // Inverted bounds give an empty page, not a panic.
    let inverted = page(IdRequest {
        max_id: Some(3),
        since_id: Some(10),
        ..IdRequest::default()
    });
    assert!(inverted.items.is_empty());
}
