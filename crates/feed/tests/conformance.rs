//! The timeline-store conformance suite, run against every store.

use std::sync::Arc;

use keel_feed::score::MAX_SCORE;
use keel_feed::{
    DeliverOptions, Delivery, Position, PostId, Score, TimelineEntry, TimelineStore, UserId,
};

use crate::common::{T0, for_each_store};

fn entry(post: u128, author: u128, score: impl TryInto<u64>) -> TimelineEntry {
    let score = score.try_into().ok().unwrap();
    TimelineEntry {
        position: Position {
            score: Score::from_raw(score).unwrap(),
            post: PostId(post),
        },
        author: UserId(author),
    }
}

fn opts(cap: usize) -> DeliverOptions {
    DeliverOptions {
        cap,
        active_since_ms: 0,
    }
}

async fn ids(s: &Arc<dyn TimelineStore>, user: u128) -> Option<Vec<u128>> {
    s.page(UserId(user), None, 10_000)
        .await
        .unwrap()
        .map(|p| p.entries.iter().map(|e| e.post().0).collect())
}

async fn missing_timelines_receive_nothing(s: Arc<dyn TimelineStore>) {
    let u = UserId(1);
    assert_eq!(s.page(u, None, 10).await.unwrap(), None);
    let d = s.deliver(&[u], entry(1, 9, 100), opts(10)).await.unwrap();
    assert_eq!(d, Delivery::Delivered(0));
    assert_eq!(s.insert(u, &[entry(2, 9, 200)], 10).await.unwrap(), 0);
    s.touch(u, T0).await.unwrap();
    assert_eq!(ids(&s, 1).await, None);
    s.create(u, T0).await.unwrap();
    assert_eq!(ids(&s, 1).await, Some(vec![]));
    s.evict(u).await.unwrap();
    assert_eq!(ids(&s, 1).await, None);
}

async fn delivery_is_idempotent_and_ordered(s: Arc<dyn TimelineStore>) {
    for u in 1..=3 {
        s.create(UserId(u), T0).await.unwrap();
    }
    let users = [UserId(1), UserId(2), UserId(3), UserId(4)];
    let e = entry(10, 9, 1_000);
    assert_eq!(
        s.deliver(&users, e, opts(10)).await.unwrap(),
        Delivery::Delivered(3)
    );
    assert_eq!(
        s.deliver(&users, e, opts(10)).await.unwrap(),
        Delivery::Delivered(0)
    );
    s.deliver(&users, entry(11, 9, 2_000), opts(10))
        .await
        .unwrap();
    s.deliver(&users, entry(12, 9, 500), opts(10))
        .await
        .unwrap();
    assert_eq!(ids(&s, 2).await, Some(vec![11, 10, 12]));
    let slice = s.page(UserId(2), None, 10).await.unwrap().unwrap();
    assert_eq!(slice.entries[0], entry(11, 9, 2_000));
    assert_eq!(slice.last_active_ms, T0);
}

async fn delivery_in_several_chunks_at_once(s: Arc<dyn TimelineStore>) {
    let chunks: Vec<Vec<UserId>> = vec![
        (1..=3).map(UserId).collect(),
        vec![UserId(4), UserId(99)],
        (5..=8).map(UserId).collect(),
    ];
    for u in 1..=8 {
        s.create(UserId(u), T0).await.unwrap();
    }
    let e = entry(10, 9, 1_000);
    let d = s.deliver_many(&chunks, e, opts(3)).await.unwrap();
    assert_eq!(
        d,
        [
            Delivery::Delivered(3),
            Delivery::Delivered(1),
            Delivery::Delivered(4)
        ]
    );
    let again = s.deliver_many(&chunks, e, opts(3)).await.unwrap();
    assert_eq!(again, [Delivery::Delivered(0); 3]);
    for u in 1..=8 {
        assert_eq!(ids(&s, u).await, Some(vec![10]), "user {u}");
    }
    // Capping still applies to every chunk.
    for p in 11..=14 {
        s.deliver_many(&chunks, entry(p, 9, 1_000 + p), opts(3))
            .await
            .unwrap();
    }
    assert_eq!(ids(&s, 7).await, Some(vec![14, 13, 12]));
    s.tombstone(PostId(20)).await.unwrap();
    let d = s
        .deliver_many(&chunks, entry(20, 9, 5_000), opts(3))
        .await
        .unwrap();
    assert_eq!(d, [Delivery::Tombstoned; 3]);
    assert_eq!(ids(&s, 1).await, Some(vec![14, 13, 12]));
}

