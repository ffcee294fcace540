//! Timeline pages with keel-pagination's signed cursors.

use keel_feed::{FeedError, Strategy, UserId};
use keel_pagination::{CursorCodec, KeyRing, LimitPolicy, PageRequest};

use crate::common::{Fx, config, memory, post};

#[tokio::test]
async fn signed_cursors_scroll_past_the_cap_and_reject_tampering() {
    let fx = Fx::new(memory().await.unwrap(), config(Strategy::Push, 4));
    fx.page(2, 10).await;
    fx.follow(2, 1).await;
    for i in 0..10 {
        fx.publish(post(100 + i, 1, i)).await;
    }
    let codec = CursorCodec::new(KeyRing::new(1, &[9u8; 32]).unwrap());
    let policy = LimitPolicy::new(3, 50).unwrap();
    let mut ids = Vec::new();
    let mut req = PageRequest::first();
    let mut pages = 0;
    loop {
        let p = fx
            .engine
            .read_page(UserId(2), &req, &codec, &policy)
            .await
            .unwrap();
        assert!(!p.regenerating);
        assert_eq!(p.page.has_prev, pages > 0);
        pages += 1;
        ids.extend(p.page.items.iter().map(|e| e.post().0));
        match p.page.next_cursor {
            Some(c) => req = PageRequest::first().after(c),
            None => break,
        }
    }
    assert_eq!(ids, (100..110).rev().collect::<Vec<_>>());
    assert_eq!(pages, 4);

    let first = fx
        .engine
        .read_page(UserId(2), &PageRequest::first(), &codec, &policy)
        .await
        .unwrap();
    let cursor = first.page.next_cursor.unwrap();
    // Another reader's timeline rejects the cursor.
    let err = fx
        .engine
        .read_page(
            UserId(1),
            &PageRequest::first().after(cursor.clone()),
            &codec,
            &policy,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, FeedError::Page(ref e) if e.is_client_error()),
        "{err}"
    );
    // A tampered cursor is rejected.
    let mut bad = cursor.clone();
    bad.replace_range(5..6, if &cursor[5..6] == "A" { "B" } else { "A" });
    let err = fx
        .engine
        .read_page(UserId(2), &PageRequest::first().after(bad), &codec, &policy)
        .await
        .unwrap_err();
    assert!(matches!(err, FeedError::Page(_)), "{err}");
    // Backward reads are refused with a clear error.
    let err = fx
        .engine
        .read_page(
            UserId(2),
            &PageRequest::first().before(cursor),
            &codec,
            &policy,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FeedError::InvalidCursor(_)), "{err}");
}

#[tokio::test]
async fn cursors_carry_whole_uuid_post_ids() {
    let fx = Fx::new(memory().await.unwrap(), config(Strategy::Push, 100));
    let reader = 0x0190_0d2c_7a3b_7c00_8000_0000_0000_0002u128;
    let author = 0x0190_0d2c_7a3b_7c00_8000_0000_0000_0001u128;
    fx.page(reader, 10).await;
    fx.follow(reader, author).await;
    // UUIDv7-like post ids, all in one millisecond with one sequence: only the id orders them.
    let base = 0x0190_0d2c_7a3b_7c00_9000_0000_0000_0000u128;
    let ids: Vec<u128> = (0..5).map(|i| base + (i << 10)).collect();
    for &id in &ids {
        fx.publish(post(id, author, 5)).await;
    }
    let codec = CursorCodec::new(KeyRing::new(1, &[3u8; 32]).unwrap());
    let policy = LimitPolicy::new(2, 50).unwrap();
    let mut got = Vec::new();
    let mut req = PageRequest::first();
    loop {
        let p = fx
            .engine
            .read_page(UserId(reader), &req, &codec, &policy)
            .await
            .unwrap();
        got.extend(p.page.items.iter().map(|e| e.post().0));
        match p.page.next_cursor {
            Some(c) => req = PageRequest::first().after(c),
            None => break,
        }
    }
    assert_eq!(got, ids.iter().rev().copied().collect::<Vec<_>>());
}
