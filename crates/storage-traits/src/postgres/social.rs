//! Follows and likes in PostgreSQL.

use async_trait::async_trait;

use super::PgStore;
use super::error::DbResultExt;
use super::lists;
use super::outbox::append;
use super::rows;
use crate::error::{Entity, Result, StorageError};
use crate::event::Event;
use crate::id::{PostId, UserId};
use crate::model::{Follow, FollowCounts, LikeOutcome};
use crate::page::{Seek, Window};
use crate::repo::{FollowRepo, LikeRepo};
use sqlx::{Postgres, QueryBuilder};

/// Whether a like exists: the likes-by-pair lookup.
pub(crate) const HAS_LIKED_SQL: &str =
    "SELECT EXISTS (SELECT 1 FROM likes WHERE user_id = $1 AND post_id = $2)";

impl PgStore {
    async fn edge_window(
        &self,
        user: UserId,
        seek: &Seek,
        followers: bool,
    ) -> Result<Window<Follow>> {
        let (keyset, column) = if followers {
            (&self.keysets.followers, "followee_id = ")
        } else {
            (&self.keysets.following, "follower_id = ")
        };
        let filter = move |qb: &mut QueryBuilder<'static, Postgres>| {
            qb.push(column).push_bind(user.0);
        };
        lists::fetch(&self.pool, keyset, seek, filter, rows::follow).await
    }

    async fn like_count(&self, post: PostId) -> Result<i64> {
        sqlx::query_scalar("SELECT like_count FROM posts WHERE id = $1")
            .bind(post.0)
            .fetch_optional(&self.pool)
            .await
            .db()?
            .ok_or_else(|| StorageError::not_found(Entity::Post, post))
    }
}

#[async_trait]
impl FollowRepo for PgStore {
    async fn follow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        crate::validate::follow(follower, followee)?;
        let now = self.now();
        let mut tx = self.pool.begin().await.db()?;
        let inserted = sqlx::query(
            "INSERT INTO follows (follower_id, followee_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(follower.0)
        .bind(followee.0)
        .bind(now.as_micros())
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected()
            == 1;
        if inserted {
            append(
                &mut tx,
                now,
                &self.ids,
                &Event::Followed { follower, followee },
            )
            .await?;
        }
        tx.commit().await.db()?;
        Ok(inserted)
    }

    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        let now = self.now();
        let mut tx = self.pool.begin().await.db()?;
        let removed =
            sqlx::query("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2")
                .bind(follower.0)
                .bind(followee.0)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected()
                == 1;
        if removed {
            append(
                &mut tx,
                now,
                &self.ids,
                &Event::Unfollowed { follower, followee },
            )
            .await?;
        }
        tx.commit().await.db()?;
        Ok(removed)
    }

    async fn followers(&self, user: UserId, seek: &Seek) -> Result<Window<Follow>> {
        self.edge_window(user, seek, true).await
    }

    async fn following(&self, user: UserId, seek: &Seek) -> Result<Window<Follow>> {
        self.edge_window(user, seek, false).await
    }

    async fn follow_counts(&self, user: UserId) -> Result<FollowCounts> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT (SELECT count(*) FROM follows WHERE followee_id = u.id), \
                    (SELECT count(*) FROM follows WHERE follower_id = u.id) \
             FROM users u WHERE u.id = $1",
        )
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        let (followers, following) =
            row.ok_or_else(|| StorageError::not_found(Entity::User, user))?;
        Ok(FollowCounts {
            followers: followers.unsigned_abs(),
            following: following.unsigned_abs(),
        })
    }

    async fn is_following(&self, follower: UserId, followee: UserId) -> Result<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM follows WHERE follower_id = $1 AND followee_id = $2)",
        )
        .bind(follower.0)
        .bind(followee.0)
        .fetch_one(&self.pool)
        .await
        .db()
    }
}

#[async_trait]
impl LikeRepo for PgStore {
    async fn like(&self, user: UserId, post: PostId) -> Result<LikeOutcome> {
        let now = self.now();
        let mut tx = self.pool.begin().await.db()?;
        // The like row first (its primary key serializes the same pair), then the counter
        // (the post's row lock serializes likes of one post), then the event.
        let inserted = sqlx::query(
            "INSERT INTO likes (user_id, post_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(user.0)
        .bind(post.0)
        .bind(now.as_micros())
        .execute(&mut *tx)
        .await
        .db()
        .map_err(|e| match e {
            StorageError::NotFound {
                entity: Entity::Post,
                ..
            } => StorageError::not_found(Entity::Post, post),
            StorageError::NotFound { .. } => StorageError::not_found(Entity::User, user),
            other => other,
        })?
        .rows_affected()
            == 1;
        if !inserted {
            tx.rollback().await.db()?;
            return Ok(LikeOutcome {
                changed: false,
                like_count: self.like_count(post).await?,
            });
        }
        let like_count: i64 = sqlx::query_scalar(
            "UPDATE posts SET like_count = like_count + 1 WHERE id = $1 RETURNING like_count",
        )
        .bind(post.0)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        append(&mut tx, now, &self.ids, &Event::Liked { user, post }).await?;
        tx.commit().await.db()?;
        Ok(LikeOutcome {
            changed: true,
            like_count,
        })
    }

    async fn unlike(&self, user: UserId, post: PostId) -> Result<LikeOutcome> {
        let now = self.now();
        let mut tx = self.pool.begin().await.db()?;
        let removed = sqlx::query("DELETE FROM likes WHERE user_id = $1 AND post_id = $2")
            .bind(user.0)
            .bind(post.0)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected()
            == 1;
        if !removed {
            tx.rollback().await.db()?;
            return Ok(LikeOutcome {
                changed: false,
                like_count: self.like_count(post).await?,
            });
        }
        let like_count: i64 = sqlx::query_scalar(
            "UPDATE posts SET like_count = like_count - 1 WHERE id = $1 RETURNING like_count",
        )
        .bind(post.0)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        append(&mut tx, now, &self.ids, &Event::Unliked { user, post }).await?;
        tx.commit().await.db()?;
        Ok(LikeOutcome {
            changed: true,
            like_count,
        })
    }

    async fn has_liked(&self, user: UserId, post: PostId) -> Result<bool> {
        sqlx::query_scalar(HAS_LIKED_SQL)
            .bind(user.0)
            .bind(post.0)
            .fetch_one(&self.pool)
            .await
            .db()
    }

    async fn count_like_rows(&self, post: PostId) -> Result<u64> {
        let row: Option<i64> = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM likes WHERE post_id = p.id) FROM posts p WHERE p.id = $1",
        )
        .bind(post.0)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.map(i64::unsigned_abs)
            .ok_or_else(|| StorageError::not_found(Entity::Post, post))
    }
}
