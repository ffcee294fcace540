//! Follows, the feed, likes, comments, notifications, trending, search.

#[allow(unused_imports)]
use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) async fn social(
    s: &Server,
    ada: &str,
    ada_t: &str,
    bob: &str,
    bob_t: &str,
    eve_t: &str,
    posts: &Posts,
) {
    s.post(&format!("/users/{ada}/follow"), None, json!({}))
        .await
        .error(401, "unauthorized");
    s.post(&format!("/users/{bob}/follow"), Some(bob_t), json!({}))
        .await
        .error(422, "validation_failed");
    s.post(&format!("/users/{ada}/follow"), Some(bob_t), json!({}))
        .await
        .expect(204);
    s.post(&format!("/users/{ada}/follow"), Some(eve_t), json!({}))
        .await
        .expect(204);
    let f = s
        .get(&format!("/users/{ada}/followers"), None)
        .await
        .expect(200);
    assert_eq!(f.body["items"].as_array().unwrap().len(), 2);
    let f = s
        .get(&format!("/users/{bob}/following"), None)
        .await
        .expect(200);
    assert_eq!(f.body["items"][0]["user_id"], ada);
    assert_eq!(f.body["items"][0]["username"], "ada");
    // Followers-only posts open to followers.
    s.get(&format!("/posts/{}", posts.followers), Some(bob_t))
        .await
        .expect(200);

    // The feed: bob sees ada's posts (public and followers-only), never the private one.
    let feed = s
        .eventually("/feed", Some(bob_t), |b| {
            b["items"].as_array().is_some_and(|i| i.len() >= 4)
        })
        .await;
    let got = ids(&feed);
    for p in &posts.public {
        assert!(got.contains(p), "{feed}");
    }
    assert!(got.contains(&posts.followers));
    assert!(!got.contains(&posts.private));
    assert_eq!(got[0], posts.followers, "newest first");
    let page = s.get("/feed?limit=2", Some(bob_t)).await.expect(200);
    assert_eq!(ids(&page.body).len(), 2);
    assert!(page.header("link").unwrap().contains("rel=\"next\""));
    let next = page.body["next_cursor"].as_str().unwrap();
    let page2 = s
        .get(&format!("/feed?limit=2&after={next}"), Some(bob_t))
        .await
        .expect(200);
    assert!(
        ids(&page2.body)
            .iter()
            .all(|p| !ids(&page.body).contains(p))
    );
    s.get("/feed", None).await.error(401, "unauthorized");
    // The cursor is keel-feed's: forward only, and bound to its reader.
    s.get(&format!("/feed?limit=2&before={next}"), Some(bob_t))
        .await
        .error(400, "bad_request");
    s.get(&format!("/feed?limit=2&after={next}"), Some(ada_t))
        .await
        .error(400, "bad_cursor");
    s.get("/feed?after=garbage", Some(bob_t))
        .await
        .error(400, "bad_cursor");

    // Likes.
    let p = &posts.public[0];
    let r = s
        .post(&format!("/posts/{p}/like"), Some(bob_t), json!({}))
        .await
        .expect(200);
    assert_eq!(r.body, json!({"liked": true, "like_count": 1}));
    s.post(&format!("/posts/{p}/like"), Some(bob_t), json!({}))
        .await
        .expect(200);
    let r = s
        .call(
            Method::DELETE,
            &format!("/posts/{p}/like"),
            Some(bob_t),
            None,
        )
        .await
        .expect(200);
    assert_eq!(r.body["like_count"], 0);
    s.post(&format!("/posts/{p}/like"), Some(bob_t), json!({}))
        .await
        .expect(200);
    s.post(&format!("/posts/{p}/like"), Some(eve_t), json!({}))
        .await
        .expect(200);
    assert_eq!(
        s.get(&format!("/posts/{p}"), None).await.body["like_count"],
        2
    );

    // Comments: add, list, and only the comment's or the post's author deletes.
    let c = s
        .post(
            &format!("/posts/{p}/comments"),
            Some(bob_t),
            json!({"content": "nice"}),
        )
        .await
        .expect(201);
    let cid = c.body["id"].as_str().unwrap().to_owned();
    let reply = s
        .post(
            &format!("/posts/{p}/comments"),
            Some(eve_t),
            json!({"content": "agreed", "parent_id": cid}),
        )
        .await
        .expect(201);
    let list = s
        .get(&format!("/posts/{p}/comments"), None)
        .await
        .expect(200);
    assert_eq!(ids(&list.body), std::slice::from_ref(&cid));
    let replies = s
        .get(&format!("/posts/{p}/comments?parent_id={cid}"), None)
        .await
        .expect(200);
    assert_eq!(ids(&replies.body), [reply.body["id"].as_str().unwrap()]);
    s.post(
        &format!("/posts/{p}/comments"),
        Some(bob_t),
        json!({"content": ""}),
    )
    .await
    .error(422, "validation_failed");
    s.call(
        Method::DELETE,
        &format!("/comments/{cid}"),
        Some(eve_t),
        None,
    )
    .await
    .error(403, "forbidden");
    let c2 = s
        .post(
            &format!("/posts/{p}/comments"),
            Some(eve_t),
            json!({"content": "second"}),
        )
        .await
        .expect(201);
    s.call(
        Method::DELETE,
        &format!("/comments/{}", c2.body["id"].as_str().unwrap()),
        Some(ada_t),
        None,
    )
    .await
    .expect(204);
    assert_eq!(
        s.get(&format!("/posts/{p}"), None).await.body["comment_count"],
        2
    );

    // Notifications: ada hears about follows, likes and comments.
    let n = s
        .eventually("/notifications", Some(ada_t), |b| {
            let kinds: Vec<&str> = b["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|n| n["kind"].as_str())
                .collect();
            ["followed", "liked", "commented"]
                .iter()
                .all(|k| kinds.contains(k))
        })
        .await;
    assert!(
        n["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["actor_id"] != ada)
    );
    s.get("/notifications", None)
        .await
        .error(401, "unauthorized");

    // Trending: the liked and commented post leads.
    let t = s
        .eventually("/posts/trending", None, |b| {
            b["items"].as_array().is_some_and(|i| !i.is_empty())
        })
        .await;
    assert_eq!(t["items"][0]["id"], p.as_str());

    // Search: the search consumer indexes new posts and users.
    let r = s
        .eventually("/posts/search?q=rust", None, |b| {
            b["items"].as_array().is_some_and(|i| i.len() == 2)
        })
        .await;
    assert_eq!(r["items"].as_array().unwrap().len(), 2, "{r}");
    let r = s
        .eventually("/users/search?q=ada", None, |b| {
            b["items"].as_array().is_some_and(|i| !i.is_empty())
        })
        .await;
    assert_eq!(r["items"][0]["id"], ada);
    // An edit is reindexed by the consumer too: the new word matches, the old one stops.
    let z = s
        .post("/posts", Some(ada_t), json!({"content": "zebra facts"}))
        .await
        .expect(201);
    let z = z.body["id"].as_str().unwrap().to_owned();
    s.eventually("/posts/search?q=zebra", None, |b| {
        b["items"][0]["id"] == z.as_str()
    })
    .await;
    s.call(
        Method::PATCH,
        &format!("/posts/{z}"),
        Some(ada_t),
        Some(json!({"content": "okapi facts"})),
    )
    .await
    .expect(200);
    s.eventually("/posts/search?q=okapi", None, |b| {
        b["items"][0]["id"] == z.as_str()
    })
    .await;
    s.eventually("/posts/search?q=zebra", None, |b| {
        b["items"].as_array().is_some_and(Vec::is_empty)
    })
    .await;
    // A deletion hides it at once, before the consumer runs.
    s.call(Method::DELETE, &format!("/posts/{z}"), Some(ada_t), None)
        .await
        .expect(204);
    let r = s.get("/posts/search?q=okapi", None).await.expect(200);
    assert_eq!(r.body["items"], json!([]));
    s.get("/posts/search?q=", None)
        .await
        .error(422, "validation_failed");
    s.get("/posts/search", None).await.error(400, "bad_query");

    // Unfollow.
    s.call(
        Method::DELETE,
        &format!("/users/{ada}/follow"),
        Some(eve_t),
        None,
    )
    .await
    .expect(204);
    let f = s
        .get(&format!("/users/{ada}/followers"), None)
        .await
        .expect(200);
    assert_eq!(f.body["items"].as_array().unwrap().len(), 1);
}
