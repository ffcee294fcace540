//! Follow backfill, unfollow removal, deletion with tombstones; run on every store.

use std::sync::Arc;

use keel_feed::{Strategy, TimelineStore, UserId};

use crate::common::{Fx, config, for_each_store, post};

async fn follow_backfills_recent_posts(s: Arc<dyn TimelineStore>) {
    let fx = Fx::new(s, config(Strategy::Push, 100));
    fx.page(2, 10).await;
    for i in 0..5 {
        fx.publish(post(100 + i, 1, i)).await;
    }
    assert_eq!(fx.stored(2).await, Some(vec![]));
    fx.follow(2, 1).await;
    assert_eq!(fx.stored(2).await, Some(vec![104, 103, 102, 101, 100]));
}

async fn unfollow_removes_only_that_author(s: Arc<dyn TimelineStore>) {
    let fx = Fx::new(s, config(Strategy::Push, 100));
    fx.page(2, 10).await;
    fx.follow(2, 1).await;
    fx.follow(2, 3).await;
    for i in 0..6 {
        fx.publish(post(100 + i, if i % 2 == 0 { 1 } else { 3 }, i))
            .await;
    }
    fx.unfollow(2, 1).await;
    assert_eq!(fx.stored(2).await, Some(vec![105, 103, 101]));
    assert_eq!(fx.scroll(2, 2).await, vec![105, 103, 101]);
}

async fn delete_removes_everywhere_and_stays_deleted(s: Arc<dyn TimelineStore>) {
    let fx = Fx::new(s, config(Strategy::Push, 100));
    fx.page(1, 10).await;
    for f in 2..=6 {
        fx.page(f, 10).await;
        fx.follow(f, 1).await;
    }
    let p = post(10, 1, 1);
    fx.publish(p).await;
    fx.publish(post(11, 1, 2)).await;
    fx.delete(p).await;
    for u in 1..=6 {
        assert_eq!(fx.stored(u).await, Some(vec![11]), "user {u}");
    }
    // A late redelivery (a retried job, say) does not bring it back.
    assert_eq!(fx.engine.publish(&p).await.unwrap().delivered, 0);
    fx.follow(2, 1).await;
    fx.engine.regenerate(UserId(3)).await.unwrap();
    for u in 1..=6 {
        assert_eq!(fx.stored(u).await, Some(vec![11]), "user {u}");
    }
}

for_each_store!(
    follow_backfills_recent_posts,
    unfollow_removes_only_that_author,
    delete_removes_everywhere_and_stays_deleted,
);
