//! Rate limits and credentials over real HTTP.

use serde_json::json;

use crate::support::{Server, config};

#[tokio::test]
async fn register_flood_gets_429_with_retry_after_and_ietf_headers() {
    let mut c = config();
    c.limit_register = "2/min".to_owned();
    let s = Server::start(c).await;
    for i in 0..2 {
        let r = s
            .post("/users", None, json!({"username": format!("u{i}xx"), "email": format!("u{i}@x.io"), "password": "password-123"}))
            .await
            .expect(201);
        assert!(
            r.header("ratelimit").unwrap().contains("\"register\";r="),
            "{:?}",
            r.headers
        );
        assert!(r.header("ratelimit-policy").is_some());
    }
    let r = s
        .post(
            "/users",
            None,
            json!({"username": "u3xx", "email": "u3@x.io", "password": "password-123"}),
        )
        .await
        .error(429, "rate_limited");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(
        r.header("ratelimit").unwrap().contains("\"register\";r=0"),
        "{:?}",
        r.headers
    );
    // Other classes keep their own allowance.
    s.get("/healthz", None).await.expect(200);
    s.get("/posts/trending", None).await.expect(200);
    s.stop().await;
}

#[tokio::test]
async fn anonymous_calls_are_limited_per_ip_and_users_per_user() {
    let mut c = config();
    c.limit_anonymous = "3/min".to_owned();
    let s = Server::start(c).await;
    let (_, token, _) = s.user("limited").await; // register + login: 2 anonymous calls
    s.get("/posts/trending", None).await.expect(200);
    s.get("/posts/trending", None)
        .await
        .error(429, "rate_limited");
    // The user's own allowance is separate from the IP's anonymous one.
    let r = s.get("/posts/trending", Some(&token)).await.expect(200);
    let h = r.header("ratelimit").unwrap();
    assert!(h.contains("\"user\";r=") && !h.contains("anonymous"), "{h}");
    s.stop().await;
}

#[tokio::test]
async fn search_and_post_creation_have_stricter_classes() {
    let mut c = config();
    c.limit_search = "1/min".to_owned();
    c.limit_post = "1/min".to_owned();
    let s = Server::start(c).await;
    let (_, t, _) = s.user("poster").await;
    s.get("/posts/search?q=x", Some(&t)).await.expect(200);
    s.get("/posts/search?q=x", Some(&t))
        .await
        .error(429, "rate_limited");
    s.post("/posts", Some(&t), json!({"content": "one"}))
        .await
        .expect(201);
    s.post("/posts", Some(&t), json!({"content": "two"}))
        .await
        .error(429, "rate_limited");
    s.get("/feed", Some(&t)).await.expect(200);
    s.stop().await;
}

#[tokio::test]
async fn tokens_signed_with_another_key_or_expired_are_rejected() {
    let mut c = config();
    c.jwt_secret = Some("a".repeat(32));
    c.access_ttl_secs = 0;
    let s = Server::start(c).await;
    let (_, t, _) = s.user("shortlived").await;
    let r = s.get("/feed", Some(&t)).await.error(401, "unauthorized");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    s.stop().await;
}
