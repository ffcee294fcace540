//! The end-to-end suite: every endpoint and every error status, run on the memory defaults and
//! on PostgreSQL + Redis + NATS.

use keel_testkit::Service;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Server, config, ids};

mod admin;
mod errors;
mod feed;
mod lists;
mod posts;
mod social;
mod tokens;
mod users;

use admin::admin;
use errors::{deletes, errors, operations};
use lists::lists;
use posts::{Posts, posts};
use social::social;
use tokens::tokens;
use users::users;

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
    admin(s, &bob).await;
    tokens(s, &ada_t, &ada_refresh).await;
    errors(s, &ada_t).await;
    deletes(s, &ada, &ada_t, &eve, &eve_t, &bob_t, &posts).await;
    operations(s).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hybrid_delivery_pulls_authors_above_the_threshold() {
    let mut c = config();
    c.feed_threshold = 1; // an author with 2 or more followers is pulled at read time
    let s = Server::start(c).await;
    let (star, star_t, _) = s.user("star").await;
    let (small, small_t, _) = s.user("small").await;
    let (_, fan1_t, _) = s.user("fan1").await;
    let (_, fan2_t, _) = s.user("fan2").await;
    for t in [&fan1_t, &fan2_t] {
        s.post(&format!("/users/{star}/follow"), Some(t), json!({}))
            .await
            .expect(204);
    }
    s.post(&format!("/users/{small}/follow"), Some(&fan1_t), json!({}))
        .await
        .expect(204);
    let pulled = s
        .post("/posts", Some(&star_t), json!({"content": "from the star"}))
        .await
        .expect(201);
    let pushed = s
        .post(
            "/posts",
            Some(&small_t),
            json!({"content": "from a small account"}),
        )
        .await
        .expect(201);
    let (pulled, pushed) = (
        pulled.body["id"].as_str().unwrap().to_owned(),
        pushed.body["id"].as_str().unwrap().to_owned(),
    );
    let feed = s
        .eventually("/feed", Some(&fan1_t), |b| {
            ids(b).contains(&pulled) && ids(b).contains(&pushed)
        })
        .await;
    assert_eq!(ids(&feed), [pushed, pulled.clone()], "merged newest first");
    s.eventually("/feed", Some(&fan2_t), |b| ids(b) == [pulled.clone()])
        .await;
    s.stop().await;
}
