//! Notifications in PostgreSQL (`notifications`, migration 4).

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::PgStore;
use super::error::DbResultExt;
use super::lists;
use crate::clock::Timestamp;
use crate::error::{Entity, Result, StorageError};
use crate::id::{CommentId, PostId, UserId};
use crate::model::Notification;
use crate::page::{Seek, Window};
use crate::repo::{MAX_NOTIFICATIONS_PER_USER, NotificationRepo};

/// Columns selected for a notification.
pub(crate) const NOTIFICATION_COLS: &str =
    "id, recipient_id, kind, actor_id, post_id, comment_id, created_at";

pub(crate) fn notification(row: &PgRow) -> Result<Notification, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let post: Option<uuid::Uuid> = row.try_get("post_id")?;
    let comment: Option<uuid::Uuid> = row.try_get("comment_id")?;
    Ok(Notification {
        id: row.try_get("id")?,
        recipient: UserId(row.try_get("recipient_id")?),
        kind: kind.parse().map_err(|_| sqlx::Error::ColumnDecode {
            index: "kind".into(),
            source: "unknown notification kind".into(),
        })?,
        actor: UserId(row.try_get("actor_id")?),
        post: post.map(PostId),
        comment: comment.map(CommentId),
        created_at: Timestamp::from_micros(row.try_get("created_at")?),
    })
}

/// Deletes `user`'s notifications older than their newest [`MAX_NOTIFICATIONS_PER_USER`].
const TRIM_SQL: &str = "DELETE FROM notifications WHERE recipient_id = $1 \
     AND (created_at, id) < (SELECT created_at, id FROM notifications WHERE recipient_id = $1 \
     ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1)";

#[async_trait]
impl NotificationRepo for PgStore {
    async fn add_notification(&self, n: Notification) -> Result<bool> {
        if n.actor == n.recipient {
            // Still `NotFound` for a missing recipient, as the other backends answer.
            let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = $1")
                .bind(n.recipient.0)
                .fetch_optional(&self.pool)
                .await
                .db()?;
            return match exists {
                Some(_) => Ok(false),
                None => Err(StorageError::not_found(Entity::User, n.recipient)),
            };
        }
        let mut tx = self.pool.begin().await.db()?;
        let added = sqlx::query(
            "INSERT INTO notifications (id, recipient_id, kind, actor_id, post_id, comment_id, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(n.id)
        .bind(n.recipient.0)
        .bind(n.kind.as_str())
        .bind(n.actor.0)
        .bind(n.post.map(|p| p.0))
        .bind(n.comment.map(|c| c.0))
        .bind(n.created_at.as_micros())
        .execute(&mut *tx)
        .await
        .db()
        .map_err(|e| match e {
            StorageError::NotFound { .. } => StorageError::not_found(Entity::User, n.recipient),
            other => other,
        })?
        .rows_affected()
            > 0;
        if added {
            let keep = i64::try_from(MAX_NOTIFICATIONS_PER_USER.saturating_sub(1)).unwrap_or(0);
            sqlx::query(TRIM_SQL)
                .bind(n.recipient.0)
                .bind(keep)
                .execute(&mut *tx)
                .await
                .db()?;
        }
        tx.commit().await.db()?;
        Ok(added)
    }

    async fn notifications(&self, user: UserId, seek: &Seek) -> Result<Window<Notification>> {
        let filter = move |qb: &mut QueryBuilder<'static, Postgres>| {
            qb.push("recipient_id = ").push_bind(user.0);
        };
        lists::fetch(
            &self.pool,
            &self.keysets.notifications,
            seek,
            filter,
            notification,
        )
        .await
    }
}
