//! Users: create, lookups, conflicts, validation, partial update, prefix search, deletion.

use keel_storage::{Clock, Entity, Event, NewComment, NewUser, StorageError, UserPatch};

use super::{Ctx, all_pages, assert_not_found, field_of};
use keel_storage::page::Seek;

pub async fn create_and_lookup(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("Ada_L").await;
    assert_eq!(ada.username, "Ada_L");
    assert_eq!(ada.display_name, "Ada_L");
    assert_eq!(ada.created_at, cx.clock.now());
    assert_eq!(ada.created_at, ada.updated_at);
    assert!(!ada.verified);
    assert_eq!(ada.id.0.get_version_num(), 7);
    assert_eq!(s.user(ada.id).await.unwrap(), ada);
    assert_eq!(s.user_by_username("ada_l").await.unwrap(), ada);
    assert_eq!(s.user_by_username("ADA_L").await.unwrap(), ada);
    assert_eq!(s.user_by_email("ADA_L@Example.COM").await.unwrap(), ada);
    let bob = cx.user("bob").await;
    assert!(bob.id > ada.id, "ids sort by creation");
    assert_not_found(s.user_by_username("nobody").await);
    assert_not_found(s.user_by_email("nobody@example.com").await);
    match s.user(keel_storage::UserId(uuid::Uuid::nil())).await {
        Err(StorageError::NotFound { entity, .. }) => assert_eq!(entity, Entity::User),
        other => panic!("{other:?}"),
    }
}

