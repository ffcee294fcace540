//! Error statuses and shapes, deletions, operational endpoints.

#[allow(unused_imports)]
use super::*;

pub(super) async fn errors(s: &Server, ada_t: &str) {
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
    let r = s
        .post("/posts", Some(ada_t), json!({ "content": big }))
        .await
        .error(413, "payload_too_large");
    // The body was left unread, so the connection is not reused.
    assert_eq!(r.header("connection"), Some("close"));
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
pub(super) async fn deletes(
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

pub(super) async fn operations(s: &Server) {
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
