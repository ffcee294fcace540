//! The sharded PostgreSQL backend: [`ShardedPgStore`] (feature `sharded`).
//!
//! Users are spread over N PostgreSQL databases (shards), each an ordinary [`PgStore`] with
//! its embedded migrations plus a small shard migration ([`SHARD_SQL`]). The store implements
//! every repository trait, so it runs the same conformance suite as the other backends.
//!
//! # Where each row lives
//! | row | shard | why |
//! |---|---|---|
//! | user | the user's *home* shard, chosen at sign-up by [`keel_sharding::Jump`] over the stable hash of the lowercased username | even spread, no lookup table |
//! | post | its author's home shard | an author's page is one index range on one database |
//! | like | the post's shard (so the liker's likes are spread) | the like row, the post's `like_count` and the `Liked` event commit in one local transaction |
//! | comment | the post's shard | threads and `comment_count` stay in one local transaction |
//! | follow edge | the follower's home shard, once | the follow and its event are atomic; `following` and `is_following` are one-shard reads |
//! | outbox record | the shard of the row it describes | every write stays one local transaction |
//! | username and email claims | shard 0 (the directory shard) | global uniqueness, see below |
//! | refresh tokens and API keys | shard 0 | a lookup by hash (every authenticated API-key call) is one query |
//! | notification | its recipient's home shard | adding and listing are one-shard calls; deleted with the user |
//!
//! Every outbox aggregate lives on one shard (user events on the home shard, follow events on
//! the follower's, post, like and comment events on the post's), so per-aggregate order holds
//! within each shard's outbox.
//!
//! Because likes, comments and follow edges can name users of other shards, the shard
//! migration drops the foreign keys to `users` that may cross shards
//! (`follows.followee_id`, `likes.user_id`, `comments.author_id`, and the credentials'
//! `user_id`); this store checks those users exist before writing, and [`UserRepo::delete_user`](crate::UserRepo::delete_user)
//! removes their rows on every shard first.
//!
//! # Routing ids
//! Every id carries its shard: each shard's [`PgStore`] mints ids with
//! [`IdGenerator::for_shard`](crate::IdGenerator::for_shard), a view of one shared generator that only hands out ids whose
//! last byte names that shard ([`crate::id::shard_of`]). Routing a user, post or comment id is
//! a byte read, no lookup and no extra query; the cost is about N generator steps per id
//! (nanoseconds) and a cap of 256 shards. All views share one sequence, so ids stay strictly
//! increasing across shards and every backend orders rows identically. The shard count is
//! fixed for a store's life: growing it means moving rows (not done here).
//!
//! # Global uniqueness of usernames and emails
//! Each lowercased username and email is *claimed* in `keel_shard_claims` on shard 0 before
//! the user row is written on its home shard; the claim's primary key makes the check
//! atomic across shards. The two steps are not one transaction, and the windows are closed
//! like this:
//! - a claim is first *pending* (no owner), then bound to the new user; a failed insert
//!   releases it;
//! - a crash between the two leaves a pending claim: after [`CLAIM_GRACE_MICROS`] (by the
//!   injected clock) the next sign-up for that name looks for a user holding it on every
//!   shard, adopts the claim for that user if found (a conflict), and takes it over if not;
//! - a bound claim whose owner no longer holds the name (a crash during a delete or rename)
//!   is taken over the same way.
//!
//! Lookups by username or email read the claim (one query on shard 0) and then the home shard.
//!
//! # Scatter-gather
//! Reads that span shards fan out with [`keel_sharding::scatter`] (all shards at once, a
//! per-shard timeout; a shard that fails or times out fails the read with `Unavailable`,
//! never a silent gap) and merge the shards' keyset windows in the list's sort order
//! ([`merge`]): `followers` (edges live with followers), the followers count,
//! `users_by_prefix`, both searches, and [`ShardedPgStore::followee_posts`] (the posts of the
//! users someone follows). Each shard returns at most `limit` rows after the seek's position;
//! the merge keeps the first `limit` (or the last, reading backward) and sets `has_next` /
//! `has_prev` from the shards' flags and the rows it dropped, so pages never skip or repeat.
//! Search scores (`ts_rank`) depend only on the document and the query, so they compare
//! across shards; the [`MAX_SEARCH_HITS`](crate::page::MAX_SEARCH_HITS) cap applies per shard.
//!
//! # The outbox
//! Run one relay per shard over [`ShardedPgStore::shard_outboxes`] (each an
//! `Arc<dyn OutboxRepo>`, e.g. for `keel-events`' `StorageOutbox`): that is the scalable path.
//! The store's own [`OutboxRepo`] serves one relay over all shards: it
//! claims from every shard, keeps the `limit` oldest records by id (global creation order)
//! and gives the others back uncounted. Its `seq` is `local_seq * 256 + shard`: unique and
//! routable, increasing within a shard, but not across shards (order by the record id there).
//!
//! # Example
//! ```no_run
//! use std::sync::Arc;
//! use keel_storage::{FollowRepo, NewPost, NewUser, PgOptions, PostRepo, Seek, ShardedPgStore};
//! use keel_storage::{Store, UserRepo};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let urls = ["postgres://localhost/social_0", "postgres://localhost/social_1"];
//! let store = ShardedPgStore::connect(&urls, PgOptions::default()).await?;
//! let ada = store.create_user(NewUser::new("ada", "ada@example.com", "hash")).await?;
//! let bob = store.create_user(NewUser::new("bob", "bob@example.com", "hash")).await?;
//! store.create_post(NewPost::text(ada.id, "hello")).await?; // on ada's shard
//! store.follow(bob.id, ada.id).await?; // on bob's shard
//! let feed = store.followee_posts(bob.id, &Seek::first(20)).await?; // every shard, merged
//! assert_eq!(feed.items.len(), 1);
//! let _relays = store.shard_outboxes(); // one relay per shard
//! let _all: Arc<dyn Store> = Arc::new(store);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Limits
//! - Writes within one shard are one transaction (row, counters, event), as in [`PgStore`].
//!   Writes that touch several shards are not: sign-up and rename (claims, then the row; see
//!   above), and user deletion (the user's likes, comments and edges on every shard, then the
//!   user row and its `UserDeleted` event). A like, comment or follow naming a user that is
//!   deleted at the same moment can outlive them; [`ShardedPgStore::sweep_user`] (idempotent,
//!   e.g. from a job reading `UserDeleted` events a minute later) removes it.
//! - The shard count is fixed; adding a database means moving rows (ids name their shard).
//! - Scatter-gather reads cost one query per shard; lookups by id, the author's posts,
//!   `following`, likes and comments stay one-shard reads.

