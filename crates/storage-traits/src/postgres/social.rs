//! Follows and likes in PostgreSQL.

use async_trait::async_trait;

use super::PgStore;
use super::error::DbResultExt;
use super::outbox::append;
use super::rows::{self, TOP};
use crate::error::{Entity, Result, StorageError};
use crate::event::Event;
use crate::id::{PostId, UserId};
use crate::model::{Follow, FollowCounts, LikeOutcome};
use crate::page::{Page, PageRequest, Position};
use crate::repo::{FollowRepo, LikeRepo};

impl PgStore {
    async fn edge_page(
        &self,
        user: UserId,
        page: PageRequest,
        followers: bool,
    ) -> Result<Page<Follow>> {
        let limit = page.checked_limit()?;
        let (at, after) = page.time_id()?.map_or(TOP, |(t, id)| (t.as_micros(), id));
        let (me, other) = if followers {
            ("followee_id", "follower_id")
        } else {
            ("follower_id", "followee_id")
        };
        let sql = format!(
            "SELECT follower_id, followee_id, created_at FROM follows \
             WHERE {me} = $1 AND (created_at, {other}) < ($2, $3) \
             ORDER BY created_at DESC, {other} DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(user.0)
            .bind(at)
            .bind(after)
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await
            .db()?;
        let items = rows.iter().map(rows::follow).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, limit, |f: &Follow| {
            Position::TimeId {
                at: f.created_at,
                id: if followers {
                    f.follower.0
                } else {
                    f.followee.0
                },
            }
        }))
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

    async fn followers(&self, user: UserId, page: PageRequest) -> Result<Page<Follow>> {
        self.edge_page(user, page, true).await
    }

    async fn following(&self, user: UserId, page: PageRequest) -> Result<Page<Follow>> {
        self.edge_page(user, page, false).await
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
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM likes WHERE user_id = $1 AND post_id = $2)",
        )
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