async fn capped_and_trimmed_on_insert(s: Arc<dyn TimelineStore>) {
    let u = UserId(1);
    s.create(u, T0).await.unwrap();
    for i in 1..=5 {
        s.deliver(&[u], entry(i, 9, i * 10), opts(3)).await.unwrap();
    }
    assert_eq!(ids(&s, 1).await, Some(vec![5, 4, 3]));
    // Older than everything a full timeline keeps: not kept, not counted.
    let d = s.deliver(&[u], entry(99, 9, 1), opts(3)).await.unwrap();
    assert_eq!(d, Delivery::Delivered(0));
    let n = s
        .insert(u, &[entry(100, 9, 45), entry(101, 9, 2)], 3)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(ids(&s, 1).await, Some(vec![5, 100, 4]));
}

async fn scores_order_exactly_near_two_pow_53(s: Arc<dyn TimelineStore>) {
    let u = UserId(1);
    s.create(u, T0).await.unwrap();
    let top = MAX_SCORE;
    // Raw 64-bit ids would collapse here; 53-bit scores stay distinct and exact.
    for (post, score) in [(1, top), (2, top - 1), (3, top - 2)] {
        s.deliver(&[u], entry(post, 9, score), opts(10))
            .await
            .unwrap();
    }
    let slice = s.page(u, None, 10).await.unwrap().unwrap();
    let scores: Vec<u64> = slice
        .entries
        .iter()
        .map(|e| e.position.score.raw())
        .collect();
    assert_eq!(scores, vec![top, top - 1, top - 2]);
}

async fn equal_scores_page_by_post_id(s: Arc<dyn TimelineStore>) {
    let u = UserId(1);
    s.create(u, T0).await.unwrap();
    for p in 1..=30 {
        s.deliver(&[u], entry(p, 9, 777), opts(100)).await.unwrap();
    }
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let slice = s.page(u, before, 4).await.unwrap().unwrap();
        all.extend(slice.entries.iter().map(|e| e.post().0));
        match slice.entries.last() {
            Some(e) if slice.entries.len() == 4 => before = Some(e.position),
            _ => break,
        }
    }
    assert_eq!(all, (1..=30).rev().collect::<Vec<_>>());
}

async fn ids_round_trip_all_128_bits(s: Arc<dyn TimelineStore>) {
    // UUIDv7-like ids: the high half carries time, the low half random bits. Ids that differ
    // only above bit 64, only below it, or at the extremes must come back exactly, and equal
    // scores must order by the whole 128-bit post id.
    let u = UserId(u128::MAX);
    s.create(u, T0).await.unwrap();
    let hi = 1u128 << 127;
    let posts = [
        u128::MAX,
        hi | 1,
        hi,
        (1 << 64) | 7,
        1 << 64,
        (1 << 64) - 1,
        0x0190_0d2c_7a3b_7c00_8000_0000_0000_0001,
        1,
    ];
    for p in posts {
        let d = s.deliver(&[u], entry(p, !p, 777), opts(100)).await.unwrap();
        assert_eq!(d, Delivery::Delivered(1));
    }
    let mut want: Vec<TimelineEntry> = posts.iter().map(|&p| entry(p, !p, 777)).collect();
    want.sort_by(|a, b| b.cmp(a));
    let all = s.page(u, None, 100).await.unwrap().unwrap().entries;
    assert_eq!(all, want);
    // Keyset paging through equal scores, two at a time.
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let slice = s.page(u, before, 2).await.unwrap().unwrap();
        paged.extend(slice.entries.iter().copied());
        match slice.entries.last() {
            Some(e) if slice.entries.len() == 2 => before = Some(e.position),
            _ => break,
        }
    }
    assert_eq!(paged, want);
    s.remove(u, &[entry(hi, !hi, 777)]).await.unwrap();
    s.tombstone(PostId(u128::MAX)).await.unwrap();
    assert!(s.is_tombstoned(PostId(u128::MAX)).await.unwrap());
    assert!(!s.is_tombstoned(PostId(u128::MAX - 1)).await.unwrap());
    assert_eq!(
        s.page(u, None, 100).await.unwrap().unwrap().entries.len(),
        7
    );
}

