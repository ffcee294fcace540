//! Posts and comments.

use keel_storage::{
    Clock, CommentId, NewComment, NewPost, PostId, PostPatch, PostQuery, PostType, StorageError,
    Timestamp, Visibility,
};

use super::{Ctx, all_pages, assert_not_found, field_of};
use keel_storage::page::{Seek, SortValue};

pub async fn posts_crud_and_parsing(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let post = cx.post(&ada, "Hello #Rust and #rust, cc @Bob @bob").await;
    assert_eq!(post.author, ada.id);
    assert_eq!(post.hashtags, ["rust"]);
    assert_eq!(post.mentions, ["bob"]);
    assert_eq!((post.like_count, post.comment_count), (0, 0));
    assert_eq!(post.kind, PostType::Text);
    assert_eq!(post.visibility, Visibility::Public);
    assert_eq!(post.created_at, cx.clock.now());
    assert_eq!(s.post(post.id).await.unwrap(), post);

    cx.tick();
    let img = s
        .create_post(NewPost {
            author: ada.id,
            content: "a picture".into(),
            media: vec!["https://img/1.png".into()],
            kind: PostType::Image,
            visibility: Visibility::Followers,
        })
        .await
        .unwrap();
    assert_eq!(s.post(img.id).await.unwrap().media, ["https://img/1.png"]);

    cx.tick();
    let edited = s
        .update_post(
            post.id,
            PostPatch {
                content: Some("Now about #Go".into()),
                visibility: Some(Visibility::Private),
                ..PostPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.hashtags, ["go"]);
    assert!(edited.mentions.is_empty());
    assert_eq!(edited.visibility, Visibility::Private);
    assert_eq!(edited.updated_at, cx.clock.now());
    assert_eq!(edited.created_at, post.created_at);
    assert_eq!(s.post(post.id).await.unwrap(), edited);
    // A patch that would leave an image post without media is refused.
    let r = s
        .update_post(
            img.id,
            PostPatch {
                media: Some(vec![]),
                ..PostPatch::default()
            },
        )
        .await;
    assert_eq!(field_of(r), "media");
    assert_eq!(s.post(img.id).await.unwrap(), img);

    let r = s
        .create_post(NewPost::text(keel_storage::UserId(uuid::Uuid::nil()), "x"))
        .await;
    assert!(matches!(r, Err(StorageError::NotFound { .. })), "{r:?}");
    s.delete_post(post.id).await.unwrap();
    assert_not_found(s.post(post.id).await);
    assert_not_found(s.delete_post(post.id).await);
    assert_not_found(s.update_post(post.id, PostPatch::default()).await);
}

pub async fn posts_by_author_keyset(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let bob = cx.user("bob").await;
    let mut ids = Vec::new();
    for i in 0..13 {
        // Several posts share a time: the id breaks the tie.
        if i % 3 == 0 {
            cx.tick();
        }
        let p = s
            .create_post(NewPost::text(ada.id, format!("post {i}")))
            .await
            .unwrap();
        ids.push(p.id);
        if i % 4 == 0 {
            s.create_post(NewPost::text(bob.id, "noise")).await.unwrap();
        }
    }
    ids.reverse();
    for limit in [1, 2, 5, 13, 50] {
        let got: Vec<PostId> = all_pages(
            limit,
            |k| async move { s.posts_by_author(ada.id, &k).await },
        )
        .await
        .into_iter()
        .map(|p| p.id)
        .collect();
        assert_eq!(got, ids, "limit {limit}");
    }
    // A post inserted after a page was read shows up only on a fresh first page (keyset).
    let first = s.posts_by_author(ada.id, &Seek::first(5)).await.unwrap();
    cx.tick();
    let newer = cx.post(&ada, "newer").await;
    let second = s
        .posts_by_author(ada.id, &super::after(5, first.next.clone()))
        .await
        .unwrap();
    assert_eq!(second.items[0].id, ids[5]);
    let fresh = s.posts_by_author(ada.id, &Seek::first(1)).await.unwrap();
    assert_eq!(fresh.items[0].id, newer.id);
    let none = s
        .posts_by_author(keel_storage::UserId(uuid::Uuid::nil()), &Seek::first(5))
        .await
        .unwrap();
    assert!(none.items.is_empty() && !none.has_next);
}

pub async fn posts_by_ids_order(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let a = cx.post(&ada, "a").await;
    let b = cx.post(&ada, "b").await;
    let c = cx.post(&ada, "c").await;
    let missing = PostId(uuid::Uuid::nil());
    let got: Vec<PostId> = s
        .posts_by_ids(&[c.id, missing, a.id, c.id, b.id])
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(got, [c.id, a.id, b.id]);
    assert!(s.posts_by_ids(&[]).await.unwrap().is_empty());
    let too_many = vec![a.id; 1001];
    assert_eq!(field_of(s.posts_by_ids(&too_many).await), "ids");
}

pub async fn comments_threads(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let bob = cx.user("bob").await;
    let post = cx.post(&ada, "discuss").await;
    let other = cx.post(&ada, "other").await;
    let comment = |parent: Option<CommentId>, text: &str| NewComment {
        post: post.id,
        author: bob.id,
        parent,
        content: text.into(),
    };
    let mut top = Vec::new();
    for i in 0..5 {
        cx.tick();
        top.push(
            s.add_comment(comment(None, &format!("top {i}")))
                .await
                .unwrap(),
        );
    }
    let r1 = s
        .add_comment(comment(Some(top[0].id), "reply 1"))
        .await
        .unwrap();
    let r2 = s
        .add_comment(comment(Some(top[0].id), "reply 2"))
        .await
        .unwrap();
    let r11 = s
        .add_comment(comment(Some(r1.id), "reply to reply"))
        .await
        .unwrap();
    assert_eq!(s.comment(r11.id).await.unwrap().parent, Some(r1.id));
    assert_eq!(s.post(post.id).await.unwrap().comment_count, 8);

    let tops: Vec<CommentId> = all_pages(2, |k| async move { s.comments(post.id, None, &k).await })
        .await
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        tops,
        top.iter().map(|c| c.id).collect::<Vec<_>>(),
        "oldest first"
    );
    let top0 = top[0].id;
    let replies: Vec<CommentId> =
        all_pages(
            1,
            |k| async move { s.comments(post.id, Some(top0), &k).await },
        )
        .await
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(replies, [r1.id, r2.id]);

    // Validation: empty text, a parent on another post, a missing parent.
    assert_eq!(
        field_of(s.add_comment(comment(None, "  ")).await),
        "content"
    );
    let foreign = NewComment {
        post: other.id,
        author: bob.id,
        parent: Some(top[1].id),
        content: "x".into(),
    };
    assert_eq!(field_of(s.add_comment(foreign).await), "parent");
    assert_not_found(
        s.add_comment(comment(Some(CommentId(uuid::Uuid::nil())), "x"))
            .await,
    );

    // Deleting a comment removes its thread and fixes the count.
    assert_eq!(s.delete_comment(top[0].id).await.unwrap(), 4);
    assert_not_found(s.comment(r11.id).await);
    assert_eq!(s.post(post.id).await.unwrap().comment_count, 4);
    assert_not_found(s.delete_comment(top[0].id).await);
    // Deleting the post removes its comments.
    s.delete_post(post.id).await.unwrap();
    assert_not_found(s.comment(top[1].id).await);
}

