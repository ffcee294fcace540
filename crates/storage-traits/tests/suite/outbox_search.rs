//! The outbox and full-text search.

use std::time::Duration;

use keel_storage::{Event, NewComment, NewPost, PostId, PostPatch, UserPatch, Visibility};

use super::{Ctx, all_pages};
use keel_storage::page::Seek;

pub async fn outbox_records_and_leases(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let bob = cx.user("bob").await;
    let post = cx.post(&ada, "hello").await;
    s.follow(bob.id, ada.id).await.unwrap();
    s.follow(bob.id, ada.id).await.unwrap(); // no-op: no event
    s.like(bob.id, post.id).await.unwrap();
    s.like(bob.id, post.id).await.unwrap(); // no-op: no event
    let c = s
        .add_comment(NewComment {
            post: post.id,
            author: bob.id,
            parent: None,
            content: "hi".into(),
        })
        .await
        .unwrap();
    s.update_user(
        bob.id,
        UserPatch {
            verified: Some(true),
            ..UserPatch::default()
        },
    )
    .await
    .unwrap();
    s.unlike(bob.id, post.id).await.unwrap();
    s.unfollow(bob.id, ada.id).await.unwrap();
    s.update_post(
        post.id,
        PostPatch {
            content: Some("edited".into()),
            ..PostPatch::default()
        },
    )
    .await
    .unwrap();
    s.delete_comment(c.id).await.unwrap();
    s.delete_post(post.id).await.unwrap();
    let expected = vec![
        Event::UserCreated {
            user: ada.id,
            username: "ada".into(),
        },
        Event::UserCreated {
            user: bob.id,
            username: "bob".into(),
        },
        Event::PostCreated {
            post: post.id,
            author: ada.id,
            visibility: Visibility::Public,
            created_at: post.created_at,
        },
        Event::Followed {
            follower: bob.id,
            followee: ada.id,
        },
        Event::Liked {
            user: bob.id,
            post: post.id,
        },
        Event::CommentAdded {
            comment: c.id,
            post: post.id,
            author: bob.id,
            parent: None,
        },
        Event::UserUpdated { user: bob.id },
        Event::Unliked {
            user: bob.id,
            post: post.id,
        },
        Event::Unfollowed {
            follower: bob.id,
            followee: ada.id,
        },
        Event::PostUpdated {
            post: post.id,
            author: ada.id,
        },
        Event::CommentDeleted {
            comment: c.id,
            post: post.id,
        },
        Event::PostDeleted {
            post: post.id,
            author: ada.id,
        },
    ];
    assert_eq!(s.pending_outbox().await.unwrap(), expected.len() as u64);

    let lease = Duration::from_secs(30);
    let first = s.claim_outbox(5, lease).await.unwrap();
    assert_eq!(first.len(), 5);
    assert!(
        first
            .iter()
            .all(|r| r.attempts == 1 && r.created_at.as_micros() > 0)
    );
    // Every later record belongs to an aggregate (ada, bob, the post) with a leased record:
    // per-aggregate order holds them back.
    assert!(s.claim_outbox(100, lease).await.unwrap().is_empty());
    for r in &first {
        assert!(s.mark_published(r.seq).await.unwrap());
        assert!(!s.mark_published(r.seq).await.unwrap(), "idempotent");
    }
    let second = s.claim_outbox(100, lease).await.unwrap();
    let events: Vec<Event> = first
        .iter()
        .chain(&second)
        .map(|r| r.event.clone())
        .collect();
    assert_eq!(events, expected);
    // Claims come in creation order: record ids (UUIDv7 from one generator) increase. Seqs are
    // unique; they also increase in one database, but a sharded store's are per shard.
    let order: Vec<uuid::Uuid> = first.iter().chain(&second).map(|r| r.id).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "creation order");
    let seqs: std::collections::HashSet<i64> = first.iter().chain(&second).map(|r| r.seq).collect();
    assert_eq!(seqs.len(), expected.len(), "seqs are unique");
    let ids: std::collections::HashSet<_> = first.iter().chain(&second).map(|r| r.id).collect();
    assert_eq!(ids.len(), expected.len(), "event ids are unique");
    assert!(s.claim_outbox(100, lease).await.unwrap().is_empty());
    assert_eq!(s.pending_outbox().await.unwrap(), second.len() as u64);

    // The relay that claimed `second` died: after the lease, the records come back.
    cx.clock.advance_micros(31_000_000);
    let again = s.claim_outbox(100, lease).await.unwrap();
    let seqs_of = |v: &[keel_storage::OutboxRecord]| v.iter().map(|r| r.seq).collect::<Vec<_>>();
    assert_eq!(seqs_of(&again), seqs_of(&second));
    assert!(again.iter().all(|r| r.attempts == 2));
    // A failed publish gives records back at once.
    s.release_outbox(&seqs_of(&again)).await.unwrap();
    let released = s.claim_outbox(100, lease).await.unwrap();
    assert_eq!(seqs_of(&released), seqs_of(&second));
    for r in &released {
        s.mark_published(r.seq).await.unwrap();
    }
    assert_eq!(s.pending_outbox().await.unwrap(), 0);
    assert!(matches!(
        s.mark_published(1_000_000).await,
        Err(keel_storage::StorageError::NotFound { .. })
    ));
    assert!(s.claim_outbox(0, lease).await.is_err());
}

