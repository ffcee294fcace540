//! Property tests: scores, the merge, and push = pull = hybrid on random histories.

use std::collections::BTreeSet;

use async_trait::async_trait;
use keel_feed::merge::{merge_into, merge_newest};
use keel_feed::score::{MAX_SEQUENCE, SCORE_EPOCH_MS};
use keel_feed::{Position, PostId, Score, Strategy as Delivery, TimelineEntry, UserId};
use proptest::prelude::*;

use crate::common::{Fx, config, memory, post};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn scores_round_trip_and_order_like_time_then_sequence(
        a in (0u64..(1 << 43), 0..=MAX_SEQUENCE),
        b in (0u64..(1 << 43), 0..=MAX_SEQUENCE),
    ) {
        let sa = Score::from_parts(SCORE_EPOCH_MS + a.0, a.1).unwrap();
        let sb = Score::from_parts(SCORE_EPOCH_MS + b.0, b.1).unwrap();
        prop_assert_eq!(sa.unix_ms(), SCORE_EPOCH_MS + a.0);
        prop_assert_eq!(sa.sequence(), a.1);
        prop_assert_eq!(sa.cmp(&sb), a.cmp(&b));
        // Exact through a double, as Redis stores it.
        prop_assert_eq!(Score::from_f64(sa.as_f64()).unwrap(), sa);
        prop_assert_eq!(sa.as_f64().total_cmp(&sb.as_f64()), a.cmp(&b));
    }

    #[test]
    fn merge_equals_sort_of_union(
        lists in prop::collection::vec(prop::collection::btree_set(0u64..200, 0..20), 0..8),
        limit in 0usize..60,
    ) {
        let lists: Vec<Vec<TimelineEntry>> = lists
            .iter()
            .map(|l| l.iter().rev().map(|&p| TimelineEntry {
                position: Position { score: Score::from_raw(p / 3).unwrap(), post: PostId(u128::from(p)) },
                author: UserId(0),
            }).collect())
            .collect();
        let merged = merge_newest(&lists, limit);
        // The hybrid read's merge: the first list as the stored page, the rest pulled.
        let into = match lists.split_first() {
            Some((base, others)) => merge_into(base, others.iter().flatten().copied().collect(), limit),
            None => Vec::new(),
        };
        prop_assert_eq!(&into, &merged);
        let mut all: Vec<TimelineEntry> = lists.iter().flatten().copied().collect::<BTreeSet<_>>().into_iter().collect();
        all.reverse();
        all.truncate(limit);
        prop_assert_eq!(merged, all);
    }
}

/// A source that answers `recent_posts` only, so `recent_posts_many` runs the trait's default.
#[derive(Debug)]
struct Plain(keel_feed::MemoryPosts);

#[async_trait]
impl keel_feed::PostSource for Plain {
    async fn recent_posts(
        &self,
        author: UserId,
        before: Option<Position>,
        limit: usize,
    ) -> keel_feed::Result<Vec<keel_feed::Post>> {
        self.0.recent_posts(author, before, limit).await
    }
    async fn post(&self, id: PostId) -> keel_feed::Result<Option<keel_feed::Post>> {
        self.0.post(id).await
    }
}

