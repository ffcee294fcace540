//! The conformance suite: free async functions over `dyn Store`, written once and stamped for
//! every backend by `conformance_tests!`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod concurrency;
pub mod content;
pub mod credentials;
pub mod notifications;
pub mod outbox_search;
pub mod social;
pub mod users;

use std::sync::Arc;

use keel_storage::page::{Direction, Position, Seek, Window};
use keel_storage::{ManualClock, NewPost, NewUser, Post, StorageError, Store, Timestamp, User};

/// A store under test and the clock it runs on.
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
}

impl Ctx {
    pub fn tick(&self) {
        self.clock.advance_micros(1_000);
    }

    pub async fn user(&self, name: &str) -> User {
        self.tick();
        self.store
            .create_user(NewUser::new(name, format!("{name}@example.com"), "hash"))
            .await
            .unwrap()
    }

    pub async fn post(&self, author: &User, text: &str) -> Post {
        self.post_by(author.id, text).await
    }

    pub async fn post_by(&self, author: keel_storage::UserId, text: &str) -> Post {
        self.tick();
        self.store
            .create_post(NewPost::text(author, text))
            .await
            .unwrap()
    }
}

/// The clock every conformance store starts at.
pub fn start() -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000)
}

/// A forward seek from `position`.
pub fn after(limit: usize, position: Position) -> Seek {
    Seek {
        direction: Direction::Forward,
        position,
        limit,
    }
}

/// Reads every page of a list forward, asserting pages never overlap, then walks back from the
/// end with `before` seeks and asserts it reads the same rows.
pub async fn all_pages<T, F, Fut>(limit: usize, mut f: F) -> Vec<T>
where
    T: Clone + PartialEq + std::fmt::Debug,
    F: FnMut(Seek) -> Fut,
    Fut: Future<Output = Result<Window<T>, StorageError>>,
{
    let mut out: Vec<T> = Vec::new();
    let mut seek = Seek::first(limit);
    let mut end = None;
    for _ in 0..10_000 {
        let w = f(seek.clone()).await.unwrap();
        assert!(w.items.len() <= limit);
        assert_eq!(w.items.len(), w.item_values.len());
        assert_eq!(
            w.has_prev,
            !out.is_empty(),
            "has_prev on every page but the first"
        );
        for item in &w.items {
            assert!(!out.contains(item), "item returned twice: {item:?}");
        }
        out.extend(w.items);
        if !w.has_next {
            end = Some(w.next);
            break;
        }
        seek = after(limit, w.next);
    }
    assert!(end.is_some(), "pagination never ended");
    // Backward from the end.
    let mut back: Vec<T> = Vec::new();
    let mut seek = Seek::last(limit);
    for _ in 0..10_000 {
        let w = f(seek.clone()).await.unwrap();
        let mut items = w.items;
        items.extend(back);
        back = items;
        if !w.has_prev {
            break;
        }
        seek = Seek {
            direction: Direction::Backward,
            position: w.prev,
            limit,
        };
    }
    assert_eq!(back, out, "backward pages read the same rows");
    out
}

pub fn field_of<T: std::fmt::Debug>(r: Result<T, StorageError>) -> &'static str {
    match r {
        Err(StorageError::InvalidInput { field, .. } | StorageError::Conflict { field, .. }) => {
            field
        }
        other => panic!("expected invalid input or conflict, got {other:?}"),
    }
}

pub fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StorageError>) {
    assert!(
        matches!(r, Err(StorageError::NotFound { .. })),
        "expected NotFound, got {r:?}"
    );
}

/// What a backend factory returns: the store and a future that cleans up after a passing test.
pub type Made = (
    Arc<dyn Store>,
    std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
);

/// Stamps one `#[tokio::test]` per conformance function for a backend. `$make` is an async
/// fn `(Arc<ManualClock>) -> Option<Made>` (`None`: backend unavailable, skip).
#[macro_export]
macro_rules! conformance_tests {
    ($make:path; $($name:ident => $func:path),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let clock = std::sync::Arc::new(keel_storage::ManualClock::new($crate::suite::start()));
                let Some((store, cleanup)) = $make(clock.clone()).await else { return };
                $func($crate::suite::Ctx { store, clock }).await;
                cleanup.await;
            }
        )+
    };
}

/// Every conformance test, for one backend: `$make` builds a store with inline search
/// indexing, `$deferred` one with `SearchIndexing::Deferred`.
#[macro_export]
macro_rules! all_conformance_tests {
    ($make:path, $deferred:path) => {
        $crate::conformance_tests!($deferred;
            search_deferred_until_reindexed => $crate::suite::outbox_search::search_deferred_until_reindexed,
        );
        $crate::conformance_tests!($make;
            users_create_and_lookup => $crate::suite::users::create_and_lookup,
            users_conflicts_name_the_field => $crate::suite::users::conflicts_name_the_field,
            users_invalid_input => $crate::suite::users::invalid_input,
            users_partial_update => $crate::suite::users::partial_update,
            users_prefix_search_paginates => $crate::suite::users::prefix_search_paginates,
            users_delete_cascades => $crate::suite::users::delete_cascades,
            posts_crud_and_parsing => $crate::suite::content::posts_crud_and_parsing,
            posts_by_author_keyset => $crate::suite::content::posts_by_author_keyset,
            posts_listed_filtered_and_sorted => $crate::suite::content::posts_listed_filtered_and_sorted,
            posts_by_ids_order => $crate::suite::content::posts_by_ids_order,
            comments_threads => $crate::suite::content::comments_threads,
            follows_idempotent_and_listed => $crate::suite::social::follows_idempotent_and_listed,
            likes_idempotent_and_counted => $crate::suite::social::likes_idempotent_and_counted,
            outbox_records_and_leases => $crate::suite::outbox_search::outbox_records_and_leases,
            outbox_orders_per_aggregate => $crate::suite::outbox_search::outbox_orders_per_aggregate,
            outbox_marks_many_at_once => $crate::suite::outbox_search::outbox_marks_many_at_once,
            search_posts_ranked => $crate::suite::outbox_search::search_posts_ranked,
            counters_exact_under_concurrency => $crate::suite::concurrency::likes_and_unlikes_keep_counts_exact,
            search_users_ranked => $crate::suite::outbox_search::search_users_ranked,
            refresh_tokens_single_use_expire_and_purge => $crate::suite::credentials::refresh_tokens_single_use_expire_and_purge,
            api_keys_hashed_owned_and_revoked => $crate::suite::credentials::api_keys_hashed_owned_and_revoked,
            notifications_idempotent_listed_and_capped => $crate::suite::notifications::notifications_idempotent_listed_and_capped,
        );
    };
}
