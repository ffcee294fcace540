//! Ranking: gravity, chronological, ranked reads and the leaderboard (memory and Redis).

use std::sync::Arc;

use keel_feed::rank::hot_score;
use keel_feed::{
    Chronological, Gravity, Leaderboard, MemoryLeaderboard, PostId, Ranker, Strategy, UserId,
};

use crate::common::{Fx, T0, config, memory, post};

#[test]
fn gravity_sinks_old_posts_and_rewards_points() {
    let g = Gravity::default();
    let now = T0 + 10 * 3_600_000;
    let fresh = post(1, 1, 9 * 3_600_000).entry(); // 1 hour old
    let old = post(2, 1, 0).entry(); // 10 hours old
    // Hacker News: (p - 1) / (h + 2)^1.8.
    let expect = 9.0 / 3f64.powf(1.8);
    assert!((g.score(&fresh, 10.0, now) - expect).abs() < 1e-12);
    assert!(g.score(&fresh, 10.0, now) > g.score(&old, 10.0, now));
    assert!(g.score(&old, 200.0, now) > g.score(&fresh, 10.0, now));
    assert!(Chronological.score(&fresh, 0.0, now) > Chronological.score(&old, 1e9, now));
}

#[tokio::test]
async fn ranked_reads_reorder_a_window() {
    let fx = Fx::new(memory().await.unwrap(), config(Strategy::Push, 100));
    fx.page(2, 10).await;
    fx.follow(2, 1).await;
    for i in 0..6 {
        fx.publish(post(100 + i, 1, i * 60_000)).await;
    }
    fx.clock.advance(3_600_000);
    let points = |e: &keel_feed::TimelineEntry| if e.post() == PostId(101) { 500.0 } else { 2.0 };
    let top = fx
        .engine
        .read_ranked(UserId(2), 6, 3, &Gravity::default(), &points)
        .await
        .unwrap();
    let ids: Vec<u128> = top.iter().map(|e| e.post().0).collect();
    assert_eq!(ids, vec![101, 105, 104]);
    let chrono = fx
        .engine
        .read_ranked(UserId(2), 6, 3, &Chronological, &points)
        .await
        .unwrap();
    assert_eq!(
        chrono.iter().map(|e| e.post().0).collect::<Vec<_>>(),
        vec![105, 104, 103]
    );
}

async fn leaderboard_keeps_the_hottest(board: Arc<dyn Leaderboard>) {
    let a = post(1, 1, 0);
    let b = post(2, 1, 12 * 3_600_000 + 30 * 60_000); // 12.5 hours later
    let c = post(3, 1, 0);
    board.record(&a, 100.0).await.unwrap();
    board.record(&b, 9.0).await.unwrap();
    board.record(&c, 5.0).await.unwrap();
    let top: Vec<u128> = board.top(10).await.unwrap().iter().map(|t| t.0.0).collect();
    // 10x the points are worth 12.5 hours: a (100) beats b (9, 12.5 h newer); c drops off.
    assert_eq!(top, vec![1, 2]);
    let scores = board.top(1).await.unwrap();
    assert!((scores[0].1 - hot_score(&a, 100.0)).abs() < 1e-9);
    // c climbs to the top and pushes b out (exactly `capacity` kept); removal leaves one.
    board.record(&c, 10_000.0).await.unwrap();
    let top: Vec<u128> = board.top(10).await.unwrap().iter().map(|t| t.0.0).collect();
    assert_eq!(top, vec![3, 1]);
    board.remove(PostId(1)).await.unwrap();
    let top: Vec<u128> = board.top(10).await.unwrap().iter().map(|t| t.0.0).collect();
    assert_eq!(top, vec![3]);
}

#[tokio::test]
async fn memory_leaderboard() {
    leaderboard_keeps_the_hottest(Arc::new(MemoryLeaderboard::new(2))).await;
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_leaderboard() {
    let Some(url) = keel_testkit::require(keel_testkit::Service::Redis).await else {
        return;
    };
    let store = keel_feed::RedisStore::connect(&url, keel_testkit::unique_prefix("feed"))
        .await
        .unwrap();
    let board = keel_feed::RedisLeaderboard::new(store.connection(), store.prefix(), 2);
    leaderboard_keeps_the_hottest(Arc::new(board)).await;
}