async fn inactive_timelines_are_skipped(s: Arc<dyn TimelineStore>) {
    let (a, b) = (UserId(1), UserId(2));
    s.create(a, T0).await.unwrap();
    s.create(b, T0 + 5_000).await.unwrap();
    let o = DeliverOptions {
        cap: 10,
        active_since_ms: T0 + 1_000,
    };
    let d = s.deliver(&[a, b], entry(1, 9, 100), o).await.unwrap();
    assert_eq!(d, Delivery::Delivered(1));
    s.touch(a, T0 + 2_000).await.unwrap();
    // Activity only moves forward.
    s.touch(a, T0 + 10).await.unwrap();
    s.create(a, T0 + 20).await.unwrap();
    assert_eq!(
        s.deliver(&[a], entry(2, 9, 200), o).await.unwrap(),
        Delivery::Delivered(1)
    );
    let slice = s.page(a, None, 10).await.unwrap().unwrap();
    assert_eq!(slice.last_active_ms, T0 + 2_000);
    assert_eq!(ids(&s, 1).await, Some(vec![2]));
}

async fn tombstones_stop_every_write(s: Arc<dyn TimelineStore>) {
    let u = UserId(1);
    s.create(u, T0).await.unwrap();
    let e = entry(5, 9, 100);
    assert!(!s.is_tombstoned(PostId(5)).await.unwrap());
    s.tombstone(PostId(5)).await.unwrap();
    assert!(s.is_tombstoned(PostId(5)).await.unwrap());
    assert_eq!(
        s.deliver(&[u], e, opts(10)).await.unwrap(),
        Delivery::Tombstoned
    );
    assert_eq!(s.insert(u, &[e, entry(6, 9, 50)], 10).await.unwrap(), 1);
    assert_eq!(ids(&s, 1).await, Some(vec![6]));
}

async fn removal(s: Arc<dyn TimelineStore>) {
    let users = [UserId(1), UserId(2)];
    for u in users {
        s.create(u, T0).await.unwrap();
    }
    for p in 1..=4 {
        s.deliver(&users, entry(p, 9, p * 10), opts(10))
            .await
            .unwrap();
    }
    s.remove(UserId(1), &[entry(2, 9, 20), entry(77, 9, 5)])
        .await
        .unwrap();
    s.remove_posts(&users, UserId(9), &[PostId(4)])
        .await
        .unwrap();
    assert_eq!(ids(&s, 1).await, Some(vec![3, 1]));
    assert_eq!(ids(&s, 2).await, Some(vec![3, 2, 1]));
}