pub async fn outbox_orders_per_aggregate(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let bob = cx.user("bob").await;
    let lease = Duration::from_secs(10);
    for r in s.claim_outbox(10, lease).await.unwrap() {
        s.mark_published(r.seq).await.unwrap();
    }
    let a = cx.post(&ada, "a").await;
    let b = cx.post(&bob, "b").await;
    s.like(bob.id, a.id).await.unwrap();
    s.like(ada.id, b.id).await.unwrap();
    // Relay 1 takes a's creation; relay 2 may take b's events but not a's like.
    let r1 = s.claim_outbox(1, lease).await.unwrap();
    assert_eq!(r1[0].event.aggregate_id(), a.id.to_string());
    let r2 = s.claim_outbox(10, lease).await.unwrap();
    let aggs: Vec<String> = r2.iter().map(|r| r.event.aggregate_id()).collect();
    assert_eq!(aggs, [b.id.to_string(), b.id.to_string()]);
    s.mark_published(r1[0].seq).await.unwrap();
    let r3 = s.claim_outbox(10, lease).await.unwrap();
    assert_eq!(r3.len(), 1);
    assert_eq!(
        r3[0].event,
        Event::Liked {
            user: bob.id,
            post: a.id
        }
    );
    assert_eq!(r3[0].event.family(), "posts");
    assert_eq!(r3[0].event.kind(), "Liked");
}

