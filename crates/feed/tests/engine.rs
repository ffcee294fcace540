//! Push, pull and hybrid delivery, reading, visibility, filters, regeneration, inactivity;
//! run on every store.

use std::sync::Arc;

use keel_feed::{
    FeedEngine, ReadRequest, Route, Strategy, TimelineEntry, TimelineStore, UserId, Visibility,
};

use crate::common::{Fx, config, for_each_store, post};

/// Users 2..=4 follow 1; everyone has read once (timelines built).
async fn world(s: Arc<dyn TimelineStore>, strategy: Strategy, cap: usize) -> Fx {
    let fx = Fx::new(s, config(strategy, cap));
    for f in 2..=4 {
        fx.follow(f, 1).await;
    }
    for u in 1..=4 {
        fx.page(u, 10).await;
    }
    fx
}

async fn push_delivers_to_every_follower(s: Arc<dyn TimelineStore>) {
    let fx = world(s, Strategy::Push, 100).await;
    let r = fx.publish(post(10, 1, 1)).await;
    assert_eq!(r.route, Route::Pushed);
    assert_eq!(r.delivered, 3);
    assert_eq!(r.chunks, 2);
    for u in 1..=4 {
        assert_eq!(fx.stored(u).await, Some(vec![10]));
        assert_eq!(fx.page(u, 10).await, vec![10]);
    }
    // Publishing again changes nothing.
    assert_eq!(fx.publish(post(10, 1, 1)).await.delivered, 0);
    assert_eq!(fx.page(2, 10).await, vec![10]);
}

async fn pull_merges_at_read(s: Arc<dyn TimelineStore>) {
    let fx = world(s, Strategy::Pull, 100).await;
    fx.follow(2, 3).await;
    assert_eq!(fx.publish(post(10, 1, 1)).await.route, Route::Pulled);
    fx.publish(post(11, 3, 2)).await;
    fx.publish(post(12, 2, 3)).await;
    fx.publish(post(13, 4, 4)).await;
    assert_eq!(fx.stored(2).await, None);
    assert_eq!(fx.page(2, 10).await, vec![12, 11, 10]);
    assert_eq!(fx.scroll(2, 2).await, vec![12, 11, 10]);
}

async fn hybrid_pulls_authors_above_threshold(s: Arc<dyn TimelineStore>) {
    let fx = world(s, Strategy::Hybrid { threshold: 3 }, 100).await;
    fx.follow(2, 5).await;
    assert_eq!(fx.publish(post(10, 1, 1)).await.route, Route::Pulled);
    assert_eq!(fx.publish(post(11, 5, 2)).await.route, Route::Pushed);
    assert_eq!(fx.stored(2).await, Some(vec![11]));
    assert_eq!(fx.page(2, 10).await, vec![11, 10]);
    assert_eq!(fx.scroll(3, 1).await, vec![10]);
}

async fn hybrid_handles_crossing_the_threshold_both_ways(s: Arc<dyn TimelineStore>) {
    let fx = world(s, Strategy::Hybrid { threshold: 4 }, 100).await;
    assert_eq!(fx.publish(post(10, 1, 1)).await.route, Route::Pushed);
    // A fourth follower: now above the threshold. Old pushed entries and new pulled ones
    // merge without duplicates.
    fx.page(5, 10).await;
    fx.follow(5, 1).await;
    assert_eq!(fx.publish(post(11, 1, 2)).await.route, Route::Pulled);
    assert_eq!(fx.page(2, 10).await, vec![11, 10]);
    assert_eq!(fx.page(5, 10).await, vec![11, 10]);
    // Back below: the posts pulled meanwhile are pushed to followers, new ones too.
    fx.unfollow(5, 1).await;
    assert_eq!(fx.publish(post(12, 1, 3)).await.route, Route::Pushed);
    assert_eq!(fx.stored(2).await, Some(vec![12, 11, 10]));
    assert_eq!(fx.page(2, 10).await, vec![12, 11, 10]);
    assert_eq!(fx.page(5, 10).await, Vec::<u128>::new());
}

async fn scrolling_past_the_cap_continues_into_pull(s: Arc<dyn TimelineStore>) {
    for strategy in [Strategy::Push, Strategy::Hybrid { threshold: 100 }] {
        let fx = world(s.clone(), strategy, 5).await;
        for i in 0..12 {
            fx.publish(post(100 + i, 1, i)).await;
        }
        assert_eq!(fx.stored(2).await.map(|v| v.len()), Some(5));
        let want: Vec<u128> = (100..112).rev().collect();
        assert_eq!(fx.scroll(2, 4).await, want);
        assert_eq!(fx.scroll(2, 5).await, want);
        assert_eq!(fx.scroll(2, 50).await, want);
        fx.store.evict(UserId(2)).await.unwrap();
    }
}

async fn cursors_are_stable_while_posts_arrive(s: Arc<dyn TimelineStore>) {
    let fx = world(s, Strategy::Push, 100).await;
    for i in 0..6 {
        fx.publish(post(100 + i, 1, i)).await;
    }
    let first = fx
        .engine
        .read(&ReadRequest::first(UserId(2), 3))
        .await
        .unwrap();
    let ids: Vec<u128> = first.entries.iter().map(|e| e.post().0).collect();
    assert_eq!(ids, vec![105, 104, 103]);
    for i in 6..9 {
        fx.publish(post(100 + i, 1, i)).await;
    }
    let mut req = ReadRequest::first(UserId(2), 3);
    req.before = first.next;
    let second = fx.engine.read(&req).await.unwrap();
    let ids: Vec<u128> = second.entries.iter().map(|e| e.post().0).collect();
    assert_eq!(ids, vec![102, 101, 100]);
    req.before = second.next;
    assert!(fx.engine.read(&req).await.unwrap().entries.is_empty());
}

