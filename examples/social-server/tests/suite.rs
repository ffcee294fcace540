//! The end-to-end suite: every endpoint and every error status, run on the memory defaults and
//! on PostgreSQL + Redis + NATS.

use keel_testkit::Service;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Server, config, ids};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_on_memory_defaults() {
    let server = Server::start(config()).await;
    suite(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_on_postgres_redis_and_nats() {
    let Some(pg) = keel_testkit::require(Service::Postgres).await else {
        return;
    };
    let Some(redis) = keel_testkit::require(Service::Redis).await else {
        return;
    };
    let Some(nats) = keel_testkit::require(Service::Nats).await else {
        return;
    };
    let schema = keel_testkit::unique_schema("social");
    let pool = sqlx::PgPool::connect(&pg).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .unwrap();
    let mut c = config();
    c.database_url = Some(keel_testkit::pg_url_with_schema(&pg, &schema));
    c.redis_url = Some(redis);
    c.redis_prefix = keel_testkit::unique_prefix("social");
    c.nats_url = Some(nats);
    c.nats_prefix = format!("t{}", &uuid::Uuid::now_v7().simple().to_string()[8..28]);
    let server = Server::start(c).await;
    let ready = server.get("/readyz", None).await.expect(200);
    assert_eq!(ready.body["storage"]["backend"], "postgres");
    assert_eq!(ready.body["bus"]["backend"], "jetstream");
    assert_eq!(ready.body["redis"]["ok"], true);
    suite(&server).await;
    server.stop().await;
}

async fn suite(s: &Server) {
    let (ada, ada_t, ada_refresh) = s.user("ada").await;
    let (bob, bob_t, _) = s.user("bob").await;
    let (eve, eve_t, _) = s.user("eve").await;
    users(s, &ada, &ada_t, &bob_t).await;
    let posts = posts(s, &ada, &ada_t, &bob, &bob_t).await;
    social(s, &ada, &ada_t, &bob, &bob_t, &eve_t, &posts).await;
    lists(s, &ada, &ada_t, &posts).await;
    tokens(s, &ada_t, &ada_refresh).await;
    errors(s, &ada_t).await;
    deletes(s, &ada, &ada_t, &eve, &eve_t, &bob_t, &posts).await;
    operations(s).await;
}

async fn users(s: &Server, ada: &str, ada_t: &str, bob_t: &str) {
    // 409 naming the field, 422 naming every invalid field.
    let r = s
        .post(
            "/users",
            None,
            json!({"username": "ADA", "email": "new@example.com", "password": "password-123"}),
        )
        .await
        .error(409, "conflict");
    assert_eq!(r.body["error"]["fields"][0]["field"], "username");
    let r = s
        .post(
            "/users",
            None,
            json!({"username": "ada2", "email": "ada@example.com", "password": "password-123"}),
        )
        .await
        .error(409, "conflict");
    assert_eq!(r.body["error"]["fields"][0]["field"], "email");
    let r = s
        .post(
            "/users",
            None,
            json!({"username": "x", "email": "nope", "password": "short"}),
        )
        .await
        .error(422, "validation_failed");
    let fields: Vec<&str> = r.body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "email", "password"], "{}", r.body);
    assert!(r.body["error"]["fields"][0]["rule"].is_string());

    // Get: the email only for its owner.
    let me = s
        .get(&format!("/users/{ada}"), Some(ada_t))
        .await
        .expect(200);
    assert_eq!(me.body["email"], "ada@example.com");
    assert!(me.body.get("password_hash").is_none());
    let other = s
        .get(&format!("/users/{ada}"), Some(bob_t))
        .await
        .expect(200);
    assert!(other.body.get("email").is_none());
    s.get(&format!("/users/{}", uuid::Uuid::nil()), None)
        .await
        .error(404, "not_found");

    // PATCH and PUT: the owner only.
    let r = s
        .call(
            Method::PATCH,
            &format!("/users/{ada}"),
            Some(ada_t),
            Some(json!({"display_name": "Ada L.", "bio": "engines"})),
        )
        .await
        .expect(200);
    assert_eq!(r.body["display_name"], "Ada L.");
    let r = s.get(&format!("/users/{ada}"), None).await.expect(200);
    assert_eq!(
        r.body["display_name"], "Ada L.",
        "cache invalidated on write"
    );
    s.call(
        Method::PATCH,
        &format!("/users/{ada}"),
        Some(bob_t),
        Some(json!({"bio": "hacked"})),
    )
    .await
    .error(403, "forbidden");
    let full = json!({"username": "ada", "email": "ada@example.com", "display_name": "Ada", "bio": null, "avatar_url": null});
    s.call(
        Method::PUT,
        &format!("/users/{ada}"),
        Some(bob_t),
        Some(full.clone()),
    )
    .await
    .error(403, "forbidden");
    let r = s
        .call(
            Method::PUT,
            &format!("/users/{ada}"),
            Some(ada_t),
            Some(full),
        )
        .await
        .expect(200);
    assert_eq!(r.body["bio"], Value::Null);
    s.call(
        Method::PATCH,
        &format!("/users/{ada}"),
        Some(ada_t),
        Some(json!({"username": "bob"})),
    )
    .await
    .error(409, "conflict");
    s.call(
        Method::PATCH,
        &format!("/users/{ada}"),
        None,
        Some(json!({"bio": "x"})),
    )
    .await
    .error(401, "unauthorized");
}

