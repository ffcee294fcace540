//! Log in, refresh rotation, log out, bad tokens, API keys.

#[allow(unused_imports)]
use super::*;

pub(super) async fn tokens(s: &Server, ada_t: &str, refresh: &str) {
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
    // Listed (never with the key), newest first, paginated with Link headers.
    let k2 = s
        .post("/auth/api-keys", Some(ada_t), json!({"name": "deploy"}))
        .await
        .expect(201);
    let page = s
        .get("/auth/api-keys?limit=1", Some(ada_t))
        .await
        .expect(200);
    assert_eq!(page.body["items"][0]["id"], k2.body["id"]);
    assert_eq!(page.body["items"][0]["name"], "deploy");
    assert!(page.body["items"][0].get("key").is_none());
    assert!(
        page.header("link")
            .is_some_and(|l| l.contains("rel=\"next\""))
    );
    let all = s.get("/auth/api-keys", Some(ada_t)).await.expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(all.body["items"][1]["id"], kid);
    s.get("/auth/api-keys", None)
        .await
        .error(401, "unauthorized");
    let k2id = k2.body["id"].as_str().unwrap();
    s.call(
        Method::DELETE,
        &format!("/auth/api-keys/{k2id}"),
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
