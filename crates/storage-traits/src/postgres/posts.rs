//! Posts in PostgreSQL.

use async_trait::async_trait;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::PgStore;
use super::error::DbResultExt;
use super::lists;
use super::outbox::append;
use super::rows::{self, POST_COLS};
use crate::error::{Entity, Result, StorageError};
use crate::event::Event;
use crate::id::{PostId, UserId};
use crate::model::{NewPost, Post, PostOrder, PostPatch, PostQuery, apply_post_patch, post_terms};
use crate::page::{Seek, Window};
use crate::repo::PostRepo;
use crate::text;

/// Sets the counters of `posts` to their like and comment rows. The caller holds the posts'
/// row locks (taken in an earlier statement), so this statement's snapshot sees every committed
/// row and no concurrent like or comment can change the counters until the transaction ends.
pub(crate) async fn recount(conn: &mut PgConnection, posts: &[Uuid]) -> Result<()> {
    if posts.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE posts p SET \
             like_count = (SELECT count(*) FROM likes l WHERE l.post_id = p.id), \
             comment_count = (SELECT count(*) FROM comments c WHERE c.post_id = p.id) \
         WHERE p.id = ANY($1)",
    )
    .bind(posts)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn fetch_post(conn: &mut PgConnection, id: PostId, lock: bool) -> Result<Post> {
    let sql = format!(
        "SELECT {POST_COLS} FROM posts WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row = sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .db()?
        .ok_or_else(|| StorageError::not_found(Entity::Post, id))?;
    rows::post(&row).db()
}

/// Where a post list learns whether its viewer follows an author (for followers-only posts).
#[derive(Debug, Clone)]
pub(crate) enum Followees {
    /// From this database's `follows` table.
    Local,
    /// The viewer follows exactly these authors (the sharded store, whose follow edges live on
    /// the viewer's shard).
    #[cfg_attr(not(feature = "sharded"), allow(dead_code))]
    Known(Vec<Uuid>),
}

/// The `WHERE` filter of [`PostQuery`] over `posts`: author, time bounds, and what its viewer
/// may see.
pub(crate) fn post_filter(
    query: PostQuery,
    followees: Followees,
) -> impl Fn(&mut QueryBuilder<'static, Postgres>) + Send + Sync {
    move |qb| {
        let Some((lo, hi)) = query.time_range() else {
            qb.push("FALSE");
            return;
        };
        qb.push("TRUE");
        if let Some(a) = query.author {
            qb.push(" AND author_id = ").push_bind(a.0);
        }
        if query.created_after.is_some() {
            qb.push(" AND created_at >= ").push_bind(lo.as_micros());
        }
        if query.created_before.is_some() {
            qb.push(" AND created_at <= ").push_bind(hi.as_micros());
        }
        qb.push(" AND (visibility = 'public'");
        if let Some(v) = query.viewer {
            qb.push(" OR author_id = ")
                .push_bind(v.0)
                .push(" OR (visibility = 'followers' AND ");
            match &followees {
                Followees::Local => {
                    qb.push(
                        "EXISTS (SELECT 1 FROM follows f WHERE f.followee_id = posts.author_id \
                         AND f.follower_id = ",
                    )
                    .push_bind(v.0)
                    .push(")");
                }
                Followees::Known(ids) => {
                    qb.push("author_id = ANY(").push_bind(ids.clone()).push(")");
                }
            }
            qb.push(")");
        }
        qb.push(")");
    }
}

impl PgStore {
    /// [`PostRepo::list_posts`] with the viewer's follows from `followees`.
    pub(crate) async fn list_posts_seen(
        &self,
        query: &PostQuery,
        followees: Followees,
        seek: &Seek,
    ) -> Result<Window<Post>> {
        let keyset = match query.order {
            PostOrder::NewestFirst => &self.keysets.posts,
            PostOrder::OldestFirst => &self.keysets.posts_oldest_first,
        };
        lists::fetch(
            &self.pool,
            keyset,
            seek,
            post_filter(*query, followees),
            rows::post,
        )
        .await
    }
}

#[async_trait]
impl PostRepo for PgStore {
    async fn create_post(&self, new: NewPost) -> Result<Post> {
        crate::validate::new_post(&new)?;
        let now = self.now();
        let post = Post {
            id: PostId(self.ids.next_at(now)),
            author: new.author,
            hashtags: text::hashtags(&new.content),
            mentions: text::mentions(&new.content),
            content: new.content,
            media: new.media,
            kind: new.kind,
            visibility: new.visibility,
            like_count: 0,
            comment_count: 0,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.pool.begin().await.db()?;
        sqlx::query(
            "INSERT INTO posts (id, author_id, content, media, kind, visibility, hashtags, \
             mentions, created_at, updated_at, search_text, search) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             CASE WHEN $12 THEN to_tsvector('simple', $11::text) END)",
        )
        .bind(post.id.0)
        .bind(post.author.0)
        .bind(&post.content)
        .bind(Json(&post.media))
        .bind(post.kind.as_str())
        .bind(post.visibility.as_str())
        .bind(&post.hashtags)
        .bind(&post.mentions)
        .bind(now.as_micros())
        .bind(now.as_micros())
        .bind(post_terms(&post).join(" "))
        .bind(self.search_inline())
        .execute(&mut *tx)
        .await
        .db()
        .map_err(|e| match e {
            StorageError::NotFound { .. } => StorageError::not_found(Entity::User, post.author),
            other => other,
        })?;
        let event = Event::PostCreated {
            post: post.id,
            author: post.author,
            visibility: post.visibility,
            created_at: post.created_at,
        };
        append(&mut tx, now, &self.ids, &event).await?;
        tx.commit().await.db()?;
        Ok(post)
    }

    async fn post(&self, id: PostId) -> Result<Post> {
        let mut conn = self.pool.acquire().await.db()?;
        fetch_post(&mut conn, id, false).await
    }

    async fn update_post(&self, id: PostId, patch: PostPatch) -> Result<Post> {
        crate::validate::post_patch(&patch)?;
        let now = self.now();
        let mut tx = self.pool.begin().await.db()?;
        let mut post = fetch_post(&mut tx, id, true).await?;
        apply_post_patch(&mut post, patch, now)?;
        sqlx::query(
            "UPDATE posts SET content = $2, media = $3, kind = $4, visibility = $5, \
             hashtags = $6, mentions = $7, updated_at = $8, search_text = $9, \
             search = CASE WHEN $10 THEN to_tsvector('simple', $9::text) ELSE search END \
             WHERE id = $1",
        )
        .bind(id.0)
        .bind(&post.content)
        .bind(Json(&post.media))
        .bind(post.kind.as_str())
        .bind(post.visibility.as_str())
        .bind(&post.hashtags)
        .bind(&post.mentions)
        .bind(now.as_micros())
        .bind(post_terms(&post).join(" "))
        .bind(self.search_inline())
        .execute(&mut *tx)
        .await
        .db()?;
        let event = Event::PostUpdated {
            post: id,
            author: post.author,
        };
        append(&mut tx, now, &self.ids, &event).await?;
        tx.commit().await.db()?;
        Ok(post)
    }

    async fn delete_post(&self, id: PostId) -> Result<()> {
        let now = self.now();
        let mut tx = self.pool.begin().await.db()?;
        let author: Uuid =
            sqlx::query_scalar("DELETE FROM posts WHERE id = $1 RETURNING author_id")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await
                .db()?
                .ok_or_else(|| StorageError::not_found(Entity::Post, id))?;
        let event = Event::PostDeleted {
            post: id,
            author: UserId(author),
        };
        append(&mut tx, now, &self.ids, &event).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn posts_by_author(&self, author: UserId, seek: &Seek) -> Result<Window<Post>> {
        let filter = move |qb: &mut QueryBuilder<'static, Postgres>| {
            qb.push("author_id = ").push_bind(author.0);
        };
        lists::fetch(
            &self.pool,
            &self.keysets.posts_by_author,
            seek,
            filter,
            rows::post,
        )
        .await
    }

    async fn list_posts(&self, query: &PostQuery, seek: &Seek) -> Result<Window<Post>> {
        self.list_posts_seen(query, Followees::Local, seek).await
    }

    async fn posts_by_ids(&self, ids: &[PostId]) -> Result<Vec<Post>> {
        crate::validate::post_ids(ids)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let uuids: Vec<Uuid> = ids.iter().map(|i| i.0).collect();
        let sql = format!("SELECT {POST_COLS} FROM posts WHERE id = ANY($1)");
        let rows = sqlx::query(&sql)
            .bind(&uuids)
            .fetch_all(&self.pool)
            .await
            .db()?;
        let mut found: std::collections::HashMap<PostId, Post> = rows
            .iter()
            .map(|r| rows::post(r).db().map(|p| (p.id, p)))
            .collect::<Result<_>>()?;
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }
}
