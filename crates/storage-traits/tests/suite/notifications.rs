//! Notifications.

use keel_storage::page::Seek;
use keel_storage::repo::MAX_NOTIFICATIONS_PER_USER;
use keel_storage::{Clock, Notification, NotificationKind, UserId};

use super::{Ctx, all_pages, assert_not_found};

fn note(cx: &Ctx, n: u128, recipient: UserId, actor: UserId) -> Notification {
    Notification {
        id: uuid::Uuid::from_u128((1 << 100) + n),
        recipient,
        kind: NotificationKind::Followed,
        actor,
        post: None,
        comment: None,
        created_at: cx.clock.now(),
    }
}

pub async fn notifications_idempotent_listed_and_capped(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let bob = cx.user("bob").await;
    let post = cx.post(&ada, "hello").await;
    // Kinds round-trip with their post and comment.
    cx.tick();
    let liked = Notification {
        kind: NotificationKind::Liked,
        post: Some(post.id),
        ..note(&cx, 1, ada.id, bob.id)
    };
    assert!(s.add_notification(liked.clone()).await.unwrap());
    assert!(
        !s.add_notification(liked.clone()).await.unwrap(),
        "idempotent by id"
    );
    cx.tick();
    let comment = s
        .add_comment(keel_storage::NewComment {
            post: post.id,
            author: bob.id,
            parent: None,
            content: "nice".into(),
        })
        .await
        .unwrap();
    let commented = Notification {
        kind: NotificationKind::Commented,
        post: Some(post.id),
        comment: Some(comment.id),
        ..note(&cx, 2, ada.id, bob.id)
    };
    assert!(s.add_notification(commented.clone()).await.unwrap());
    // Nobody is told of their own action; a missing recipient is NotFound.
    assert!(
        !s.add_notification(note(&cx, 3, ada.id, ada.id))
            .await
            .unwrap()
    );
    assert_not_found(
        s.add_notification(note(&cx, 4, UserId(uuid::Uuid::nil()), bob.id))
            .await,
    );
    assert_not_found(
        s.add_notification(note(
            &cx,
            5,
            UserId(uuid::Uuid::nil()),
            UserId(uuid::Uuid::nil()),
        ))
        .await,
    );
    let w = s.notifications(ada.id, &Seek::first(10)).await.unwrap();
    assert_eq!(w.items, [commented.clone(), liked.clone()], "newest first");
    assert!(
        s.notifications(bob.id, &Seek::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // Several at one time: the id breaks the tie; pages never skip or repeat.
    let mut expected = vec![liked.id, commented.id];
    for i in 10..23u128 {
        if i % 3 == 0 {
            cx.tick();
        }
        let n = note(&cx, i, ada.id, bob.id);
        expected.push(n.id);
        assert!(s.add_notification(n).await.unwrap());
    }
    expected.reverse();
    for limit in [1, 4, 50] {
        let got: Vec<uuid::Uuid> =
            all_pages(limit, |k| async move { s.notifications(ada.id, &k).await })
                .await
                .into_iter()
                .map(|n| n.id)
                .collect();
        assert_eq!(got, expected, "limit {limit}");
    }

    // The cap keeps the newest.
    let cyd = cx.user("cyd").await;
    for i in 0..(MAX_NOTIFICATIONS_PER_USER as u128 + 3) {
        cx.tick();
        s.add_notification(note(&cx, 1_000 + i, cyd.id, bob.id))
            .await
            .unwrap();
    }
    let kept = all_pages(200, |k| async move { s.notifications(cyd.id, &k).await }).await;
    assert_eq!(kept.len(), MAX_NOTIFICATIONS_PER_USER);
    assert_eq!(
        kept.last().unwrap().id,
        uuid::Uuid::from_u128((1 << 100) + 1_003),
        "the three oldest went"
    );

    // Deleting the recipient deletes their notifications.
    s.delete_user(ada.id).await.unwrap();
    assert!(
        s.notifications(ada.id, &Seek::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