pub async fn conflicts_name_the_field(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let r = s
        .create_user(NewUser::new("ADA", "other@example.com", "h"))
        .await;
    assert_eq!(field_of(r), "username");
    let r = s
        .create_user(NewUser::new("other", "Ada@Example.com", "h"))
        .await;
    assert!(matches!(
        r,
        Err(StorageError::Conflict { field: "email", .. })
    ));
    let bob = cx.user("bob").await;
    let r = s
        .update_user(
            bob.id,
            UserPatch {
                username: Some("Ada".into()),
                ..UserPatch::default()
            },
        )
        .await;
    assert_eq!(field_of(r), "username");
    // Renaming yourself to a different case of your own name is not a conflict.
    let renamed = s
        .update_user(
            ada.id,
            UserPatch {
                username: Some("ADA".into()),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.username, "ADA");
    assert_eq!(s.user_by_username("ada").await.unwrap().id, ada.id);
}

pub async fn invalid_input(cx: Ctx) {
    let s = &cx.store;
    assert_eq!(
        field_of(s.create_user(NewUser::new("ab", "a@b.c", "h")).await),
        "username"
    );
    assert_eq!(
        field_of(s.create_user(NewUser::new("a b c", "a@b.c", "h")).await),
        "username"
    );
    assert_eq!(
        field_of(s.create_user(NewUser::new("abc", "nope", "h")).await),
        "email"
    );
    assert_eq!(
        field_of(s.create_user(NewUser::new("abc", "a@b.c", "")).await),
        "password_hash"
    );
    let mut long_bio = NewUser::new("abc", "a@b.c", "h");
    long_bio.bio = Some("x".repeat(161));
    assert_eq!(field_of(s.create_user(long_bio).await), "bio");
    // Every field at fault is reported, in field order, each with its rule.
    let mut all_bad = NewUser::new("ab", "nope", "");
    all_bad.bio = Some("x".repeat(161));
    let e = s.create_user(all_bad).await.unwrap_err();
    let got: Vec<(&str, &str)> = e
        .violations()
        .iter()
        .map(|v| (v.field, v.rule.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("username", "3 to 30 characters"),
            ("email", "an ASCII address of the form local@domain"),
            ("password_hash", "must not be empty"),
            ("bio", "at most 160 characters"),
        ],
        "{e}"
    );
    let ada = cx.user("ada").await;
    let e = s
        .update_user(
            ada.id,
            UserPatch {
                username: Some("x".into()),
                email: Some("y".into()),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap_err();
    let fields: Vec<&str> = e.violations().iter().map(|v| v.field).collect();
    assert_eq!(fields, ["username", "email"]);
    let mut bad_post = keel_storage::NewPost::text(ada.id, "");
    bad_post.kind = keel_storage::PostType::Image;
    let e = s.create_post(bad_post).await.unwrap_err();
    let fields: Vec<&str> = e.violations().iter().map(|v| v.field).collect();
    assert_eq!(fields, ["content", "media"]);
    assert_eq!(field_of(s.follow(ada.id, ada.id).await), "followee");
    assert_eq!(
        field_of(
            s.create_post(keel_storage::NewPost::text(ada.id, " \n "))
                .await
        ),
        "content"
    );
    assert_eq!(
        field_of(
            s.users_by_prefix(
                "a",
                &Seek {
                    limit: 0,
                    ..Seek::first(1)
                }
            )
            .await
        ),
        "limit"
    );
    assert_eq!(
        field_of(s.users_by_prefix("a", &Seek::first(10_000)).await),
        "limit"
    );
    let wrong = super::after(
        5,
        keel_storage::page::Position::after(vec![keel_storage::page::SortValue::Text("x".into())]),
    );
    assert_eq!(
        field_of(s.posts_by_author(ada.id, &wrong).await),
        "position"
    );
    // Nothing was written by the failed calls.
    assert_eq!(s.pending_outbox().await.unwrap(), 1);
}

pub async fn partial_update(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    cx.tick();
    let updated = s
        .update_user(
            ada.id,
            UserPatch {
                bio: Some(Some("math".into())),
                display_name: Some("Ada Lovelace".into()),
                verified: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.bio.as_deref(), Some("math"));
    assert_eq!(updated.display_name, "Ada Lovelace");
    assert!(updated.verified);
    assert_eq!(updated.email, ada.email);
    assert_eq!(updated.created_at, ada.created_at);
    assert_eq!(updated.updated_at, cx.clock.now());
    assert_eq!(s.user(ada.id).await.unwrap(), updated);
    let cleared = s
        .update_user(
            ada.id,
            UserPatch {
                bio: Some(None),
                email: Some("lovelace@example.com".into()),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.bio, None);
    assert_not_found(s.user_by_email("ada@example.com").await);
    assert_eq!(
        s.user_by_email("LOVELACE@example.com").await.unwrap().id,
        ada.id
    );
    // An empty patch changes nothing and writes no event.
    let before = s.pending_outbox().await.unwrap();
    assert_eq!(
        s.update_user(ada.id, UserPatch::default()).await.unwrap(),
        cleared
    );
    assert_eq!(s.pending_outbox().await.unwrap(), before);
    assert_not_found(
        s.update_user(
            keel_storage::UserId(uuid::Uuid::nil()),
            UserPatch::default(),
        )
        .await,
    );
}

pub async fn prefix_search_paginates(cx: Ctx) {
    let s = &cx.store;
    for n in ["carl", "Caro", "carmen", "bob", "car_1", "dan", "cab"] {
        cx.user(n).await;
    }
    let names: Vec<String> = all_pages(2, |k| async move { s.users_by_prefix("CAR", &k).await })
        .await
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["car_1", "carl", "carmen", "Caro"]);
    let page = s.users_by_prefix("zz", &Seek::first(5)).await.unwrap();
    assert!(page.items.is_empty() && !page.has_next);
    // Prefixes that no username can have match nothing rather than failing.
    assert!(
        s.users_by_prefix("%", &Seek::first(5))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        s.users_by_prefix("", &Seek::first(50))
            .await
            .unwrap()
            .items
            .len(),
        7
    );
}

pub async fn delete_cascades(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let bob = cx.user("bob").await;
    let ada_post = cx.post(&ada, "ada's post").await;
    let bob_post = cx.post(&bob, "bob's post").await;
    s.follow(ada.id, bob.id).await.unwrap();
    s.follow(bob.id, ada.id).await.unwrap();
    s.like(ada.id, bob_post.id).await.unwrap();
    s.like(bob.id, ada_post.id).await.unwrap();
    let c = s
        .add_comment(NewComment {
            post: bob_post.id,
            author: ada.id,
            parent: None,
            content: "hi".into(),
        })
        .await
        .unwrap();
    s.add_comment(NewComment {
        post: bob_post.id,
        author: bob.id,
        parent: Some(c.id),
        content: "reply to ada".into(),
    })
    .await
    .unwrap();
    s.add_comment(NewComment {
        post: bob_post.id,
        author: bob.id,
        parent: None,
        content: "own".into(),
    })
    .await
    .unwrap();
    assert_eq!(s.post(bob_post.id).await.unwrap().comment_count, 3);

    s.delete_user(ada.id).await.unwrap();
    assert_not_found(s.user(ada.id).await);
    assert_not_found(s.user_by_username("ada").await);
    assert_not_found(s.post(ada_post.id).await);
    assert_not_found(s.comment(c.id).await);
    let p = s.post(bob_post.id).await.unwrap();
    assert_eq!((p.like_count, p.comment_count), (0, 1));
    assert_eq!(s.count_like_rows(bob_post.id).await.unwrap(), 0);
    let counts = s.follow_counts(bob.id).await.unwrap();
    assert_eq!((counts.followers, counts.following), (0, 0));
    assert!(!s.is_following(bob.id, ada.id).await.unwrap());
    assert_not_found(s.delete_user(ada.id).await);
    // The username is free again.
    cx.user("ada").await;
    let recs = s
        .claim_outbox(1000, std::time::Duration::from_secs(1))
        .await
        .unwrap();
    assert!(
        recs.iter()
            .any(|r| r.event == Event::UserDeleted { user: ada.id })
    );
}