fn position(score: u64, post: u128) -> Position {
    Position {
        score: Score::from_raw(score).unwrap(),
        post: PostId(post),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `recent_posts_many` (memory, and the trait's default) equals filtering every post.
    #[test]
    fn recent_posts_many_is_a_bounded_filter(
        raw in prop::collection::vec((0u64..30, 0u128..3), 0..40),
        before in prop::option::of((0u64..32, 0u128..50)),
        since in prop::option::of((0u64..32, 0u128..50)),
        limit in 0usize..8,
    ) {
        use keel_feed::PostSource;
        let src = keel_feed::MemoryPosts::new();
        let plain = Plain(keel_feed::MemoryPosts::new());
        let mut all = Vec::new();
        for (i, &(score, author)) in raw.iter().enumerate() {
            let p = keel_feed::Post {
                id: PostId(i as u128),
                author: UserId(author),
                score: Score::from_raw(score).unwrap(),
                visibility: keel_feed::Visibility::Public,
            };
            src.insert(p);
            plain.0.insert(p);
            all.push(p);
        }
        all.sort_by_key(|p| std::cmp::Reverse(p.entry().position));
        let before = before.map(|(s, p)| position(s, p));
        let since = since.map(|(s, p)| position(s, p));
        let authors = [UserId(0), UserId(1), UserId(2), UserId(9)];
        let want: Vec<keel_feed::Post> = authors
            .iter()
            .flat_map(|a| {
                all.iter()
                    .filter(|p| p.author == *a)
                    .filter(|p| before.is_none_or(|b| p.entry().position < b))
                    .filter(|p| since.is_none_or(|s| p.entry().position >= s))
                    .take(limit)
                    .copied()
                    .collect::<Vec<_>>()
            })
            .collect();
        let rt = runtime();
        let got = rt.block_on(src.recent_posts_many(&authors, before, since, limit)).unwrap();
        prop_assert_eq!(&got, &want);
        let got = rt.block_on(plain.recent_posts_many(&authors, before, since, limit)).unwrap();
        prop_assert_eq!(&got, &want);
    }
}

#[test]
fn out_of_range_scores_are_errors() {
    assert!(Score::from_parts(SCORE_EPOCH_MS - 1, 0).is_err());
    assert!(Score::from_parts(SCORE_EPOCH_MS, MAX_SEQUENCE + 1).is_err());
    assert!(Score::from_parts(SCORE_EPOCH_MS + (1 << 43), 0).is_err());
    assert!(Score::from_raw(1 << 53).is_err());
    assert!(Score::from_f64(-1.0).is_err());
    assert!(Score::from_f64(0.5).is_err());
    assert!(Score::from_f64(9.1e15).is_err());
}

#[derive(Debug, Clone)]
enum Op {
    Publish { author: u128, private: bool },
    Follow(u128, u128),
    Unfollow(u128, u128),
    Delete(usize),
    Read(u128),
}

fn op() -> impl Strategy<Value = Op> {
    let u = 1u128..=5;
    prop_oneof![
        4 => (u.clone(), prop::bool::weighted(0.1)).prop_map(|(author, private)| Op::Publish { author, private }),
        2 => (u.clone(), u.clone()).prop_map(|(a, b)| Op::Follow(a, b)),
        1 => (u.clone(), u.clone()).prop_map(|(a, b)| Op::Unfollow(a, b)),
        1 => (0usize..64).prop_map(Op::Delete),
        1 => u.prop_map(Op::Read),
    ]
}

/// What a timeline must show: visible posts of current followees and of the reader.
fn expected(fx: &Fx, live: &[keel_feed::Post], reader: u128) -> Vec<u128> {
    let mut v: Vec<&keel_feed::Post> = live
        .iter()
        .filter(|p| {
            p.author.0 == reader
                || (p.visibility != keel_feed::Visibility::Private
                    && fx_follows(fx, reader, p.author.0))
        })
        .collect();
    v.sort_by_key(|p| std::cmp::Reverse(p.entry().position));
    v.iter().map(|p| p.id.0).collect()
}

fn fx_follows(fx: &Fx, reader: u128, author: u128) -> bool {
    fx.graph.follows(UserId(reader), UserId(author))
}

/// Replays `ops` under every strategy on stores from `store`, then checks every timeline.
async fn replay<F, Fut>(store: F, ops: &[Op], cap: usize, page: usize)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<std::sync::Arc<dyn keel_feed::TimelineStore>>>,
{
    let strategies = [
        Delivery::Push,
        Delivery::Pull,
        Delivery::Hybrid { threshold: 2 },
    ];
    for strategy in strategies {
        let Some(s) = store().await else { return };
        let mut cfg = config(strategy, cap);
        cfg.chunks_in_flight = 2; // fan-outs write two chunks at once
        let fx = Fx::new(s, cfg);
        let mut live: Vec<keel_feed::Post> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            fx.clock.advance(1);
            match *op {
                Op::Publish { author, private } => {
                    let mut p = post(1_000 + i as u128, author, i as u128);
                    if private {
                        p.visibility = keel_feed::Visibility::Private;
                    }
                    fx.publish(p).await;
                    live.push(p);
                }
                Op::Follow(a, b) if a != b && !fx_follows(&fx, a, b) => fx.follow(a, b).await,
                Op::Unfollow(a, b) if fx_follows(&fx, a, b) => fx.unfollow(a, b).await,
                Op::Delete(k) if !live.is_empty() => {
                    let p = live.remove(k % live.len());
                    fx.delete(p).await;
                }
                Op::Read(u) => {
                    fx.page(u, page).await;
                }
                _ => {}
            }
        }
        for reader in 1..=5 {
            let got = fx.scroll(reader, page).await;
            assert_eq!(
                got,
                expected(&fx, &live, reader),
                "{strategy:?} reader {reader} ops {ops:?}"
            );
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_strategy_shows_the_same_timeline(ops in prop::collection::vec(op(), 1..60), cap in 2usize..6, page in 1usize..5) {
        runtime().block_on(replay(memory, &ops, cap, page));
    }
}

#[cfg(feature = "redis")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn every_strategy_shows_the_same_timeline_on_redis(ops in prop::collection::vec(op(), 1..40), cap in 2usize..6, page in 1usize..5) {
        runtime().block_on(replay(crate::common::redis, &ops, cap, page));
    }
}