async fn visibility_rules(s: Arc<dyn TimelineStore>) {
    for strategy in [
        Strategy::Push,
        Strategy::Pull,
        Strategy::Hybrid { threshold: 2 },
    ] {
        let fx = world(s.clone(), strategy, 100).await;
        let mut private = post(10, 1, 1);
        private.visibility = Visibility::Private;
        let mut followers_only = post(11, 1, 2);
        followers_only.visibility = Visibility::FollowersOnly;
        assert_eq!(fx.publish(private).await.route, Route::Private);
        fx.publish(followers_only).await;
        assert_eq!(fx.page(1, 10).await, vec![11, 10], "{strategy:?}");
        assert_eq!(fx.page(2, 10).await, vec![11], "{strategy:?}");
        assert_eq!(fx.page(9, 10).await, Vec::<u128>::new(), "{strategy:?}");
        for u in 1..=4 {
            fx.store.evict(UserId(u)).await.unwrap();
        }
    }
}

async fn filter_hides_muted_authors_and_keeps_pages_full(s: Arc<dyn TimelineStore>) {
    let graph = Arc::new(keel_feed::MemoryGraph::new());
    let posts = Arc::new(keel_feed::MemoryPosts::new());
    let muted = |reader: UserId, e: &TimelineEntry| !(reader == UserId(2) && e.author == UserId(3));
    let engine = FeedEngine::builder(graph.clone(), posts.clone(), s)
        .config(config(Strategy::Push, 100))
        .filter(Arc::new(muted))
        .build()
        .unwrap();
    graph.add(UserId(2), UserId(1));
    graph.add(UserId(2), UserId(3));
    engine
        .read(&ReadRequest::first(UserId(2), 5))
        .await
        .unwrap();
    for i in 0..20 {
        let p = post(100 + i, if i % 4 == 0 { 1 } else { 3 }, i);
        posts.insert(p);
        engine.publish(&p).await.unwrap();
    }
    let page = engine
        .read(&ReadRequest::first(UserId(2), 3))
        .await
        .unwrap();
    let ids: Vec<u128> = page.entries.iter().map(|e| e.post().0).collect();
    assert_eq!(ids, vec![116, 112, 108]);
    let mut req = ReadRequest::first(UserId(2), 3);
    req.before = page.next;
    let page = engine.read(&req).await.unwrap();
    let ids: Vec<u128> = page.entries.iter().map(|e| e.post().0).collect();
    assert_eq!(ids, vec![104, 100]);
    assert_eq!(page.next, None);
}

async fn missing_timeline_is_regenerated_on_first_read(s: Arc<dyn TimelineStore>) {
    let fx = Fx::new(s, config(Strategy::Push, 100));
    fx.graph.add(UserId(2), UserId(1));
    fx.publish(post(10, 1, 1)).await;
    fx.publish(post(11, 2, 2)).await;
    assert_eq!(fx.stored(2).await, None);
    let page = fx
        .engine
        .read(&ReadRequest::first(UserId(2), 10))
        .await
        .unwrap();
    assert!(page.regenerating);
    let ids: Vec<u128> = page.entries.iter().map(|e| e.post().0).collect();
    assert_eq!(ids, vec![11, 10]);
    assert!(!fx.engine.is_regenerating(UserId(2)));
    assert_eq!(fx.stored(2).await, Some(vec![11, 10]));
    let again = fx
        .engine
        .read(&ReadRequest::first(UserId(2), 10))
        .await
        .unwrap();
    assert!(!again.regenerating);
    assert_eq!(again.entries, page.entries);
}

async fn inactive_followers_are_skipped_then_regenerated(s: Arc<dyn TimelineStore>) {
    let fx = world(s, Strategy::Push, 100).await;
    fx.clock.advance(2 * 3_600_000);
    fx.page(3, 10).await; // user 3 stays active
    let r = fx.publish(post(10, 1, 1)).await;
    assert_eq!(r.delivered, 1);
    assert_eq!(fx.stored(2).await, Some(vec![]));
    let page = fx
        .engine
        .read(&ReadRequest::first(UserId(2), 10))
        .await
        .unwrap();
    assert!(page.regenerating);
    assert_eq!(page.entries.len(), 1);
    assert_eq!(fx.stored(2).await, Some(vec![10]));
    assert!(
        !fx.engine
            .read(&ReadRequest::first(UserId(2), 10))
            .await
            .unwrap()
            .regenerating
    );
}

for_each_store!(
    push_delivers_to_every_follower,
    pull_merges_at_read,
    hybrid_pulls_authors_above_threshold,
    hybrid_handles_crossing_the_threshold_both_ways,
    scrolling_past_the_cap_continues_into_pull,
    cursors_are_stable_while_posts_arrive,
    visibility_rules,
    filter_hides_muted_authors_and_keeps_pages_full,
    missing_timeline_is_regenerated_on_first_read,
    inactive_followers_are_skipped_then_regenerated,
);
