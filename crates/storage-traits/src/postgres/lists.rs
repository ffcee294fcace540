//! Keyset lists in PostgreSQL, built with `keel-pagination`'s [`PgKeyset`].

use keel_pagination::PageError;
use keel_pagination::keyset::postgres::{Filter, PgKeyset};
use sqlx::PgPool;
use sqlx::postgres::PgRow;

use super::error::{DbResultExt, map};
use super::rows::{COMMENT_COLS, POST_COLS, USER_COLS};
use crate::error::{Result, StorageError};
use crate::page::{List, Seek, Window, check_seek, keyset_error};

/// One [`PgKeyset`] per list, built once per store.
#[derive(Debug)]
pub(crate) struct Keysets {
    pub(crate) posts_by_author: PgKeyset,
    pub(crate) posts: PgKeyset,
    pub(crate) posts_oldest_first: PgKeyset,
    pub(crate) notifications: PgKeyset,
    pub(crate) followers: PgKeyset,
    pub(crate) following: PgKeyset,
    pub(crate) comments: PgKeyset,
    pub(crate) users_by_prefix: PgKeyset,
    pub(crate) api_keys: PgKeyset,
}

impl Keysets {
    pub(crate) fn new() -> Result<Self> {
        let ks = |table: &str, cols: &str, list: List| {
            PgKeyset::new(table, cols, list.spec()?).map_err(keyset_error)
        };
        let follow_cols = "follower_id, followee_id, created_at";
        Ok(Self {
            posts_by_author: ks("posts", POST_COLS, List::PostsByAuthor)?,
            posts: ks("posts", POST_COLS, List::Posts)?,
            posts_oldest_first: ks("posts", POST_COLS, List::PostsOldestFirst)?,
            notifications: ks(
                "notifications",
                super::notifications::NOTIFICATION_COLS,
                List::Notifications,
            )?,
            followers: ks("follows", follow_cols, List::Followers)?,
            following: ks("follows", follow_cols, List::Following)?,
            comments: ks("comments", COMMENT_COLS, List::Comments)?,
            users_by_prefix: ks("users", USER_COLS, List::UsersByPrefix)?,
            api_keys: ks("api_keys", super::credentials::API_KEY_COLS, List::ApiKeys)?,
        })
    }
}

fn page_error(e: PageError) -> StorageError {
    match e {
        PageError::Database(e) => map(e),
        PageError::Keyset(e) => keyset_error(e),
        other => StorageError::invalid("position", other.to_string()),
    }
}

/// Fetches one window (the page query and one `EXISTS`, on one connection).
pub(crate) async fn fetch<T>(
    pool: &PgPool,
    keyset: &PgKeyset,
    seek: &Seek,
    filter: impl Filter,
    decode: fn(&PgRow) -> Result<T, sqlx::Error>,
) -> Result<Window<T>> {
    check_seek(seek)?;
    let mut conn = pool.acquire().await.db()?;
    keyset
        .fetch(&mut conn, seek, filter, decode)
        .await
        .map_err(page_error)
}
