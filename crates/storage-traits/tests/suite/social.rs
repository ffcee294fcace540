//! Follows and likes.

use keel_storage::{Follow, PostId, UserId};

use super::{Ctx, all_pages, assert_not_found};

pub async fn follows_idempotent_and_listed(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let mut fans = Vec::new();
    for i in 0..7 {
        let u = cx.user(&format!("fan{i}")).await;
        assert!(s.follow(u.id, ada.id).await.unwrap());
        fans.push(u);
    }
    assert!(!s.follow(fans[0].id, ada.id).await.unwrap(), "idempotent");
    assert!(s.follow(ada.id, fans[3].id).await.unwrap());
    assert!(s.is_following(fans[0].id, ada.id).await.unwrap());
    assert!(!s.is_following(ada.id, fans[0].id).await.unwrap());

    let followers: Vec<Follow> =
        all_pages(3, |k| async move { s.followers(ada.id, &k).await }).await;
    let expected: Vec<UserId> = fans.iter().rev().map(|u| u.id).collect();
    assert_eq!(
        followers.iter().map(|f| f.follower).collect::<Vec<_>>(),
        expected
    );
    assert!(followers.iter().all(|f| f.followee == ada.id));
    let following = all_pages(3, |k| async move { s.following(ada.id, &k).await }).await;
    assert_eq!(following.len(), 1);
    assert_eq!(following[0].followee, fans[3].id);

    let c = s.follow_counts(ada.id).await.unwrap();
    assert_eq!((c.followers, c.following), (7, 1));
    assert!(s.unfollow(fans[0].id, ada.id).await.unwrap());
    assert!(!s.unfollow(fans[0].id, ada.id).await.unwrap(), "idempotent");
    assert_eq!(s.follow_counts(ada.id).await.unwrap().followers, 6);
    assert_not_found(s.follow(ada.id, UserId(uuid::Uuid::nil())).await);
    assert_not_found(s.follow_counts(UserId(uuid::Uuid::nil())).await);
}

pub async fn likes_idempotent_and_counted(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let bob = cx.user("bob").await;
    let post = cx.post(&ada, "like me").await;
    let o = s.like(bob.id, post.id).await.unwrap();
    assert!(o.changed);
    assert_eq!(o.like_count, 1);
    let o = s.like(bob.id, post.id).await.unwrap();
    assert!(!o.changed);
    assert_eq!(o.like_count, 1);
    assert_eq!(s.like(ada.id, post.id).await.unwrap().like_count, 2);
    assert!(s.has_liked(bob.id, post.id).await.unwrap());
    assert_eq!(s.post(post.id).await.unwrap().like_count, 2);
    assert_eq!(s.count_like_rows(post.id).await.unwrap(), 2);
    let o = s.unlike(bob.id, post.id).await.unwrap();
    assert!(o.changed);
    assert_eq!(o.like_count, 1);
    let o = s.unlike(bob.id, post.id).await.unwrap();
    assert!(!o.changed);
    assert_eq!(o.like_count, 1);
    assert!(!s.has_liked(bob.id, post.id).await.unwrap());
    assert_not_found(s.like(bob.id, PostId(uuid::Uuid::nil())).await);
    assert_not_found(s.like(UserId(uuid::Uuid::nil()), post.id).await);
    assert_not_found(s.unlike(bob.id, PostId(uuid::Uuid::nil())).await);
    assert_eq!(s.post(post.id).await.unwrap().like_count, 1);
}
