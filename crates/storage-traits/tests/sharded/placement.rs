//! What only a sharded store has: where rows live, the cross-shard feed, the claims.

use std::sync::Arc;
use std::time::Duration;

use keel_storage::page::Seek;
use keel_storage::{
    Clock, FollowRepo, LikeRepo, ManualClock, NewPost, NewUser, OutboxRepo, PgOptions, PostRepo,
    ShardedPgStore, StorageError, UserId, UserRepo, Visibility,
};

use super::{drop_all, store};
use crate::suite::{all_pages, start};

async fn count(store: &ShardedPgStore, shard: usize, sql: &str, id: uuid::Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(store.shard(shard).unwrap().pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_live_on_their_users_shard() {
    let clock = Arc::new(ManualClock::new(start()));
    let Some((s, url, names)) = store(clock.clone()).await else {
        return;
    };
    let mut users = Vec::new();
    for i in 0..24 {
        clock.advance_micros(1_000);
        let u = s
            .create_user(NewUser::new(format!("user{i}"), format!("u{i}@x.io"), "h"))
            .await
            .unwrap();
        users.push(u);
    }
    let mut per_shard = [0usize; super::SHARDS];
    for u in &users {
        let home = s.shard_of_user(u.id).0 as usize;
        per_shard[home] += 1;
        assert_eq!(
            count(&s, home, "SELECT count(*) FROM users WHERE id = $1", u.id.0).await,
            1
        );
        for other in (0..super::SHARDS).filter(|o| *o != home) {
            let n = count(
                &s,
                other,
                "SELECT count(*) FROM users WHERE id = $1",
                u.id.0,
            )
            .await;
            assert_eq!(n, 0, "a user lives on one shard");
        }
    }
    assert!(
        per_shard.iter().all(|n| *n > 0),
        "users spread: {per_shard:?}"
    );

    // A post lives with its author; a like with the post, whoever likes it.
    let (ada, bob) = (&users[0], &users[1]);
    let bob_home = s.shard_of_user(bob.id).0 as usize;
    let post = s.create_post(NewPost::text(bob.id, "hello")).await.unwrap();
    for u in &users {
        s.like(u.id, post.id).await.unwrap();
    }
    let n = count(
        &s,
        bob_home,
        "SELECT count(*) FROM likes WHERE post_id = $1",
        post.id.0,
    )
    .await;
    assert_eq!(n, users.len() as i64);
    assert_eq!(
        s.post(post.id).await.unwrap().like_count,
        users.len() as i64
    );
    // The post's events are in its shard's outbox, and each shard's relay sees its own.
    let agg = post.id.to_string();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE aggregate_id = $1")
        .bind(&agg)
        .fetch_one(s.shard(bob_home).unwrap().pool())
        .await
        .unwrap();
    assert_eq!(n, 1 + users.len() as i64, "PostCreated and every Liked");
    let mut relayed = 0;
    for outbox in s.shard_outboxes() {
        relayed += outbox
            .claim_outbox(1_000, Duration::from_secs(5))
            .await
            .unwrap()
            .len();
    }
    assert_eq!(relayed as u64, s.pending_outbox().await.unwrap());

    // Deleting a user removes their likes on other shards and fixes the counters.
    s.delete_user(ada.id).await.unwrap();
    assert_eq!(
        s.post(post.id).await.unwrap().like_count,
        users.len() as i64 - 1
    );
    assert_eq!(
        s.count_like_rows(post.id).await.unwrap(),
        users.len() as u64 - 1
    );
    drop_all(s, url, names).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followee_posts_merge_every_shard_newest_first() {
    let clock = Arc::new(ManualClock::new(start()));
    let Some((s, url, names)) = store(clock.clone()).await else {
        return;
    };
    let reader = s
        .create_user(NewUser::new("reader", "reader@x.io", "h"))
        .await
        .unwrap();
    let mut authors: Vec<UserId> = Vec::new();
    for i in 0..8 {
        clock.advance_micros(1_000);
        let u = s
            .create_user(NewUser::new(
                format!("author{i}"),
                format!("a{i}@x.io"),
                "h",
            ))
            .await
            .unwrap();
        if i < 6 {
            s.follow(reader.id, u.id).await.unwrap();
        }
        authors.push(u.id);
    }
    let homes: std::collections::HashSet<u32> =
        authors[..6].iter().map(|a| s.shard_of_user(*a).0).collect();
    assert!(homes.len() > 1, "the followees span shards");
    let mut expected = Vec::new();
    for round in 0..5 {
        for (i, a) in authors.iter().enumerate() {
            // Some posts share a timestamp: the id breaks the tie.
            if (round + i) % 3 != 0 {
                clock.advance_micros(1_000);
            }
            let visibility = if (round + i) % 4 == 0 {
                Visibility::Private
            } else {
                Visibility::Public
            };
            let p = s
                .create_post(NewPost {
                    visibility,
                    ..NewPost::text(*a, format!("post {round} by {i}"))
                })
                .await
                .unwrap();
            if i < 6 && visibility != Visibility::Private {
                expected.push(p);
            }
        }
    }
    expected.sort_by_key(|p| std::cmp::Reverse((p.created_at, p.id)));
    for limit in [1, 4, 7, 50] {
        let got = all_pages(limit, |seek| {
            let s = s.clone();
            async move { s.followee_posts(reader.id, &seek).await }
        })
        .await;
        assert_eq!(got, expected, "limit {limit}");
    }
    let counts = s.follow_counts(authors[0]).await.unwrap();
    assert_eq!((counts.followers, counts.following), (1, 0));
    assert!(
        s.followee_posts(reader.id, &Seek::first(201))
            .await
            .is_err()
    );
    drop_all(s, url, names).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_stay_global_and_heal_after_a_crash() {
    let clock = Arc::new(ManualClock::new(start()));
    let Some((s, url, names)) = store(clock.clone()).await else {
        return;
    };
    let dir = s.shard(0).unwrap().pool().clone();
    // Different cases, different home shards: still one username.
    s.create_user(NewUser::new("Ada", "ada@x.io", "h"))
        .await
        .unwrap();
    let err = s
        .create_user(NewUser::new("aDA", "other@x.io", "h"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::Conflict {
                field: "username",
                ..
            }
        ),
        "{err:?}"
    );
    // The failed sign-up released its email claim.
    s.create_user(NewUser::new("other", "OTHER@x.io", "h"))
        .await
        .unwrap();

    // A sign-up that crashed after claiming: pending claims, no user.
    let now = clock.now().as_micros();
    for (kind, value) in [("username", "ghost"), ("email", "ghost@x.io")] {
        sqlx::query("INSERT INTO keel_shard_claims VALUES ($1, $2, NULL, $3)")
            .bind(kind)
            .bind(value)
            .bind(now)
            .execute(&dir)
            .await
            .unwrap();
    }
    let again = || s.create_user(NewUser::new("ghost", "ghost@x.io", "h"));
    assert!(
        matches!(again().await, Err(StorageError::Conflict { .. })),
        "within the grace"
    );
    clock.advance_micros(keel_storage::sharded::CLAIM_GRACE_MICROS + 1);
    let ghost = again().await.unwrap();
    assert_eq!(s.user_by_username("GHOST").await.unwrap().id, ghost.id);
    assert_eq!(s.user_by_email("ghost@X.io").await.unwrap().id, ghost.id);

    // A crash after the user row but before binding: the claim is adopted, never taken.
    sqlx::query("UPDATE keel_shard_claims SET user_id = NULL WHERE value = 'ghost'")
        .execute(&dir)
        .await
        .unwrap();
    clock.advance_micros(keel_storage::sharded::CLAIM_GRACE_MICROS + 1);
    let err = s
        .create_user(NewUser::new("ghost", "ghost2@x.io", "h"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::Conflict {
                field: "username",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(s.user_by_username("ghost").await.unwrap().id, ghost.id);

    // Renames move the claim; the old name is free again.
    s.update_user(
        ghost.id,
        keel_storage::UserPatch {
            username: Some("casper".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(s.user_by_username("casper").await.unwrap().id, ghost.id);
    assert!(matches!(
        s.user_by_username("ghost").await,
        Err(StorageError::NotFound { .. })
    ));
    s.create_user(NewUser::new("ghost", "ghost3@x.io", "h"))
        .await
        .unwrap();
    drop_all(s, url, names).await;
}

#[tokio::test]
async fn bad_shard_lists_are_invalid_input() {
    let none: [&str; 0] = [];
    let err = ShardedPgStore::connect(&none, PgOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::InvalidInput {
                field: "shards",
                ..
            }
        ),
        "{err:?}"
    );
    let many = vec!["postgres://x@127.0.0.1:1/x"; 257];
    let err = ShardedPgStore::connect(&many, PgOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::InvalidInput {
                field: "shards",
                ..
            }
        ),
        "{err:?}"
    );
}