/// Every page of `query`, through [`all_pages`] (forward, then backward), as ids.
async fn listed(
    s: &std::sync::Arc<dyn keel_storage::Store>,
    query: PostQuery,
    limit: usize,
) -> Vec<PostId> {
    all_pages(limit, |k| async move { s.list_posts(&query, &k).await })
        .await
        .into_iter()
        .map(|p| p.id)
        .collect()
}

pub async fn posts_listed_filtered_and_sorted(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let bob = cx.user("bob").await;
    let cy = cx.user("cyd").await;
    s.follow(cy.id, ada.id).await.unwrap();
    let mut made = Vec::new();
    for (author, visibility) in [
        (ada.id, Visibility::Public),
        (ada.id, Visibility::Followers),
        (bob.id, Visibility::Public),
        (ada.id, Visibility::Private),
        (bob.id, Visibility::Followers),
    ] {
        cx.tick();
        let p = s
            .create_post(NewPost {
                visibility,
                ..NewPost::text(author, "listed")
            })
            .await
            .unwrap();
        made.push(p);
    }
    let id = |i: usize| made[i].id;
    let newest = |v: &[usize]| v.iter().rev().map(|i| id(*i)).collect::<Vec<_>>();
    let oldest = |v: &[usize]| v.iter().map(|i| id(*i)).collect::<Vec<_>>();
    let all = PostQuery::all();
    for limit in [1, 2, 10] {
        // Anonymous: public posts only.
        assert_eq!(
            listed(s, all, limit).await,
            newest(&[0, 2]),
            "limit {limit}"
        );
        // A follower sees the followees' followers-only posts; nobody sees another's private one.
        assert_eq!(
            listed(s, all.seen_by(Some(cy.id)), limit).await,
            newest(&[0, 1, 2])
        );
        assert_eq!(
            listed(s, all.seen_by(Some(bob.id)), limit).await,
            newest(&[0, 2, 4])
        );
        assert_eq!(
            listed(s, all.seen_by(Some(ada.id)), limit).await,
            newest(&[0, 1, 2, 3])
        );
        assert_eq!(
            listed(s, all.seen_by(Some(ada.id)).oldest_first(), limit).await,
            oldest(&[0, 1, 2, 3])
        );
        // One author.
        let ada_posts = all.by(ada.id).seen_by(Some(cy.id));
        assert_eq!(listed(s, ada_posts, limit).await, newest(&[0, 1]));
        assert_eq!(
            listed(s, ada_posts.oldest_first(), limit).await,
            oldest(&[0, 1])
        );
        assert_eq!(listed(s, all.by(ada.id), limit).await, newest(&[0]));
        assert_eq!(
            listed(s, all.by(bob.id).seen_by(Some(cy.id)), limit).await,
            newest(&[2])
        );
    }
    // Time bounds are exclusive.
    let t = |i: usize| made[i].created_at;
    let me = all.seen_by(Some(ada.id));
    assert_eq!(
        listed(s, me.created_after(t(0)), 2).await,
        newest(&[1, 2, 3])
    );
    assert_eq!(
        listed(s, me.created_before(t(3)), 2).await,
        newest(&[0, 1, 2])
    );
    assert_eq!(
        listed(
            s,
            me.created_after(t(0)).created_before(t(3)).oldest_first(),
            1
        )
        .await,
        oldest(&[1, 2])
    );
    assert!(
        listed(s, me.created_after(t(2)).created_before(t(2)), 2)
            .await
            .is_empty()
    );
    let never = Timestamp::from_micros(i64::MAX);
    assert!(listed(s, me.created_after(never), 2).await.is_empty());
    // An unknown author lists nothing.
    let nobody = all.by(keel_storage::UserId(uuid::Uuid::nil()));
    assert!(listed(s, nobody, 2).await.is_empty());

    // Many posts sharing times: the id breaks ties in both orders, pages never skip or repeat.
    let mut more = Vec::new();
    for i in 0..11 {
        if i % 3 == 0 {
            cx.tick();
        }
        let author = if i % 2 == 0 { &ada } else { &bob };
        let p = s
            .create_post(NewPost::text(author.id, format!("more {i}")))
            .await
            .unwrap();
        more.push(p.id);
    }
    let after = all.created_after(t(4));
    for limit in [1, 3, 4, 20] {
        assert_eq!(
            listed(s, after.oldest_first(), limit).await,
            more,
            "limit {limit}"
        );
        let mut desc = more.clone();
        desc.reverse();
        assert_eq!(listed(s, after, limit).await, desc, "limit {limit}");
    }
    // Deleted posts leave the list; a position that does not fit the sort is refused.
    s.delete_post(more[0]).await.unwrap();
    assert_eq!(listed(s, after.oldest_first(), 4).await, more[1..]);
    let wrong = Seek {
        position: keel_storage::page::Position::after(vec![SortValue::Text("x".into())]),
        ..Seek::first(2)
    };
    assert_eq!(field_of(s.list_posts(&after, &wrong).await), "position");
    let too_many = Seek {
        limit: keel_storage::page::MAX_PAGE_SIZE + 1,
        ..Seek::first(1)
    };
    assert_eq!(field_of(s.list_posts(&after, &too_many).await), "limit");
}