pub async fn search_posts_ranked(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let both = cx.post(&ada, "Learning #rust async today").await;
    let rust_only = cx.post(&ada, "rust is fun").await;
    let async_only = cx.post(&ada, "async all the things").await;
    cx.post(&ada, "nothing relevant").await;
    cx.tick();
    let hidden = s
        .create_post(NewPost {
            visibility: Visibility::Private,
            ..NewPost::text(ada.id, "secret rust async")
        })
        .await
        .unwrap();
    let page = s
        .search_posts("Rust ASYNC", &Seek::first(10))
        .await
        .unwrap();
    let ids: Vec<PostId> = page.items.iter().map(|h| h.item.id).collect();
    assert_eq!(ids[0], both.id, "both terms rank first");
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&rust_only.id) && ids.contains(&async_only.id));
    assert!(
        !ids.contains(&hidden.id),
        "private posts are not searchable"
    );
    assert!(page.items[0].score > page.items[1].score);
    // Hashtags are searchable, edits reindex, deletes unindex.
    let tag = s.search_posts("#rust", &Seek::first(10)).await.unwrap();
    assert_eq!(tag.items.len(), 2);
    s.update_post(
        rust_only.id,
        PostPatch {
            content: Some("now about go".into()),
            ..PostPatch::default()
        },
    )
    .await
    .unwrap();
    s.delete_post(both.id).await.unwrap();
    // Under inline indexing, an indexer's calls change nothing.
    s.reindex_post(both.id).await.unwrap();
    s.reindex_post(rust_only.id).await.unwrap();
    let page = s.search_posts("rust", &Seek::first(10)).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(
        s.search_posts("go", &Seek::first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert!(
        s.search_posts("", &Seek::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        s.search_posts("!!! ???", &Seek::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // Paginated: every match once.
    for i in 0..7 {
        cx.post(&ada, &format!("paging word {i}")).await;
    }
    let all = all_pages(3, |k| async move { s.search_posts("paging", &k).await }).await;
    assert_eq!(all.len(), 7);
}

pub async fn search_users_ranked(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    s.update_user(
        ada.id,
        UserPatch {
            display_name: Some("Ada Lovelace".into()),
            ..UserPatch::default()
        },
    )
    .await
    .unwrap();
    let love = cx.user("lovelace").await;
    cx.user("bob").await;
    let page = s
        .search_users("ada lovelace", &Seek::first(10))
        .await
        .unwrap();
    let ids: Vec<_> = page.items.iter().map(|h| h.item.id).collect();
    assert_eq!(ids, [ada.id, love.id]);
    let page = s.search_users("LOVELACE", &Seek::first(1)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let rest = s
        .search_users("lovelace", &super::after(1, page.next.clone()))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(!rest.has_next);
    assert_ne!(rest.items[0].item.id, page.items[0].item.id);
}

/// The ids a post search returns.
async fn post_hits(cx: &Ctx, query: &str) -> Vec<PostId> {
    let page = cx
        .store
        .search_posts(query, &Seek::first(50))
        .await
        .unwrap();
    page.items.iter().map(|h| h.item.id).collect()
}

/// The usernames a user search returns.
async fn user_hits(cx: &Ctx, query: &str) -> Vec<String> {
    let page = cx
        .store
        .search_users(query, &Seek::first(50))
        .await
        .unwrap();
    page.items.iter().map(|h| h.item.username.clone()).collect()
}

/// Under `SearchIndexing::Deferred` (the store this test is given), writes leave the index
/// alone and `reindex_*` brings it up to date from the rows; deletions and visibility changes
/// take effect at once; reindexing is idempotent and accepts ids that no longer exist.
pub async fn search_deferred_until_reindexed(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    assert!(user_hits(&cx, "ada").await.is_empty(), "not indexed yet");
    s.reindex_user(ada.id).await.unwrap();
    s.reindex_user(ada.id).await.unwrap(); // a redelivered event
    assert_eq!(user_hits(&cx, "ada").await, ["ada"]);

    let post = cx.post(&ada, "deferred rust").await;
    assert!(post_hits(&cx, "rust").await.is_empty(), "not indexed yet");
    s.reindex_post(post.id).await.unwrap();
    assert_eq!(post_hits(&cx, "rust").await, [post.id]);

    // An edit: the old terms still match (the returned row is already the new one) until the
    // indexer catches up.
    cx.tick();
    let edited = s
        .update_post(
            post.id,
            PostPatch {
                content: Some("deferred golang".into()),
                ..PostPatch::default()
            },
        )
        .await
        .unwrap();
    let page = s.search_posts("rust", &Seek::first(10)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].item.content, edited.content);
    assert!(post_hits(&cx, "golang").await.is_empty());
    s.reindex_post(post.id).await.unwrap();
    assert_eq!(post_hits(&cx, "golang").await, [post.id]);
    assert!(post_hits(&cx, "rust").await.is_empty());

    // Made private: hidden at once, reindexed or not.
    cx.tick();
    s.update_post(
        post.id,
        PostPatch {
            visibility: Some(Visibility::Private),
            ..PostPatch::default()
        },
    )
    .await
    .unwrap();
    assert!(post_hits(&cx, "golang").await.is_empty());

    // Deleted: gone at once; reindexing a deleted or unknown id is fine.
    let other = cx.post(&ada, "deferred zig").await;
    s.reindex_post(other.id).await.unwrap();
    s.delete_post(other.id).await.unwrap();
    assert!(post_hits(&cx, "zig").await.is_empty());
    s.reindex_post(other.id).await.unwrap();
    s.reindex_post(PostId(uuid::Uuid::from_u128(42)))
        .await
        .unwrap();
    s.delete_user(ada.id).await.unwrap();
    assert!(user_hits(&cx, "ada").await.is_empty());
    s.reindex_user(ada.id).await.unwrap();
    assert!(user_hits(&cx, "ada").await.is_empty());
}

/// A relay marks a published wave with one call: unknown and already published `seq`s are
/// skipped, and the count says how many were newly marked.
pub async fn outbox_marks_many_at_once(cx: Ctx) {
    let s = &cx.store;
    for name in ["ada", "bob", "cyd"] {
        cx.user(name).await;
    }
    let claimed = s.claim_outbox(10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(claimed.len(), 3);
    let seqs: Vec<i64> = claimed.iter().map(|r| r.seq).collect();
    assert!(s.mark_published(seqs[0]).await.unwrap());
    let unknown = seqs.iter().max().unwrap() + 1_000_000;
    assert_eq!(
        s.mark_published_many(&[seqs[0], seqs[1], unknown])
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.pending_outbox().await.unwrap(), 1);
    assert_eq!(s.mark_published_many(&seqs).await.unwrap(), 1);
    assert_eq!(s.mark_published_many(&[]).await.unwrap(), 0);
    assert_eq!(s.pending_outbox().await.unwrap(), 0);
}
