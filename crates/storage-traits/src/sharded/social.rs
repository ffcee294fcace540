//! Follows (edges on the follower's shard), the followees' posts and search, by scatter-gather.

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::ShardedPgStore;
use super::merge::merge_windows;
use crate::error::Result;
use crate::id::{PostId, UserId};
use crate::model::{Follow, FollowCounts, Post, User};
use crate::page::{List, Seek, Window};
use crate::postgres::error::DbResultExt;
use crate::postgres::{lists, rows};
use crate::repo::{FollowRepo, SearchHit, SearchRepo, UserRepo};

/// Most followees [`ShardedPgStore::followee_posts`] reads posts from (the most recent
/// follows first); a feed of more accounts belongs in a fan-out feed (`keel-feed`).
pub const MAX_FEED_FOLLOWEES: usize = 5_000;

impl ShardedPgStore {
    /// The posts of the users `user` follows (public and followers-only), newest first: the
    /// cross-shard read. Reads whom `user` follows on their home shard (at most
    /// [`MAX_FEED_FOLLOWEES`]), asks every shard holding a followee for one keyset window of
    /// their posts, and merges the windows.
    ///
    /// Cost: one query per shard, each a bitmap scan of `posts_author_time_idx` over the
    /// followees' posts after the position plus a top-N sort (checked with `EXPLAIN` by hand:
    /// it reads every such post of the followees on that shard, not `limit` per followee). Fine
    /// for modest histories; for accounts with long histories or many followees use a fan-out
    /// feed (`keel-feed`) and keep this as its fallback.
    ///
    /// # Errors
    /// `InvalidInput` for a bad seek; `Unavailable` when a shard fails or times out.
    pub async fn followee_posts(&self, user: UserId, seek: &Seek) -> Result<Window<Post>> {
        crate::page::check_seek(seek)?;
        let followees = self.followees_by_shard(user).await?;
        let followees = &followees;
        let windows = self
            .gather(|i, s| {
                let authors = followees.get(i as usize).cloned().unwrap_or_default();
                let seek = seek.clone();
                async move {
                    let filter = move |qb: &mut QueryBuilder<'static, Postgres>| {
                        qb.push("author_id = ANY(")
                            .push_bind(authors.clone())
                            .push(") AND visibility <> 'private'");
                    };
                    lists::fetch(
                        s.pool(),
                        &s.keysets().posts_by_author,
                        &seek,
                        filter,
                        rows::post,
                    )
                    .await
                }
            })
            .await?;
        merge_windows(List::PostsByAuthor, seek, windows)
    }
}

impl ShardedPgStore {
    /// Whom `user` follows (the [`MAX_FEED_FOLLOWEES`] most recent follows), grouped by the
    /// followee's shard (index `i`: shard `i`). One-shard read on `user`'s home shard.
    pub(crate) async fn followees_by_shard(&self, user: UserId) -> Result<Vec<Vec<Uuid>>> {
        let home = self.at(user.0)?;
        let mut followees: Vec<Vec<Uuid>> = vec![Vec::new(); self.shard_count()];
        let mut page = Seek::first(crate::page::MAX_PAGE_SIZE);
        let mut read = 0;
        while read < MAX_FEED_FOLLOWEES {
            let w = home.following(user, &page).await?;
            read += w.items.len();
            for f in &w.items {
                if let Some(ids) = followees.get_mut(self.index_of(f.followee.0) as usize) {
                    ids.push(f.followee.0);
                }
            }
            if !w.has_next {
                break;
            }
            page.position = w.next;
        }
        Ok(followees)
    }
}

#[async_trait]
impl FollowRepo for ShardedPgStore {
    async fn follow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        crate::validate::follow(follower, followee)?;
        self.user(follower).await?;
        self.user(followee).await?;
        self.at(follower.0)?.follow(follower, followee).await
    }

    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        self.at(follower.0)?.unfollow(follower, followee).await
    }

    async fn followers(&self, user: UserId, seek: &Seek) -> Result<Window<Follow>> {
        let windows = self
            .gather(|_, s| {
                let seek = seek.clone();
                async move { s.followers(user, &seek).await }
            })
            .await?;
        merge_windows(List::Followers, seek, windows)
    }

    async fn following(&self, user: UserId, seek: &Seek) -> Result<Window<Follow>> {
        self.at(user.0)?.following(user, seek).await
    }

    async fn follow_counts(&self, user: UserId) -> Result<FollowCounts> {
        let following = self.at(user.0)?.follow_counts(user).await?.following;
        let counts = self
            .gather(|_, s| async move {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM follows WHERE followee_id = $1")
                    .bind(user.0)
                    .fetch_one(s.pool())
                    .await
                    .db()
            })
            .await?;
        Ok(FollowCounts {
            followers: counts.into_iter().map(i64::unsigned_abs).sum(),
            following,
        })
    }

    async fn is_following(&self, follower: UserId, followee: UserId) -> Result<bool> {
        self.at(follower.0)?.is_following(follower, followee).await
    }
}

#[async_trait]
impl SearchRepo for ShardedPgStore {
    async fn search_posts(&self, query: &str, seek: &Seek) -> Result<Window<SearchHit<Post>>> {
        let query = query.to_owned();
        let windows = self
            .gather(|_, s| {
                let (query, seek) = (query.clone(), seek.clone());
                async move { s.search_posts(&query, &seek).await }
            })
            .await?;
        merge_windows(List::SearchPosts, seek, windows)
    }

    async fn search_users(&self, query: &str, seek: &Seek) -> Result<Window<SearchHit<User>>> {
        let query = query.to_owned();
        let windows = self
            .gather(|_, s| {
                let (query, seek) = (query.clone(), seek.clone());
                async move { s.search_users(&query, &seek).await }
            })
            .await?;
        merge_windows(List::SearchUsers, seek, windows)
    }

    async fn reindex_post(&self, post: PostId) -> Result<()> {
        self.at(post.0)?.reindex_post(post).await
    }

    async fn reindex_user(&self, user: UserId) -> Result<()> {
        self.at(user.0)?.reindex_user(user).await
    }
}
