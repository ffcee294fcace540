//! Refresh tokens and API keys.

use keel_storage::{Clock, StorageError, TokenHash, UserId};

use keel_storage::page::Seek;

use super::{Ctx, all_pages, assert_not_found, field_of};

pub async fn refresh_tokens_single_use_expire_and_purge(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let now = cx.clock.now();
    let t1 = TokenHash::of("t1");
    s.issue_refresh_token(&t1, ada.id, now.plus_micros(10_000))
        .await
        .unwrap();
    assert_eq!(
        field_of(s.issue_refresh_token(&t1, ada.id, now).await),
        "token"
    );
    assert_not_found(
        s.issue_refresh_token(&TokenHash::of("x"), UserId(uuid::Uuid::nil()), now)
            .await,
    );
    // Single use.
    assert_eq!(s.take_refresh_token(&t1).await.unwrap(), Some(ada.id));
    assert_eq!(s.take_refresh_token(&t1).await.unwrap(), None);
    assert_eq!(
        s.take_refresh_token(&TokenHash::of("never")).await.unwrap(),
        None
    );
    // Revocation.
    let t2 = TokenHash::of("t2");
    s.issue_refresh_token(&t2, ada.id, now.plus_micros(10_000))
        .await
        .unwrap();
    assert!(s.revoke_refresh_token(&t2).await.unwrap());
    assert!(!s.revoke_refresh_token(&t2).await.unwrap());
    assert_eq!(s.take_refresh_token(&t2).await.unwrap(), None);
    // Expiry by the store's clock, and the purge of expired tokens only.
    let short = TokenHash::of("short");
    let long = TokenHash::of("long");
    s.issue_refresh_token(&short, ada.id, now.plus_micros(5_000))
        .await
        .unwrap();
    s.issue_refresh_token(&long, ada.id, now.plus_micros(50_000))
        .await
        .unwrap();
    let expired = TokenHash::of("expired");
    s.issue_refresh_token(&expired, ada.id, now.plus_micros(5_000))
        .await
        .unwrap();
    cx.clock.advance_micros(5_000);
    assert_eq!(s.take_refresh_token(&short).await.unwrap(), None, "expired");
    assert_eq!(s.purge_expired_refresh_tokens().await.unwrap(), 1);
    assert_eq!(s.purge_expired_refresh_tokens().await.unwrap(), 0);
    assert!(!s.revoke_refresh_token(&expired).await.unwrap(), "purged");
    // Concurrent takes of one token: exactly one wins.
    let race = TokenHash::of("race");
    s.issue_refresh_token(&race, ada.id, now.plus_micros(50_000))
        .await
        .unwrap();
    let takes = (0..8).map(|_| {
        let s = s.clone();
        tokio::spawn(async move { s.take_refresh_token(&race).await.unwrap() })
    });
    let mut won = 0;
    for t in takes {
        won += usize::from(t.await.unwrap().is_some());
    }
    assert_eq!(won, 1);
    // Deleting the user deletes their tokens.
    s.delete_user(ada.id).await.unwrap();
    assert_eq!(s.take_refresh_token(&long).await.unwrap(), None);
}

pub async fn api_keys_hashed_owned_and_revoked(cx: Ctx) {
    let s = &cx.store;
    let ada = cx.user("ada").await;
    let bob = cx.user("bob").await;
    let k1 = TokenHash::of("keel_k1");
    let key = s.create_api_key(&k1, ada.id, "ci").await.unwrap();
    assert_eq!((key.user, key.name.as_str()), (ada.id, "ci"));
    assert_eq!(key.created_at, cx.clock.now());
    assert_eq!(s.api_key(&k1).await.unwrap(), Some(key.clone()));
    assert_eq!(s.api_key(&TokenHash::of("other")).await.unwrap(), None);
    assert_eq!(
        field_of(s.create_api_key(&k1, bob.id, "dup").await),
        "token"
    );
    assert_eq!(
        field_of(s.create_api_key(&TokenHash::of("k"), ada.id, " ").await),
        "name"
    );
    let long = "n".repeat(65);
    assert_eq!(
        field_of(s.create_api_key(&TokenHash::of("k"), ada.id, &long).await),
        "name"
    );
    assert!(matches!(
        s.create_api_key(&TokenHash::of("k"), UserId(uuid::Uuid::nil()), "x")
            .await,
        Err(StorageError::NotFound { .. })
    ));
    // Listed newest first, the owner's only, paginated both ways.
    let mut made = vec![key.clone()];
    for i in 0..4 {
        cx.tick();
        let h = TokenHash::of(&format!("keel_list_{i}"));
        made.push(
            s.create_api_key(&h, ada.id, &format!("k{i}"))
                .await
                .unwrap(),
        );
    }
    cx.tick();
    s.create_api_key(&TokenHash::of("keel_bob"), bob.id, "bob's")
        .await
        .unwrap();
    let listed = all_pages(2, |k| async move { s.api_keys(ada.id, &k).await }).await;
    made.reverse();
    assert_eq!(listed, made);
    // Only the owner revokes.
    assert!(!s.revoke_api_key(bob.id, key.id).await.unwrap());
    assert!(s.api_key(&k1).await.unwrap().is_some());
    assert!(s.revoke_api_key(ada.id, key.id).await.unwrap());
    assert!(!s.revoke_api_key(ada.id, key.id).await.unwrap());
    assert_eq!(s.api_key(&k1).await.unwrap(), None);
    let left = s.api_keys(ada.id, &Seek::first(100)).await.unwrap();
    assert_eq!(left.items.len(), 4);
    assert!(left.items.iter().all(|k| k.id != key.id));
    // Deleting the user deletes their keys.
    let k2 = TokenHash::of("keel_k2");
    s.create_api_key(&k2, bob.id, "deploy").await.unwrap();
    s.delete_user(bob.id).await.unwrap();
    assert_eq!(s.api_key(&k2).await.unwrap(), None);
    let gone = s.api_keys(bob.id, &Seek::first(10)).await.unwrap();
    assert!(gone.items.is_empty());
}
