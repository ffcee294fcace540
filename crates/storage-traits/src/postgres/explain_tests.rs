//! The hot queries use their indexes: `EXPLAIN` on a seeded schema (tens of thousands of rows,
//! analyzed), against the SQL the backend really sends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keel_pagination::SortValue;
use keel_pagination::keyset::postgres::PgKeyset;
use keel_pagination::keyset::{Direction, Position, Seek};
use keel_testkit::Service;
use sqlx::types::Json;
use sqlx::{Connection, Executor, PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::outbox::CLAIM_SQL;
use super::posts::{Followees, post_filter};
use super::search::rank_sql;
use super::social::HAS_LIKED_SQL;
use super::{PgOptions, PgStore};

const SEED: &str = "
INSERT INTO users (id, username, username_lower, email, email_lower, password_hash, display_name,
                   created_at, updated_at, search_text)
SELECT md5('u' || i)::uuid, 'user' || i, 'user' || i, 'user' || i || '@x.io', 'user' || i || '@x.io',
       'h', 'User ' || i, i, i, 'user' || i || ' user ' || i
FROM generate_series(0, 29999) i;
INSERT INTO posts (id, author_id, content, kind, visibility, created_at, updated_at, search_text)
SELECT md5('p' || i)::uuid, md5('u' || (i % 2000))::uuid, 'word' || (i % 997) || ' common',
       'text', CASE WHEN i % 10 = 0 THEN 'private' ELSE 'public' END, i, i,
       'word' || (i % 997) || ' common'
FROM generate_series(0, 49999) i;
INSERT INTO follows (follower_id, followee_id, created_at)
SELECT md5('u' || (i % 2000))::uuid, md5('u' || ((i % 2000 + i / 2000 + 1) % 2000))::uuid, i
FROM generate_series(0, 39999) i;
INSERT INTO likes (user_id, post_id, created_at)
SELECT md5('u' || (i % 2000))::uuid, md5('p' || ((i * 7) % 50000))::uuid, i
FROM generate_series(0, 39999) i ON CONFLICT DO NOTHING;
INSERT INTO comments (id, post_id, author_id, parent_id, content, created_at)
SELECT md5('c' || i)::uuid, md5('p' || (i % 5000))::uuid, md5('u' || (i % 2000))::uuid, NULL, 'c', i
FROM generate_series(0, 19999) i;
INSERT INTO outbox (id, aggregate_id, kind, payload, created_at, published_at)
SELECT md5('o' || i)::uuid, 'agg' || (i % 3000), 'Liked', '{}', i,
       CASE WHEN i < 19000 THEN i END
FROM generate_series(0, 19999) i;
";

async fn plan(conn: &mut PgConnection, mut qb: QueryBuilder<'static, Postgres>) -> String {
    let Json(v): Json<serde_json::Value> =
        qb.build_query_scalar().fetch_one(&mut *conn).await.unwrap();
    v.to_string()
}

fn assert_uses(plan: &str, index: &str, what: &str) {
    assert!(
        plan.contains(&format!("\"Index Name\":\"{index}\"")),
        "{what} does not use {index}: {plan}"
    );
    assert!(!plan.contains("Seq Scan"), "{what} scans a table: {plan}");
}

/// `EXPLAIN` of a keyset page exactly as `PgKeyset::page_query` builds it (filter, position
/// predicate, order, limit), with a mid-list position.
async fn keyset_plan(
    conn: &mut PgConnection,
    ks: &PgKeyset,
    table: &str,
    filter: impl Fn(&mut QueryBuilder<'static, Postgres>),
    seek: &Seek,
) -> String {
    let mut qb = QueryBuilder::new("EXPLAIN (FORMAT JSON) SELECT * FROM ");
    qb.push(table).push(" WHERE (");
    filter(&mut qb);
    qb.push(") AND (");
    ks.push_predicate(&mut qb, seek.direction, &seek.position)
        .unwrap();
    qb.push(")");
    ks.push_order_by(&mut qb, seek.direction);
    qb.push(" LIMIT 21");
    plan(conn, qb).await
}

/// A schema of its own for one test on the PostgreSQL at `url`; `url` reaches it.
struct TestSchema {
    admin: PgConnection,
    name: String,
    url: String,
}

impl TestSchema {
    async fn create(url: &str, label: &str) -> Self {
        let name = keel_testkit::unique_schema(label);
        let mut admin = PgConnection::connect(url).await.unwrap();
        admin
            .execute(format!("CREATE SCHEMA {name}").as_str())
            .await
            .unwrap();
        let url = keel_testkit::pg_url_with_schema(url, &name);
        Self { admin, name, url }
    }

    async fn drop(mut self) {
        self.admin
            .execute(format!("DROP SCHEMA {} CASCADE", self.name).as_str())
            .await
            .unwrap();
    }
}

fn mid(at: i64, id: Uuid) -> Seek {
    Seek {
        direction: Direction::Forward,
        position: Position::after(vec![SortValue::I64(at), SortValue::Uuid(id)]),
        limit: 20,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_queries_use_their_indexes() {
    let Some(url) = keel_testkit::require(Service::Postgres).await else {
        return;
    };
    let schema = TestSchema::create(&url, "storage_explain").await;
    let scoped = schema.url.clone();
    let store = PgStore::connect_with(&scoped, PgOptions::default())
        .await
        .unwrap();
    let mut conn = PgConnection::connect(&scoped).await.unwrap();
    conn.execute(SEED).await.unwrap();
    // VACUUM flushes the GIN pending lists (which the planner charges for) and ANALYZE gives it
    // real statistics; VACUUM cannot share a multi-statement string.
    conn.execute("VACUUM ANALYZE users, posts, follows, likes, comments, outbox")
        .await
        .unwrap();

    let user: Uuid = sqlx::query_scalar("SELECT md5('u7')::uuid")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let post: Uuid = sqlx::query_scalar("SELECT md5('p7')::uuid")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let ks = &store.keysets;

    for seek in [Seek::first(20), mid(30_000, Uuid::max())] {
        let by_author = move |qb: &mut QueryBuilder<'static, Postgres>| {
            qb.push("author_id = ").push_bind(user);
        };
        let p = keyset_plan(&mut conn, &ks.posts_by_author, "posts", by_author, &seek).await;
        assert_uses(&p, "posts_author_time_idx", "posts by author");
        let followers = move |qb: &mut QueryBuilder<'static, Postgres>| {
            qb.push("followee_id = ").push_bind(user);
        };
        let p = keyset_plan(&mut conn, &ks.followers, "follows", followers, &seek).await;
        assert_uses(&p, "follows_followers_idx", "followers");
        let following = move |qb: &mut QueryBuilder<'static, Postgres>| {
            qb.push("follower_id = ").push_bind(user);
        };
        let p = keyset_plan(&mut conn, &ks.following, "follows", following, &seek).await;
        assert_uses(&p, "follows_following_idx", "following");
        // The filtered post list, as a viewer sees it, both orders.
        let viewer = Some(crate::UserId(user));
        for (keyset, order) in [
            (&ks.posts, crate::PostOrder::NewestFirst),
            (&ks.posts_oldest_first, crate::PostOrder::OldestFirst),
        ] {
            let q = crate::PostQuery::all().seen_by(viewer).ordered(order);
            let f = post_filter(q, Followees::Local);
            let p = keyset_plan(&mut conn, keyset, "posts", f, &seek).await;
            assert_uses(&p, "posts_time_idx", "every author's posts");
            let f = post_filter(q.by(crate::UserId(user)), Followees::Local);
            let p = keyset_plan(&mut conn, keyset, "posts", f, &seek).await;
            assert_uses(&p, "posts_author_time_idx", "one author's posts");
        }
    }
    let thread = move |qb: &mut QueryBuilder<'static, Postgres>| {
        qb.push("post_id = ")
            .push_bind(post)
            .push(" AND parent_id IS NULL");
    };
    let p = keyset_plan(
        &mut conn,
        &ks.comments,
        "comments",
        thread,
        &mid(5, Uuid::nil()),
    )
    .await;
    assert_uses(&p, "comments_thread_idx", "comment thread");

    let prefix = |qb: &mut QueryBuilder<'static, Postgres>| {
        qb.push("username_lower >= ")
            .push_bind("user12")
            .push(" AND username_lower < ")
            .push_bind("user12{");
    };
    let p = keyset_plan(
        &mut conn,
        &ks.users_by_prefix,
        "users",
        prefix,
        &Seek::first(20),
    )
    .await;
    assert_uses(&p, "users_username_lower_key", "users by prefix");

    let explain = |sql: &str| format!("EXPLAIN (FORMAT JSON) {sql}");
    let Json(v): Json<serde_json::Value> = sqlx::query_scalar(&explain(HAS_LIKED_SQL))
        .bind(user)
        .bind(post)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    // Both pair indexes ((user, post) primary key, (post, user)) answer it with one probe.
    let p = v.to_string();
    let idx = if p.contains("likes_pkey") {
        "likes_pkey"
    } else {
        "likes_post_idx"
    };
    assert_uses(&p, idx, "like by pair");
    assert!(
        p.contains("Index Only Scan") && p.contains("user_id = ") && p.contains("post_id = "),
        "{p}"
    );

    let Json(v): Json<serde_json::Value> = sqlx::query_scalar(&explain(CLAIM_SQL))
        .bind(1_i64)
        .bind(2_i64)
        .bind(100_i64)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let p = v.to_string();
    assert_uses(&p, "outbox_pending_idx", "outbox claim");

    let Json(v): Json<serde_json::Value> =
        sqlx::query_scalar(&explain(&rank_sql("posts", "visibility = 'public' AND")))
            .bind("word5 | word6")
            .bind(1000_i64)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_uses(&v.to_string(), "posts_search_idx", "post search");

    let Json(v): Json<serde_json::Value> = sqlx::query_scalar(&explain(&rank_sql("users", "")))
        .bind("user5")
        .bind(1000_i64)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_uses(&v.to_string(), "users_search_idx", "user search");

    store.pool().close().await;
    drop(conn);
    schema.drop().await;
}

/// The outbox claim is planned on each call, never from a generic plan the connection cached
/// while the table was empty (such a plan scanned every pending row once per pending row:
/// 18 to 50 s per claim under the social server's write flood).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_claim_is_never_a_cached_plan() {
    use crate::repo::OutboxRepo;
    let Some(url) = keel_testkit::require(Service::Postgres).await else {
        return;
    };
    let schema = TestSchema::create(&url, "storage_claim_plan").await;
    let scoped = schema.url.clone();
    let options = PgOptions {
        max_connections: 1,
        ..PgOptions::default()
    };
    let store = PgStore::connect_with(&scoped, options).await.unwrap();
    // More claims than PostgreSQL's five custom plans before it considers a generic one.
    for _ in 0..8 {
        let claimed = store
            .claim_outbox(10, std::time::Duration::from_secs(1))
            .await
            .unwrap();
        assert!(claimed.is_empty());
    }
    let cached: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'UPDATE outbox SET leased_until%'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(cached, 0, "the claim must not be a prepared statement");
    store.pool().close().await;
    schema.drop().await;
}
