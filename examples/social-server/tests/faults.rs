//! Server faults end to end: when PostgreSQL loses the server's tables mid-run, requests get a
//! 5xx in the one error shape, with the request id and without internals, and `/readyz` says
//! the storage is down.

use keel_testkit::Service;
use serde_json::json;

use crate::support::{Server, config};

/// Words that would leak the backend's internals into a response body.
const INTERNALS: [&str; 6] = [
    "relation",
    "sql",
    "postgres",
    "schema",
    "does not exist",
    "pool",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_gives_5xx_with_the_request_id_and_no_internals() {
    let Some(pg) = keel_testkit::require(Service::Postgres).await else {
        return;
    };
    let schema = keel_testkit::unique_schema("faults");
    let admin = sqlx::PgPool::connect(&pg).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let mut c = config();
    c.database_url = Some(keel_testkit::pg_url_with_schema(&pg, &schema));
    let server = Server::start(c).await;
    let (ada, ada_t, _) = server.user("ada").await;
    server.get("/readyz", None).await.expect(200);

    // The tables vanish under the running server.
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();

    let replies = [
        server
            .get(&format!("/users/{ada}/followers"), Some(&ada_t))
            .await,
        server
            .post("/posts", Some(&ada_t), json!({"content": "into the void"}))
            .await,
    ];
    for r in replies {
        assert!(r.status.is_server_error(), "{}: {}", r.status, r.body);
        let error = &r.body["error"];
        assert_eq!(error["status"], r.status.as_u16(), "{}", r.body);
        assert!(
            matches!(error["code"].as_str(), Some("internal" | "unavailable")),
            "{}",
            r.body
        );
        let id = error["request_id"]
            .as_str()
            .expect("a request id in the body");
        assert_eq!(
            r.header("x-request-id"),
            Some(id),
            "the same id in the header"
        );
        let text = r.body.to_string().to_lowercase();
        for word in INTERNALS {
            assert!(!text.contains(word), "{word:?} leaked: {text}");
        }
    }
    let ready = server.get("/readyz", None).await;
    assert_eq!(ready.status.as_u16(), 503, "{}", ready.body);
    assert_eq!(ready.body["storage"]["ok"], false);
    server.stop().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}
