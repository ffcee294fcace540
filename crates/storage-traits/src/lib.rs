//! # keel-storage
//!
//! Repository traits for a social service (users, posts, follows, likes, comments, an outbox and
//! full-text search), one backend-neutral error, an in-memory backend, a PostgreSQL backend
//! (feature `postgres`) and a sharded PostgreSQL backend over several databases (feature
//! `sharded`), all held to one conformance suite.
//!
//! ```
//! use std::sync::Arc;
//! use keel_storage::{MemoryStore, NewPost, NewUser, Seek, Store};
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
//! let ada = store.create_user(NewUser::new("ada", "ada@example.com", "hash")).await?;
//! let bob = store.create_user(NewUser::new("bob", "bob@example.com", "hash")).await?;
//! let post = store.create_post(NewPost::text(ada.id, "Hello #rust from @bob")).await?;
//! assert_eq!(post.hashtags, ["rust"]);
//!
//! store.follow(bob.id, ada.id).await?;
//! let liked = store.like(bob.id, post.id).await?;
//! assert_eq!(liked.like_count, 1);
//!
//! // Lists are keel-pagination keyset windows, ready to be signed into cursors.
//! let window = store.posts_by_author(ada.id, &Seek::first(10)).await?;
//! assert_eq!(window.items.len(), 1);
//! assert!(!window.has_next);
//!
//! // Every change wrote its event to the outbox in the same transaction.
//! assert_eq!(store.pending_outbox().await?, 5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//! - [`clock`]: [`Timestamp`] (microseconds), the injected [`Clock`], [`ManualClock`] for tests.
//! - [`id`]: typed ids and the [`IdGenerator`] minting time-ordered UUIDv7s from the clock.
//! - [`error`]: [`StorageError`], the one error every backend returns.
//! - [`model`]: users, posts, follows, likes, comments, with their inputs and patches.
//! - [`text`]: hashtag, mention and search-term extraction shared by all backends.
//! - [`validate`]: the input rules (lengths, empty content, self-follow), checked everywhere.
//! - [`page`]: every list as a `keel-pagination` keyset: [`List`] and its sort, [`Seek`] in,
//!   [`Window`] out.
//! - [`event`]: the outbox [`Event`]s and [`OutboxRecord`].
//! - [`repo`]: the repository traits and [`Store`], all of them together; [`CredentialRepo`]
//!   keeps refresh tokens and API keys as [`TokenHash`]es, [`NotificationRepo`] each user's
//!   newest notifications.
//! - [`memory`]: [`MemoryStore`], the concurrent in-memory backend.
//! - `postgres` (feature `postgres`): `PgStore`, the PostgreSQL backend with embedded migrations.
//! - `sharded` (feature `sharded`): `ShardedPgStore`, users spread over several PostgreSQL
//!   databases with `keel-sharding`, cross-shard reads by scatter-gather.
//!
//! # Features
//! | feature | enables | default |
//! |---|---|---|
//! | `postgres` | the PostgreSQL backend (sqlx, runtime queries, embedded migrations) | no |
//! | `sharded` | the sharded PostgreSQL backend (adds `keel-sharding` with tokio; implies `postgres`) | no |
//!
//! # Consistency
//! Every write is one transaction: the row, the denormalized counters (a post's like and
//! comment counts) and the outbox event commit together or not at all. Times come from the
//! injected clock and ids from it, so backends driven by the same clock order rows identically
//! (the differential test checks it call by call). The sharded backend keeps this per shard;
//! the few writes that span shards (sign-up, rename, user deletion) are listed in its module
//! docs with how their windows are closed.
//!
//! # The outbox, for a relay
//! Every change appends an [`Event`] in its transaction. A relay (`keel-events`) calls
//! [`OutboxRepo::claim_outbox`] (a lease; `FOR UPDATE SKIP LOCKED` in PostgreSQL; per-aggregate
//! order kept across concurrent relays), publishes, then [`OutboxRepo::mark_published`] each
//! record, or [`OutboxRepo::release_outbox`] on a failed publish. Code writing its own
//! PostgreSQL transactions appends with `PgStore::append_event`; `PgStore::purge_published`
//! trims the published history.
//!
//! # Untrusted input
//! Every text a client sends is validated before it reaches a backend ([`validate`]): bounded
//! lengths, an empty post or comment refused, self-follow refused, at most
//! [`page::MAX_PAGE_SIZE`] rows a page and 1,000 ids a batch. Search queries are reduced to at
//! most 16 alphanumeric terms ([`text::query_terms`]) before they become a `tsquery`, so they
//! cannot inject `tsquery` operators; every SQL value is a bound parameter. Usernames and emails
//! are ASCII, so case-insensitive uniqueness is the same in Rust and in PostgreSQL. Positions
//! come from cursors that `keel-pagination` verified; one that does not fit a list's sort is
//! [`StorageError::InvalidInput`].

pub mod clock;
pub mod error;
pub mod event;
pub mod id;
pub mod memory;
pub mod model;
pub mod page;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod repo;
#[cfg(feature = "sharded")]
pub mod sharded;
pub mod text;
pub mod validate;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use error::{Entity, Result, StorageError, Violation};
pub use event::{Event, OutboxRecord};
pub use id::{CommentId, IdGenerator, PostId, UserId};
pub use memory::MemoryStore;
pub use model::{
    ApiKey, Comment, Follow, FollowCounts, Like, LikeOutcome, NewComment, NewPost, NewUser,
    Notification, NotificationKind, Post, PostOrder, PostPatch, PostQuery, PostType, TokenHash,
    User, UserPatch, Visibility,
};
pub use page::{List, Seek, Window};
#[cfg(feature = "postgres")]
pub use postgres::{PgOptions, PgStore};
pub use repo::{
    CommentRepo, CredentialRepo, FollowRepo, LikeRepo, NotificationRepo, OutboxRepo, PostRepo,
    SearchHit, SearchIndexing, SearchRepo, Store, UserRepo,
};
#[cfg(feature = "sharded")]
pub use sharded::ShardedPgStore;
