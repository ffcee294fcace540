//! Counters under concurrency: many tasks liking and unliking at once.

use std::collections::HashMap;
use std::time::Duration;

use keel_storage::{Event, PostId};

use super::Ctx;

const USERS: usize = 20;
const POSTS: usize = 4;
const TASKS: usize = 50;
const OPS_PER_TASK: usize = 20;

/// 1,000 likes and unlikes from 50 tasks: every like count equals its like rows, the likers
/// `has_liked` reports, and the Liked minus Unliked events of the outbox.
pub async fn likes_and_unlikes_keep_counts_exact(cx: Ctx) {
    let s = &cx.store;
    let mut users = Vec::new();
    for i in 0..USERS {
        users.push(cx.user(&format!("user{i}")).await.id);
    }
    let mut posts = Vec::new();
    for (i, author) in users.iter().take(POSTS).enumerate() {
        posts.push(cx.post_by(*author, &format!("post {i}")).await.id);
    }
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = s.clone();
        let users = users.clone();
        let posts = posts.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..OPS_PER_TASK {
                let user = users[(t * 7 + i) % USERS];
                let post = posts[(t + i * 3) % POSTS];
                let r = if (t + i) % 3 == 0 {
                    store.unlike(user, post).await
                } else {
                    store.like(user, post).await
                };
                let outcome = r.unwrap();
                assert!(outcome.like_count >= 0);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    let mut event_balance: HashMap<PostId, i64> = HashMap::new();
    loop {
        let batch = s.claim_outbox(1000, Duration::from_secs(60)).await.unwrap();
        if batch.is_empty() {
            break;
        }
        for r in batch {
            match r.event {
                Event::Liked { post, .. } => *event_balance.entry(post).or_default() += 1,
                Event::Unliked { post, .. } => *event_balance.entry(post).or_default() -= 1,
                _ => {}
            }
            s.mark_published(r.seq).await.unwrap();
        }
    }
    let mut total = 0;
    for post in &posts {
        let count = s.post(*post).await.unwrap().like_count;
        let rows = s.count_like_rows(*post).await.unwrap();
        let mut likers = 0;
        for u in &users {
            if s.has_liked(*u, *post).await.unwrap() {
                likers += 1;
            }
        }
        assert_eq!(count, i64::try_from(rows).unwrap(), "counter == rows");
        assert_eq!(rows, likers, "rows == likers");
        assert_eq!(
            event_balance.get(post).copied().unwrap_or(0),
            count,
            "events == counter"
        );
        total += count;
    }
    assert!(total > 0, "the workload left some likes");
}