async fn retracted_posts_are_listed_per_author(s: Arc<dyn TimelineStore>) {
    let (a, b) = (UserId(7), UserId(8));
    assert!(s.retracted(a).await.unwrap().is_empty());
    s.retract(a, PostId(1)).await.unwrap();
    s.retract(a, PostId(u128::MAX)).await.unwrap();
    s.retract(a, PostId(1)).await.unwrap();
    s.retract(b, PostId(2)).await.unwrap();
    let mut got = s.retracted(a).await.unwrap();
    got.sort();
    assert_eq!(got, [PostId(1), PostId(u128::MAX)]);
    assert_eq!(s.retracted(b).await.unwrap(), [PostId(2)]);
    // Removing several posts by identity, from several timelines at once.
    let users = [UserId(1), UserId(2)];
    for u in users {
        s.create(u, T0).await.unwrap();
    }
    for p in 1..=8 {
        s.deliver(&users, entry(p, 7, p * 10), opts(10))
            .await
            .unwrap();
    }
    let gone: Vec<PostId> = [1, 3, 4, 5, 6, 8].map(PostId).to_vec();
    s.remove_posts(&users[..1], a, &gone).await.unwrap();
    s.remove_posts(&users[1..], a, &gone[..2]).await.unwrap();
    s.remove_posts(&users, b, &[PostId(2)]).await.unwrap(); // another author: not these
    assert_eq!(ids(&s, 1).await, Some(vec![7, 2]));
    assert_eq!(ids(&s, 2).await, Some(vec![8, 7, 6, 5, 4, 2]));
}

async fn partial_timelines_refuse_gaps(s: Arc<dyn TimelineStore>) {
    let u = UserId(1);
    s.create(u, T0).await.unwrap();
    // Complete: an old entry is welcome.
    s.deliver(&[u], entry(1, 9, 100), opts(3)).await.unwrap();
    assert_eq!(s.insert(u, &[entry(2, 9, 50)], 3).await.unwrap(), 1);
    for p in 3..=5 {
        s.deliver(&[u], entry(p, 9, 100 + p), opts(3))
            .await
            .unwrap();
    }
    // Trimmed, so partial: older than the oldest kept entry (103) is refused.
    assert_eq!(ids(&s, 1).await, Some(vec![5, 4, 3]));
    assert_eq!(
        s.insert(u, &[entry(6, 9, 102), entry(7, 9, 104)], 5)
            .await
            .unwrap(),
        1
    );
    let d = s.deliver(&[u], entry(8, 9, 101), opts(5)).await.unwrap();
    assert_eq!(d, Delivery::Delivered(0));
    assert_eq!(ids(&s, 1).await, Some(vec![5, 7, 4, 3]));
    // Emptied: a backfill could leave a gap, a new post cannot.
    let all: Vec<_> = [3, 4, 5, 7]
        .iter()
        .map(|&p| entry(p, 9, if p == 7 { 104 } else { 100 + p }))
        .collect();
    s.remove(u, &all).await.unwrap();
    assert_eq!(s.insert(u, &[entry(9, 9, 200)], 5).await.unwrap(), 0);
    assert_eq!(
        s.deliver(&[u], entry(10, 9, 300), opts(5)).await.unwrap(),
        Delivery::Delivered(1)
    );
    // Explicitly partial from the start.
    let v = UserId(2);
    s.create(v, T0).await.unwrap();
    s.mark_partial(v).await.unwrap();
    assert_eq!(s.insert(v, &[entry(11, 9, 10)], 5).await.unwrap(), 0);
    s.touch(v, T0 + 5).await.unwrap();
    assert_eq!(
        s.page(v, None, 5).await.unwrap().unwrap().last_active_ms,
        T0 + 5
    );
    assert_eq!(
        s.insert(v, &[entry(12, 9, 10)], 5).await.unwrap(),
        0,
        "touch keeps partial"
    );
}

for_each_store!(
    partial_timelines_refuse_gaps,
    missing_timelines_receive_nothing,
    delivery_is_idempotent_and_ordered,
    delivery_in_several_chunks_at_once,
    capped_and_trimmed_on_insert,
    scores_order_exactly_near_two_pow_53,
    ids_round_trip_all_128_bits,
    equal_scores_page_by_post_id,
    inactive_timelines_are_skipped,
    tombstones_stop_every_write,
    retracted_posts_are_listed_per_author,
    removal,
);
