//! The home feed over storage (keel-feed's `storage` bridge): pulled and pushed authors merged,
//! paged by cursor, deletes and unfollows, on the memory defaults and on PostgreSQL + Redis +
//! NATS, where a restart needs no warm-up.

use super::*;

/// Polls `/feed` (pages of 2, following `next_cursor`) until it lists exactly `want`.
async fn feed_is(s: &Server, token: &str, want: &[String]) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut got = Vec::new();
        let mut path = "/feed?limit=2".to_owned();
        loop {
            let page = s.get(&path, Some(token)).await.expect(200);
            got.extend(ids(&page.body));
            match page.body["next_cursor"].as_str() {
                Some(next) => path = format!("/feed?limit=2&after={next}"),
                None => break,
            }
        }
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "feed {got:?} never became {want:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn create(s: &Server, token: &str, content: &str) -> String {
    let p = s
        .post("/posts", Some(token), json!({ "content": content }))
        .await
        .expect(201);
    p.body["id"].as_str().unwrap().to_owned()
}

/// A star (2 followers: pulled at read time with a threshold of 1) and a small account
/// (pushed); returns the fans' tokens and the posts, oldest first.
async fn hybrid_world(s: &Server) -> (String, String, String, Vec<String>, Vec<String>) {
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
    let (mut star_posts, mut small_posts) = (Vec::new(), Vec::new());
    for i in 0..3 {
        star_posts.push(create(s, &star_t, &format!("star {i}")).await);
        small_posts.push(create(s, &small_t, &format!("small {i}")).await);
    }
    (fan1_t, fan2_t, small, star_posts, small_posts)
}

fn newest_first(star: &[String], small: &[String]) -> Vec<String> {
    let mut all: Vec<String> = star
        .iter()
        .zip(small)
        .flat_map(|(a, b)| [a.clone(), b.clone()])
        .collect();
    all.reverse();
    all
}

async fn hybrid_feed(s: &Server) -> (String, Vec<String>) {
    let (fan1_t, fan2_t, small, mut star, mut small_posts) = hybrid_world(s).await;
    feed_is(s, &fan1_t, &newest_first(&star, &small_posts)).await;
    let star_only: Vec<String> = star.iter().rev().cloned().collect();
    feed_is(s, &fan2_t, &star_only).await;

    // Deleting the star's post (pulled: no walk over the followers) and a pushed one.
    for (p, t) in [(star.remove(1), "star"), (small_posts.remove(0), "small")] {
        let login = s
            .post(
                "/auth/login",
                None,
                json!({"login": t, "password": "password-123"}),
            )
            .await
            .expect(200);
        let token = login.body["access_token"].as_str().unwrap();
        s.call(Method::DELETE, &format!("/posts/{p}"), Some(token), None)
            .await
            .expect(204);
    }
    feed_is(s, &fan1_t, &newest_first(&star, &small_posts)).await;

    // Unfollowing the small account takes its posts out.
    s.call(
        Method::DELETE,
        &format!("/users/{small}/follow"),
        Some(&fan1_t),
        None,
    )
    .await
    .expect(204);
    let star_only: Vec<String> = star.iter().rev().cloned().collect();
    feed_is(s, &fan1_t, &star_only).await;
    feed_is(s, &fan2_t, &star_only).await;
    (fan1_t, star_only)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hybrid_feed_on_memory_defaults() {
    let mut c = config();
    c.feed_threshold = 1;
    let s = Server::start(c).await;
    hybrid_feed(&s).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hybrid_feed_on_postgres_redis_and_nats_survives_a_restart() {
    let Some(pg) = keel_testkit::require(Service::Postgres).await else {
        return;
    };
    let Some(redis) = keel_testkit::require(Service::Redis).await else {
        return;
    };
    let Some(nats) = keel_testkit::require(Service::Nats).await else {
        return;
    };
    let schema = keel_testkit::unique_schema("social_feed");
    let pool = sqlx::PgPool::connect(&pg).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .unwrap();
    let mut c = config();
    c.feed_threshold = 1;
    c.jwt_secret = Some("f".repeat(32));
    c.database_url = Some(keel_testkit::pg_url_with_schema(&pg, &schema));
    c.redis_url = Some(redis);
    c.redis_prefix = keel_testkit::unique_prefix("social-feed");
    c.nats_url = Some(nats);
    c.nats_prefix = format!("t{}", &uuid::Uuid::now_v7().simple().to_string()[8..28]);
    let s = Server::start(c.clone()).await;
    let (fan1_t, want) = hybrid_feed(&s).await;
    s.stop().await;

    // A new process: the graph and posts are read from PostgreSQL, timelines from Redis.
    let s = Server::start(c).await;
    feed_is(&s, &fan1_t, &want).await;
    s.stop().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&pool)
        .await
        .unwrap();
}
