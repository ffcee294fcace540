//! Comments in PostgreSQL.

use async_trait::async_trait;
use uuid::Uuid;

use super::PgStore;
use super::error::DbResultExt;
use super::lists;
use super::outbox::append;
use super::rows::{self, COMMENT_COLS};
use crate::error::{Entity, Result, StorageError};
use crate::event::Event;
use crate::id::{CommentId, PostId};
use crate::model::{Comment, NewComment};
use crate::page::{Seek, Window};
use crate::repo::CommentRepo;
use sqlx::{Postgres, QueryBuilder};

#[async_trait]
impl CommentRepo for PgStore {
    async fn add_comment(&self, new: NewComment) -> Result<Comment> {
        crate::validate::new_comment(&new)?;
        let now = self.now();
        let mut tx = self.pool.begin().await.db()?;
        // The counter first: it checks the post exists and takes its row lock, which orders
        // this insert against a concurrent recount (see `delete_comment`).
        let bumped =
            sqlx::query("UPDATE posts SET comment_count = comment_count + 1 WHERE id = $1")
                .bind(new.post.0)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
        if bumped == 0 {
            return Err(StorageError::not_found(Entity::Post, new.post));
        }
        let author: bool = self.remote_users
            || sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)")
                .bind(new.author.0)
                .fetch_one(&mut *tx)
                .await
                .db()?;
        if !author {
            return Err(StorageError::not_found(Entity::User, new.author));
        }
        if let Some(parent) = new.parent {
            let parent_post: Uuid =
                sqlx::query_scalar("SELECT post_id FROM comments WHERE id = $1")
                    .bind(parent.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?
                    .ok_or_else(|| StorageError::not_found(Entity::Comment, parent))?;
            if parent_post != new.post.0 {
                return Err(StorageError::invalid(
                    "parent",
                    "the parent comment belongs to another post",
                ));
            }
        }
        let c = Comment {
            id: CommentId(self.ids.next_at(now)),
            post: new.post,
            author: new.author,
            parent: new.parent,
            content: new.content,
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO comments (id, post_id, author_id, parent_id, content, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(c.id.0)
        .bind(c.post.0)
        .bind(c.author.0)
        .bind(c.parent.map(|p| p.0))
        .bind(&c.content)
        .bind(now.as_micros())
        .execute(&mut *tx)
        .await
        .db()?;
        let event = Event::CommentAdded {
            comment: c.id,
            post: c.post,
            author: c.author,
            parent: c.parent,
        };
        append(&mut tx, now, &self.ids, &event).await?;
        tx.commit().await.db()?;
        Ok(c)
    }

    async fn comment(&self, id: CommentId) -> Result<Comment> {
        let sql = format!("SELECT {COMMENT_COLS} FROM comments WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .db()?
            .ok_or_else(|| StorageError::not_found(Entity::Comment, id))?;
        rows::comment(&row).db()
    }

    async fn comments(
        &self,
        post: PostId,
        parent: Option<CommentId>,
        seek: &Seek,
    ) -> Result<Window<Comment>> {
        // Two spellings so both use comments_thread_idx (`IS NOT DISTINCT FROM` would not).
        let filter = move |qb: &mut QueryBuilder<'static, Postgres>| {
            qb.push("post_id = ").push_bind(post.0);
            match parent {
                Some(p) => qb.push(" AND parent_id = ").push_bind(p.0),
                None => qb.push(" AND parent_id IS NULL"),
            };
        };
        lists::fetch(
            &self.pool,
            &self.keysets.comments,
            seek,
            filter,
            rows::comment,
        )
        .await
    }

    async fn delete_comment(&self, id: CommentId) -> Result<u64> {
        let now = self.now();
        let mut tx = self.pool.begin().await.db()?;
        let post: Uuid = sqlx::query_scalar("SELECT post_id FROM comments WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await
            .db()?
            .ok_or_else(|| StorageError::not_found(Entity::Comment, id))?;
        // Lock the post first: no comment can be added to it until we commit.
        sqlx::query("SELECT 1 FROM posts WHERE id = $1 FOR UPDATE")
            .bind(post)
            .execute(&mut *tx)
            .await
            .db()?;
        let removed: i64 = sqlx::query_scalar(
            "WITH RECURSIVE thread AS ( \
                 SELECT id FROM comments WHERE id = $1 \
                 UNION ALL SELECT c.id FROM comments c JOIN thread t ON c.parent_id = t.id) \
             SELECT count(*) FROM thread",
        )
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        sqlx::query("DELETE FROM comments WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .db()?;
        super::posts::recount(&mut tx, &[post]).await?;
        let event = Event::CommentDeleted {
            comment: id,
            post: PostId(post),
        };
        append(&mut tx, now, &self.ids, &event).await?;
        tx.commit().await.db()?;
        Ok(removed.unsigned_abs())
    }
}
