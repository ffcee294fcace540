//! `pagination/cursor`: sign and verify one two-field cursor.
//! `pagination/postgres_depth`: one page of 20 at depth 0, 10,000 and 1,000,000, keyset
//! (`PgKeyset::fetch`: the page query plus its existence probe for `has_prev`) beside `OFFSET`, on a
//! 1,000,000-row table created and filled once (`keel_bench_pagination`) and reused by later runs.
//! Needs `DATABASE_URL` (skipped with a message when PostgreSQL is unreachable).
//!
//! Run: `cargo bench -p keel-benches --bench pagination -- --warm-up-time 1 --measurement-time 3`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use keel_pagination::keyset::postgres::{PgKeyset, no_filter};
use keel_pagination::keyset::{Direction, Position, Seek};
use keel_pagination::{CursorCodec, KeyRing, QueryKey, SortSpec, SortValue, ValueKind};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{PgConnection, Row};

const TABLE: &str = "keel_bench_pagination";
const ROWS: i64 = 1_000_000;
const DEPTHS: [i64; 3] = [0, 10_000, 1_000_000];
const PAGE: usize = 20;

fn spec() -> SortSpec {
    SortSpec::builder()
        .desc("created_at", ValueKind::I64)
        .tiebreaker("id", ValueKind::I64)
        .unwrap()
}

fn cursor(c: &mut Criterion) {
    let codec = CursorCodec::new(KeyRing::new(1, &[7u8; 32]).unwrap());
    let query = QueryKey::new("posts", &spec()).filter("author", "42");
    let position = Position::after(vec![
        SortValue::I64(1_764_000_000_000_000),
        SortValue::I64(9_876_543_210),
    ]);
    let encoded = codec.encode(&query, &position).unwrap();
    let mut g = c.benchmark_group("pagination/cursor");
    g.bench_function("encode_sign", |b| {
        b.iter(|| {
            codec
                .encode(black_box(&query), black_box(&position))
                .unwrap()
        });
    });
    g.bench_function("decode_verify", |b| {
        b.iter(|| {
            codec
                .decode(black_box(&query), black_box(&encoded))
                .unwrap()
        });
    });
    g.finish();
}

/// Creates and fills the table once; later runs find it full and reuse it.
async fn ensure_table(pool: &PgPool) {
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (id BIGINT PRIMARY KEY, created_at BIGINT NOT NULL, body TEXT NOT NULL)"
    ))
    .execute(pool)
    .await
    .unwrap();
    let n: i64 = sqlx::query(&format!("SELECT count(*) FROM {TABLE}"))
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0);
    if n != ROWS {
        eprintln!("pagination: filling {TABLE} with {ROWS} rows (once)");
        sqlx::query(&format!("TRUNCATE {TABLE}"))
            .execute(pool)
            .await
            .unwrap();
        // Three rows per created_at value: ties the tiebreaker must resolve.
        sqlx::query(&format!(
            "INSERT INTO {TABLE} (id, created_at, body) \
             SELECT g, 1700000000000000 + (g / 3) * 1000, 'post ' || g FROM generate_series(1, {ROWS}) g"
        ))
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query(&format!(
        "CREATE INDEX IF NOT EXISTS {TABLE}_created_id ON {TABLE} (created_at DESC, id DESC)"
    ))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(&format!("VACUUM ANALYZE {TABLE}"))
        .execute(pool)
        .await
        .unwrap();
}

/// The sort values of the row at `depth` (0-based) in `created_at DESC, id DESC` order, as the
/// anchor a keyset cursor would carry after `depth` rows.
async fn anchor_at(pool: &PgPool, depth: i64) -> Position {
    if depth == 0 {
        return Position::edge();
    }
    let row = sqlx::query(&format!(
        "SELECT created_at, id FROM {TABLE} ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1"
    ))
    .bind(depth.min(ROWS - PAGE as i64) - 1)
    .fetch_one(pool)
    .await
    .unwrap();
    Position::after(vec![
        SortValue::I64(row.get("created_at")),
        SortValue::I64(row.get("id")),
    ])
}

async fn offset_page(conn: &mut PgConnection, offset: i64) -> usize {
    sqlx::query(&format!(
        "SELECT id, body, created_at FROM {TABLE} ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
    ))
    .bind(PAGE as i64)
    .bind(offset)
    .fetch_all(conn)
    .await
    .unwrap()
    .len()
}

fn postgres_depth(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(url) = rt.block_on(keel_testkit::require(keel_testkit::Service::Postgres)) else {
        eprintln!("pagination/postgres_depth skipped: PostgreSQL unreachable (set DATABASE_URL)");
        return;
    };
    let pool = rt.block_on(async {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        ensure_table(&pool).await;
        pool
    });
    let keyset = PgKeyset::new(TABLE, "id, body", spec()).unwrap();
    let mut g = c.benchmark_group("pagination/postgres_depth");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for depth in DEPTHS {
        let seek = Seek {
            direction: Direction::Forward,
            position: rt.block_on(anchor_at(&pool, depth)),
            limit: PAGE,
        };
        g.bench_function(format!("keyset/{depth}"), |b| {
            b.to_async(&rt).iter(|| async {
                let mut conn = pool.acquire().await.unwrap();
                let w = keyset
                    .fetch(&mut conn, &seek, no_filter, |r| r.try_get::<i64, _>("id"))
                    .await
                    .unwrap();
                assert_eq!(w.items.len(), PAGE);
            });
        });
        // The last full page: OFFSET 1,000,000 of 1,000,000 rows would return nothing.
        let offset = depth.min(ROWS - PAGE as i64);
        g.bench_function(format!("offset/{depth}"), |b| {
            b.to_async(&rt).iter(|| async {
                let mut conn = pool.acquire().await.unwrap();
                assert_eq!(offset_page(&mut conn, offset).await, PAGE);
            });
        });
    }
    g.finish();
}

criterion_group!(benches, cursor, postgres_depth);
criterion_main!(benches);
