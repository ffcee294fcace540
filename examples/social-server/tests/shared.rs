//! State kept in the database, not in the process: it survives a restart and is shared by
//! every instance on one PostgreSQL database.

use keel_testkit::Service;
use serde_json::json;

use crate::support::{Server, config};

/// A config on a fresh PostgreSQL schema with a fixed JWT secret (so instances accept each
/// other's access tokens).
pub(crate) async fn shared_config(label: &str) -> Option<keel_social_server::Config> {
    let pg = keel_testkit::require(Service::Postgres).await?;
    let schema = keel_testkit::unique_schema(label);
    let pool = sqlx::PgPool::connect(&pg).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let mut c = config();
    c.database_url = Some(keel_testkit::pg_url_with_schema(&pg, &schema));
    c.jwt_secret = Some("s".repeat(32));
    Some(c)
}

async fn refresh(s: &Server, token: &str) -> Option<String> {
    let r = s
        .post("/auth/refresh", None, json!({"refresh_token": token}))
        .await;
    match r.status.as_u16() {
        200 => Some(r.body["refresh_token"].as_str().unwrap().to_owned()),
        401 => None,
        other => panic!("refresh answered {other}: {}", r.body),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_survive_a_restart_and_are_shared_by_instances_on_postgres() {
    let Some(c) = shared_config("social_creds").await else {
        return;
    };
    let a = Server::start(c.clone()).await;
    let (_, _, r1) = a.user("ada").await;
    let (_, _, r_other) = a.user("ada2").await;
    a.stop().await;

    // After a restart the refresh token still works, once.
    let a = Server::start(c.clone()).await;
    let r2 = refresh(&a, &r1)
        .await
        .expect("refresh token survives a restart");
    assert!(refresh(&a, &r1).await.is_none(), "single use");

    // A second instance on the same database accepts what the first issued, and rotation is
    // single use across both.
    let b = Server::start(c.clone()).await;
    let r3 = refresh(&b, &r2).await.expect("another instance accepts it");
    assert!(refresh(&a, &r2).await.is_none(), "used on b, dead on a");
    b.post("/auth/logout", None, json!({"refresh_token": r3}))
        .await
        .expect(204);
    assert!(refresh(&a, &r3).await.is_none(), "revoked on b, dead on a");
    assert!(refresh(&b, &r_other).await.is_some());

    // An API key made on one instance works on the other and after a restart.
    let login = a
        .post(
            "/auth/login",
            None,
            json!({"login": "ada", "password": "password-123"}),
        )
        .await
        .expect(200);
    let token = login.body["access_token"].as_str().unwrap().to_owned();
    let made = a
        .post("/auth/api-keys", Some(&token), json!({"name": "deploy"}))
        .await
        .expect(201);
    let key = made.body["key"].as_str().unwrap().to_owned();
    let post_with_key = |s: &Server, key: String| {
        let req = s
            .client
            .post(format!("{}/posts", s.base))
            .header("x-api-key", key)
            .json(&json!({"content": "from a script"}));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post_with_key(&b, key.clone()).await, 201);
    a.stop().await;
    let a = Server::start(c).await;
    assert_eq!(post_with_key(&a, key.clone()).await, 201);
    let id = made.body["id"].as_str().unwrap();
    b.call(
        reqwest::Method::DELETE,
        &format!("/auth/api-keys/{id}"),
        Some(&token),
        None,
    )
    .await
    .expect(204);
    assert_eq!(post_with_key(&a, key).await, 401);
    a.stop().await;
    b.stop().await;
}

fn kinds(page: &serde_json::Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_survive_a_restart_and_are_shared_by_instances_on_postgres() {
    let Some(c) = shared_config("social_notes").await else {
        return;
    };
    let a = Server::start(c.clone()).await;
    let (ada, ada_t, _) = a.user("ada").await;
    let (_, bob_t, _) = a.user("bob").await;
    a.post(&format!("/users/{ada}/follow"), Some(&bob_t), json!({}))
        .await
        .expect(204);
    a.eventually("/notifications", Some(&ada_t), |b| kinds(b) == ["followed"])
        .await;
    let post = a
        .post("/posts", Some(&ada_t), json!({"content": "hello"}))
        .await
        .expect(201);
    let post = post.body["id"].as_str().unwrap().to_owned();
    a.stop().await;

    // Kept across a restart.
    let a = Server::start(c.clone()).await;
    let page = a.get("/notifications", Some(&ada_t)).await.expect(200);
    assert_eq!(kinds(&page.body), ["followed"]);

    // A like through a second instance reaches the first, and both list the same.
    let b = Server::start(c).await;
    b.post(&format!("/posts/{post}/like"), Some(&bob_t), json!({}))
        .await
        .expect(200);
    let on_a = a
        .eventually("/notifications", Some(&ada_t), |b| {
            kinds(b) == ["liked", "followed"]
        })
        .await;
    let on_b = b.get("/notifications", Some(&ada_t)).await.expect(200);
    assert_eq!(on_a, on_b.body);
    a.stop().await;
    b.stop().await;
}
