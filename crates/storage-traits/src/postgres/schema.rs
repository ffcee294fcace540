//! The PostgreSQL schema, as embedded migrations applied on connect.
//!
//! Each migration runs once, in order, inside a transaction that holds an advisory lock, so
//! several processes connecting at once apply it exactly once. Applied versions are recorded in
//! `keel_storage_migrations` in the connection's schema (`search_path`).
//!
//! Every query pattern has its index:
//! - users by id (primary key), by lowercased username and email (unique), by username prefix
//!   (the `COLLATE "C"` unique index serves range scans), full text (GIN);
//! - posts by author and time (`posts_author_time_idx`), of every author by time
//!   (`posts_time_idx`, migration 2), by id, full text over public posts (partial GIN);
//! - follows in both directions (`(follower, followee)` primary key plus the two time-ordered
//!   indexes that serve the following and followers lists);
//! - likes by pair (primary key) and by post;
//! - comments by post and parent in time order, by author, by parent (cascades);
//! - the outbox's pending records in `seq` order and per aggregate;
//! - refresh tokens by hash (primary key), by user (cascades) and by expiry (the purge); API
//!   keys by hash (unique), by id and by user in time order (migration 3; `api_keys_user_time_idx`,
//!   migration 6, serves the list and the cascade);
//! - notifications by recipient and time (`notifications_recipient_time_idx`, migration 4),
//!   which also serves the per-user cap's trim.
//!
//! The `search` vectors were generated columns until migration 5; since then the writes (or a
//! search indexer, under `SearchIndexing::Deferred`) compute them from `search_text`.

use sqlx::{Executor, PgPool};

use crate::error::Result;
use crate::postgres::error::DbResultExt;

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Version, strictly increasing.
    pub version: i32,
    /// Short name.
    pub name: &'static str,
    /// The SQL (several statements).
    pub sql: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "social model, outbox, search",
        sql: r#"
CREATE TABLE users (
    id             uuid PRIMARY KEY,
    username       text NOT NULL,
    username_lower text COLLATE "C" NOT NULL,
    email          text NOT NULL,
    email_lower    text NOT NULL,
    password_hash  text NOT NULL,
    display_name   text NOT NULL,
    bio            text,
    avatar_url     text,
    verified       boolean NOT NULL DEFAULT false,
    created_at     bigint NOT NULL,
    updated_at     bigint NOT NULL,
    search_text    text NOT NULL,
    search         tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED
);
CREATE UNIQUE INDEX users_username_lower_key ON users (username_lower);
CREATE UNIQUE INDEX users_email_lower_key ON users (email_lower);
CREATE INDEX users_search_idx ON users USING gin (search);

CREATE TABLE posts (
    id            uuid PRIMARY KEY,
    author_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content       text NOT NULL,
    media         jsonb NOT NULL DEFAULT '[]',
    kind          text NOT NULL CHECK (kind IN ('text', 'image', 'video')),
    visibility    text NOT NULL CHECK (visibility IN ('public', 'followers', 'private')),
    like_count    bigint NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    comment_count bigint NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
    hashtags      text[] NOT NULL DEFAULT '{}',
    mentions      text[] NOT NULL DEFAULT '{}',
    created_at    bigint NOT NULL,
    updated_at    bigint NOT NULL,
    search_text   text NOT NULL,
    search        tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED
);
CREATE INDEX posts_author_time_idx ON posts (author_id, created_at DESC, id DESC);
CREATE INDEX posts_search_idx ON posts USING gin (search) WHERE visibility = 'public';