struct Posts {
    public: Vec<String>,
    followers: String,
    private: String,
}

async fn posts(s: &Server, ada: &str, ada_t: &str, _bob: &str, bob_t: &str) -> Posts {
    s.post("/posts", None, json!({"content": "anon"}))
        .await
        .error(401, "unauthorized");
    s.post("/posts", Some(ada_t), json!({"content": ""}))
        .await
        .error(422, "validation_failed");
    let mut public = Vec::new();
    for text in [
        "first #rust post",
        "second post about engines",
        "third #rust post",
    ] {
        let r = s
            .post("/posts", Some(ada_t), json!({"content": text}))
            .await
            .expect(201);
        assert!(r.header("location").unwrap().starts_with("/posts/"));
        assert_eq!(r.body["author_id"], ada);
        public.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let followers = s
        .post(
            "/posts",
            Some(ada_t),
            json!({"content": "for followers", "visibility": "followers"}),
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let private = s
        .post(
            "/posts",
            Some(ada_t),
            json!({"content": "just me", "visibility": "private"}),
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Visibility: 404, not 403, for those who may not see.
    s.get(&format!("/posts/{}", public[0]), None)
        .await
        .expect(200);
    s.get(&format!("/posts/{private}"), Some(ada_t))
        .await
        .expect(200);
    s.get(&format!("/posts/{private}"), Some(bob_t))
        .await
        .error(404, "not_found");
    s.get(&format!("/posts/{private}"), None)
        .await
        .error(404, "not_found");
    s.get(&format!("/posts/{followers}"), Some(bob_t))
        .await
        .error(404, "not_found");
    s.post(&format!("/posts/{private}/like"), Some(bob_t), json!({}))
        .await
        .error(404, "not_found");
    s.post(
        &format!("/posts/{private}/comments"),
        Some(bob_t),
        json!({"content": "hi"}),
    )
    .await
    .error(404, "not_found");

    // Edits: the author only (403 for another user's visible post).
    let p = &public[0];
    s.call(
        Method::PATCH,
        &format!("/posts/{p}"),
        Some(bob_t),
        Some(json!({"content": "mine now"})),
    )
    .await
    .error(403, "forbidden");
    s.call(
        Method::PUT,
        &format!("/posts/{p}"),
        Some(bob_t),
        Some(json!({"content": "x", "media": [], "post_type": "text", "visibility": "public"})),
    )
    .await
    .error(403, "forbidden");
    s.call(Method::DELETE, &format!("/posts/{p}"), Some(bob_t), None)
        .await
        .error(403, "forbidden");
    s.call(
        Method::PATCH,
        &format!("/posts/{private}"),
        Some(bob_t),
        Some(json!({"content": "x"})),
    )
    .await
    .error(404, "not_found");
    let r = s
        .call(
            Method::PATCH,
            &format!("/posts/{p}"),
            Some(ada_t),
            Some(json!({"content": "first #rust post, edited"})),
        )
        .await
        .expect(200);
    assert_eq!(r.body["content"], "first #rust post, edited");
    let r = s.get(&format!("/posts/{p}"), None).await.expect(200);
    assert_eq!(r.body["content"], "first #rust post, edited");
    let r = s
        .call(Method::PUT, &format!("/posts/{p}"), Some(ada_t), Some(json!({"content": "first #rust post", "media": [], "post_type": "text", "visibility": "public"})))
        .await
        .expect(200);
    assert_eq!(r.body["hashtags"], json!(["rust"]));
    Posts {
        public,
        followers,
        private,
    }
}

#[allow(clippy::too_many_arguments)]
async fn social(
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

    // Search.
    let r = s.get("/posts/search?q=rust", None).await.expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2, "{}", r.body);
    let r = s.get("/users/search?q=ada", None).await.expect(200);
    assert_eq!(r.body["items"][0]["id"], ada);
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

async fn lists(s: &Server, ada: &str, ada_t: &str, posts: &Posts) {
    // Cursor pagination with Link headers, both ways.
    let first = s
        .get(&format!("/users/{ada}/posts?limit=2"), Some(ada_t))
        .await
        .expect(200);
    assert_eq!(
        ids(&first.body),
        [posts.private.clone(), posts.followers.clone()]
    );
    let link = first.header("link").unwrap().to_owned();
    assert!(
        link.contains("rel=\"next\"") && link.contains("limit=2"),
        "{link}"
    );
    let next_url = link.split(['<', '>']).nth(1).unwrap().to_owned();
    let second = s.get(&next_url, Some(ada_t)).await.expect(200);
    assert_eq!(
        ids(&second.body),
        [posts.public[2].clone(), posts.public[1].clone()]
    );
    assert!(second.header("link").unwrap().contains("rel=\"prev\""));
    let prev = second.body["prev_cursor"].as_str().unwrap();
    let back = s
        .get(
            &format!("/users/{ada}/posts?limit=2&before={prev}"),
            Some(ada_t),
        )
        .await
        .expect(200);
    assert_eq!(ids(&back.body), ids(&first.body));
    // Anonymous readers see only public posts.
    let anon = s
        .get(&format!("/users/{ada}/posts?limit=100"), None)
        .await
        .expect(200);
    assert_eq!(ids(&anon.body).len(), 3);
    // Limits: default 20, max 100 (clamped).
    s.get(&format!("/users/{ada}/posts?limit=1000"), None)
        .await
        .expect(200);
    // Bad and foreign cursors.
    s.get(&format!("/users/{ada}/posts?after=garbage"), None)
        .await
        .error(400, "bad_cursor");
    let foreign = first.body["next_cursor"].as_str().unwrap();
    s.get(&format!("/users/{ada}/followers?after={foreign}"), None)
        .await
        .error(400, "bad_cursor");
    s.get(&format!("/users/{ada}/posts?limit=abc"), None)
        .await
        .error(400, "bad_query");

    // Filtering and sorting on /posts.
    let asc = s
        .get(
            &format!(
                "/posts?author_id={ada}&created_after=2000-01-01&sort=created_at&order=asc&limit=2"
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        ids(&asc.body),
        [posts.public[0].clone(), posts.public[1].clone()]
    );
    let next = asc.body["next_cursor"].as_str().unwrap();
    let asc2 = s
        .get(&format!("/posts?author_id={ada}&created_after=2000-01-01&sort=created_at&order=asc&limit=2&after={next}"), None)
        .await
        .expect(200);
    assert_eq!(ids(&asc2.body), [posts.public[2].clone()]);
    let desc = s
        .get(
            &format!("/posts?author_id={ada}&sort=created_at&order=desc"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        ids(&desc.body),
        posts.public.iter().rev().cloned().collect::<Vec<_>>()
    );
    let none = s
        .get(
            &format!("/posts?author_id={ada}&created_after=2999-01-01"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(ids(&none.body).len(), 0);
    s.get(
        &format!("/posts?author_id={ada}&created_after=yesterday"),
        None,
    )
    .await
    .error(422, "validation_failed");
    s.get("/posts", None).await.error(422, "validation_failed");
    s.get(&format!("/posts?author_id={ada}&order=sideways"), None)
        .await
        .error(400, "bad_query");
}

async fn tokens(s: &Server, ada_t: &str, refresh: &str) {
    s.post(
        "/auth/login",
        None,
        json!({"login": "ada", "password": "wrong-password"}),
    )
    .await
    .error(401, "unauthorized");
    let r = s
        .post(
            "/auth/login",
            None,
            json!({"login": "nobody", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"keel\""));
    let r = s
        .post(
            "/auth/login",
            None,
            json!({"login": "ada@example.com", "password": "password-123"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    // Refresh rotates: the old refresh token is dead after one use.
    let pair = s
        .post("/auth/refresh", None, json!({"refresh_token": refresh}))
        .await
        .expect(200);
    s.post("/auth/refresh", None, json!({"refresh_token": refresh}))
        .await
        .error(401, "unauthorized");
    let new_refresh = pair.body["refresh_token"].as_str().unwrap();
    s.post("/auth/logout", None, json!({"refresh_token": new_refresh}))
        .await
        .expect(204);
    s.post("/auth/refresh", None, json!({"refresh_token": new_refresh}))
        .await
        .error(401, "unauthorized");
    // Bad access tokens.
    s.get("/feed", Some("not.a.token"))
        .await
        .error(401, "unauthorized");
    let mut forged = ada_t.to_owned();
    forged.push('x');
    s.get("/feed", Some(&forged))
        .await
        .error(401, "unauthorized");
    // API keys, stored hashed, usable for server-to-server calls, revocable.
    s.post("/auth/api-keys", Some(ada_t), json!({"name": ""}))
        .await
        .error(422, "validation_failed");
    let k = s
        .post("/auth/api-keys", Some(ada_t), json!({"name": "ci"}))
        .await
        .expect(201);
    let key = k.body["key"].as_str().unwrap();
    let r = s
        .client
        .post(format!("{}/posts", s.base))
        .header("x-api-key", key)
        .json(&json!({"content": "posted with an API key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let kid = k.body["id"].as_str().unwrap();
    s.call(
        Method::DELETE,
        &format!("/auth/api-keys/{kid}"),
        Some(ada_t),
        None,
    )
    .await
    .expect(204);
    s.call(
        Method::DELETE,
        &format!("/auth/api-keys/{kid}"),
        Some(ada_t),
        None,
    )
    .await
    .error(404, "not_found");
    let r = s
        .client
        .get(format!("{}/feed", s.base))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn errors(s: &Server, ada_t: &str) {
    // Bad JSON, wrong type, wrong media type, unknown route and method, oversize body.
    let r = s
        .client
        .post(format!("{}/posts", s.base))
        .bearer_auth(ada_t)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "bad_json");
    s.post("/posts", Some(ada_t), json!({"content": 5}))
        .await
        .error(400, "bad_json");
    s.post("/posts", Some(ada_t), json!({"content": "x", "extra": 1}))
        .await
        .error(400, "bad_json");
    let r = s
        .client
        .post(format!("{}/posts", s.base))
        .bearer_auth(ada_t)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = s.get("/nope", None).await.error(404, "not_found");
    assert!(r.header("x-request-id").is_some());
    assert!(r.body["error"]["request_id"].is_string());
    s.call(Method::PATCH, "/feed", None, None)
        .await
        .error(405, "method_not_allowed");
    let big = "x".repeat(100 * 1024);
    s.post("/posts", Some(ada_t), json!({ "content": big }))
        .await
        .error(413, "payload_too_large");
    s.get("/posts/not-a-uuid", None)
        .await
        .error(400, "bad_path");
    // A client's request id is echoed.
    let r = s
        .client
        .get(format!("{}/healthz", s.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
}

#[allow(clippy::too_many_arguments)]
async fn deletes(
    s: &Server,
    ada: &str,
    ada_t: &str,
    eve: &str,
    eve_t: &str,
    bob_t: &str,
    posts: &Posts,
) {
    let p = &posts.public[1];
    s.call(Method::DELETE, &format!("/posts/{p}"), Some(ada_t), None)
        .await
        .expect(204);
    s.get(&format!("/posts/{p}"), None)
        .await
        .error(404, "not_found");
    s.eventually("/feed", Some(bob_t), |b| !ids(b).contains(p))
        .await;
    s.call(Method::DELETE, &format!("/users/{ada}"), Some(eve_t), None)
        .await
        .error(403, "forbidden");
    s.call(Method::DELETE, &format!("/users/{eve}"), Some(eve_t), None)
        .await
        .expect(204);
    s.get(&format!("/users/{eve}"), None)
        .await
        .error(404, "not_found");
}

async fn operations(s: &Server) {
    s.get("/healthz", None).await.expect(200);
    s.get("/readyz", None).await.expect(200);
    let m = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "keel_http_requests_total",
        "keel_http_request_duration_seconds",
        "keel_cache_requests_total",
        "keel_ratelimit_requests_total",
    ] {
        assert!(m.contains(name), "{name} missing from /metrics");
    }
    let api = s.get("/openapi.json", None).await.expect(200);
    for path in [
        "/users",
        "/posts/{id}",
        "/feed",
        "/notifications",
        "/posts/trending",
    ] {
        assert!(api.body["paths"].get(path).is_some(), "{path}");
    }
    let docs = s
        .client
        .get(format!("{}/docs", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(docs.contains("/docs/app.js") && !docs.contains("https://"));
    s.client
        .get(format!("{}/docs/app.js", s.base))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let r = s
        .client
        .get(format!("{}/openapi.json", s.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_survive_a_restart_on_postgres() {
    let Some(pg) = keel_testkit::require(Service::Postgres).await else {
        return;
    };
    let schema = keel_testkit::unique_schema("social_restart");
    let pool = sqlx::PgPool::connect(&pg).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .unwrap();
    let mut c = config();
    c.database_url = Some(keel_testkit::pg_url_with_schema(&pg, &schema));
    c.jwt_secret = Some("r".repeat(32));
    let s = Server::start(c.clone()).await;
    let (ada, ada_t, _) = s.user("ada").await;
    let (_, bob_t, _) = s.user("bob").await;
    s.post(&format!("/users/{ada}/follow"), Some(&bob_t), json!({}))
        .await
        .expect(204);
    let p = s
        .post(
            "/posts",
            Some(&ada_t),
            json!({"content": "before the restart"}),
        )
        .await
        .expect(201);
    let id = p.body["id"].as_str().unwrap().to_owned();
    s.eventually("/feed", Some(&bob_t), |b| ids(b).contains(&id))
        .await;
    s.stop().await;

    let s = Server::start(c).await;
    let feed = s
        .eventually("/feed", Some(&bob_t), |b| ids(b).contains(&id))
        .await;
    assert_eq!(ids(&feed), [id]);
    s.stop().await;
}