mod content;
mod credentials;
pub mod merge;
mod notifications;
mod outbox;
mod social;
mod users;

pub use social::MAX_FEED_FOLLOWEES;

use std::sync::Arc;
use std::time::Duration;

use keel_sharding::{Jump, ScatterConfig, ShardFailure, ShardId, Sharder, scatter};
use sqlx::Executor;
use uuid::Uuid;

use crate::error::{Result, StorageError};
use crate::id::{MAX_ID_SHARDS, UserId, shard_of};
use crate::postgres::error::DbResultExt;
use crate::postgres::{PgOptions, PgStore};
use crate::repo::OutboxRepo;

/// How long a pending username or email claim protects an unfinished sign-up before another
/// sign-up may check and take it over (30 s, by the store's clock).
pub const CLAIM_GRACE_MICROS: i64 = 30_000_000;

/// The shard migration, applied on connect after the [`PgStore`] migrations (idempotent).
pub const SHARD_SQL: &str = r#"
ALTER TABLE follows DROP CONSTRAINT IF EXISTS follows_followee_id_fkey;
ALTER TABLE likes DROP CONSTRAINT IF EXISTS likes_user_id_fkey;
ALTER TABLE comments DROP CONSTRAINT IF EXISTS comments_author_id_fkey;
ALTER TABLE refresh_tokens DROP CONSTRAINT IF EXISTS refresh_tokens_user_id_fkey;
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_user_id_fkey;
CREATE INDEX IF NOT EXISTS likes_user_idx ON likes (user_id);
CREATE TABLE IF NOT EXISTS keel_shard_claims (
    kind       text NOT NULL,
    value      text NOT NULL,
    user_id    uuid,
    claimed_at bigint NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX IF NOT EXISTS keel_shard_claims_user_idx ON keel_shard_claims (user_id);
"#;

/// Advisory lock key serializing the shard migration ("keelshrd").
const SHARD_LOCK: i64 = 0x6b65_656c_7368_7264;

/// The sharded PostgreSQL backend; see the [module docs](self). Cheap to clone.
#[derive(Debug, Clone)]
pub struct ShardedPgStore {
    shards: Arc<[PgStore]>,
    placement: Jump,
    scatter: ScatterConfig,
    clock: Arc<dyn crate::Clock>,
}

impl ShardedPgStore {
    /// Connects to one database per shard (`urls[i]` is shard `i`), applies the migrations on
    /// each, and mints ids from `options.ids` (shared by all shards). `options` sets every
    /// shard's pool.
    ///
    /// # Errors
    /// `InvalidInput` for no URL or more than 256; `Unavailable` when a database cannot be
    /// reached or a migration fails.
    pub async fn connect<S: AsRef<str>>(urls: &[S], options: PgOptions) -> Result<Self> {
        let n = u32::try_from(urls.len()).unwrap_or(u32::MAX);
        if n == 0 || n > MAX_ID_SHARDS {
            return Err(StorageError::invalid(
                "shards",
                format!("give 1 to {MAX_ID_SHARDS} database URLs"),
            ));
        }
        let mut shards = Vec::with_capacity(urls.len());
        for (i, url) in (0..n).zip(urls) {
            let opts = PgOptions {
                ids: Arc::new(options.ids.for_shard(i, n)?),
                ..options.clone()
            };
            let store = PgStore::connect_with(url.as_ref(), opts)
                .await?
                .into_shard();
            migrate_shard(&store).await?;
            shards.push(store);
        }
        let placement = Jump::new(n).map_err(|e| StorageError::invalid("shards", e.to_string()))?;
        let scatter = ScatterConfig::new(
            urls.len(),
            options.acquire_timeout.max(Duration::from_millis(1)) * 2,
        )
        .map_err(|e| StorageError::invalid("shards", e.to_string()))?;
        Ok(Self {
            shards: shards.into(),
            placement,
            scatter,
            clock: options.clock,
        })
    }

    /// How many shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Shard `i`'s store (`None` past the last shard).
    pub fn shard(&self, i: usize) -> Option<&PgStore> {
        self.shards.get(i)
    }

    /// Every shard's outbox, shard `i` at index `i`: run one relay on each.
    pub fn shard_outboxes(&self) -> Vec<Arc<dyn OutboxRepo>> {
        self.shards
            .iter()
            .map(|s| Arc::new(s.clone()) as Arc<dyn OutboxRepo>)
            .collect()
    }

    /// The shard holding `user` (read from the id).
    pub fn shard_of_user(&self, user: UserId) -> ShardId {
        ShardId(self.index_of(user.0))
    }

    fn index_of(&self, id: Uuid) -> u32 {
        shard_of(
            id,
            u32::try_from(self.shards.len()).unwrap_or(MAX_ID_SHARDS),
        )
    }

    /// The shard of an id.
    fn at(&self, id: Uuid) -> Result<&PgStore> {
        let i = self.index_of(id) as usize;
        self.shards.get(i).ok_or_else(|| StorageError::Unavailable {
            reason: format!("shard {i} is not configured"),
        })
    }

    /// Shard 0, holding the username and email claims.
    fn directory(&self) -> Result<&PgStore> {
        self.shards
            .first()
            .ok_or_else(|| StorageError::Unavailable {
                reason: "no shard is configured".into(),
            })
    }

    /// The home shard of a new user.
    fn home_for(&self, username_lower: &str) -> Result<&PgStore> {
        let ShardId(i) = self.placement.shard(username_lower);
        self.shards
            .get(i as usize)
            .ok_or_else(|| StorageError::Unavailable {
                reason: format!("shard {i} is not configured"),
            })
    }

    /// Runs `query` on every shard at once; the answers in shard order, or the first failure.
    async fn gather<T, F, Fut>(&self, query: F) -> Result<Vec<T>>
    where
        F: Fn(u32, PgStore) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let ids: Vec<ShardId> = (0..u32::try_from(self.shards.len()).unwrap_or(0))
            .map(ShardId)
            .collect();
        let query = &query;
        let got = scatter(&ids, self.scatter, |s| {
            let store = self.shards.get(s.0 as usize).cloned();
            async move {
                match store {
                    Some(store) => query(s.0, store).await,
                    None => Err(StorageError::Unavailable {
                        reason: format!("shard {s} is not configured"),
                    }),
                }
            }
        })
        .await;
        if let Some((shard, failure)) = got.failed.into_iter().next() {
            return Err(match failure {
                ShardFailure::Failed(e) => e,
                ShardFailure::TimedOut => StorageError::Unavailable {
                    reason: format!("shard {shard} did not answer in time"),
                },
            });
        }
        Ok(got.ok.into_iter().map(|(_, v)| v).collect())
    }
}

async fn migrate_shard(store: &PgStore) -> Result<()> {
    let mut tx = store.pool().begin().await.db()?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SHARD_LOCK)
        .execute(&mut *tx)
        .await
        .db()?;
    tx.execute(SHARD_SQL).await.db()?;
    tx.commit().await.db()?;
    Ok(())
}