CREATE TABLE follows (
    follower_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  bigint NOT NULL,
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
CREATE INDEX follows_following_idx ON follows (follower_id, created_at DESC, followee_id DESC);
CREATE INDEX follows_followers_idx ON follows (followee_id, created_at DESC, follower_id DESC);

CREATE TABLE likes (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id    uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at bigint NOT NULL,
    PRIMARY KEY (user_id, post_id)
);
CREATE INDEX likes_post_idx ON likes (post_id, user_id);

CREATE TABLE comments (
    id         uuid PRIMARY KEY,
    post_id    uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    author_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    parent_id  uuid REFERENCES comments (id) ON DELETE CASCADE,
    content    text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX comments_thread_idx ON comments (post_id, parent_id, created_at, id);
CREATE INDEX comments_author_idx ON comments (author_id);
CREATE INDEX comments_parent_idx ON comments (parent_id);

CREATE TABLE outbox (
    seq          bigserial PRIMARY KEY,
    id           uuid NOT NULL UNIQUE,
    aggregate_id text NOT NULL,
    kind         text NOT NULL,
    payload      jsonb NOT NULL,
    created_at   bigint NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    leased_until bigint,
    published_at bigint
);
CREATE INDEX outbox_pending_idx ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_aggregate_idx ON outbox (aggregate_id, seq) WHERE published_at IS NULL;
"#,
    },
    Migration {
        version: 2,
        name: "posts of every author in time order",
        sql: r#"
CREATE INDEX posts_time_idx ON posts (created_at DESC, id DESC);
"#,
    },
    Migration {
        version: 3,
        name: "credentials: refresh tokens and API keys, stored hashed",
        sql: r#"
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expiry_idx ON refresh_tokens (expires_at);

CREATE TABLE api_keys (
    id         uuid PRIMARY KEY,
    key_hash   bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);
"#,
    },
    Migration {
        version: 4,
        name: "notifications",
        sql: r#"
CREATE TABLE notifications (
    id           uuid PRIMARY KEY,
    recipient_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('followed', 'liked', 'commented')),
    actor_id     uuid NOT NULL,
    post_id      uuid,
    comment_id   uuid,
    created_at   bigint NOT NULL
);
CREATE INDEX notifications_recipient_time_idx
    ON notifications (recipient_id, created_at DESC, id DESC);
"#,
    },
    Migration {
        version: 5,
        name: "search vectors written by the store or by a search indexer",
        // The vectors keep their values; from now on a write computes `search` itself
        // (SearchIndexing::Inline) or leaves it to `reindex_post` / `reindex_user`
        // (SearchIndexing::Deferred), so the column can no longer be generated.
        sql: r#"
ALTER TABLE users ALTER COLUMN search DROP EXPRESSION;
ALTER TABLE posts ALTER COLUMN search DROP EXPRESSION;
"#,
    },
    Migration {
        version: 6,
        name: "a user's API keys in time order",
        sql: r#"
CREATE INDEX api_keys_user_time_idx ON api_keys (user_id, created_at DESC, id DESC);
DROP INDEX api_keys_user_idx;
"#,
    },
];

/// Advisory lock key serializing migrations ("keelmigr").
const MIGRATION_LOCK: i64 = 0x6b65_656c_6d69_6772;

/// Applies every migration not yet recorded; returns how many ran.
pub(crate) async fn migrate(pool: &PgPool) -> Result<usize> {
    let mut tx = pool.begin().await.db()?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .db()?;
    tx.execute(
        "CREATE TABLE IF NOT EXISTS keel_storage_migrations (
             version integer PRIMARY KEY,
             name text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await
    .db()?;
    let applied: Vec<i32> = sqlx::query_scalar("SELECT version FROM keel_storage_migrations")
        .fetch_all(&mut *tx)
        .await
        .db()?;
    let mut ran = 0;
    for m in MIGRATIONS {
        if applied.contains(&m.version) {
            continue;
        }
        tx.execute(m.sql).await.db()?;
        sqlx::query("INSERT INTO keel_storage_migrations (version, name) VALUES ($1, $2)")
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *tx)
            .await
            .db()?;
        ran += 1;
    }
    tx.commit().await.db()?;
    Ok(ran)
}
