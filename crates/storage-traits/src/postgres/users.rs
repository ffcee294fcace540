//! Users in PostgreSQL.

use async_trait::async_trait;
use sqlx::PgConnection;

use super::PgStore;
use super::error::DbResultExt;
use super::lists;
use super::outbox::append;
use super::rows::{self, USER_COLS};
use crate::error::{Entity, Result, StorageError};
use crate::event::Event;
use crate::id::UserId;
use crate::model::{NewUser, User, UserPatch, apply_user_patch, user_terms};
use crate::page::{List, Seek, Window, paginate_keys};
use crate::repo::UserRepo;
use sqlx::{Postgres, QueryBuilder};

/// Fills in the colliding value of a unique violation.
fn with_value(err: StorageError, username: &str, email: &str) -> StorageError {
    match err {
        StorageError::Conflict {
            field: "username", ..
        } => StorageError::conflict("username", username),
        StorageError::Conflict { field: "email", .. } => StorageError::conflict("email", email),
        other => other,
    }
}

async fn fetch_user(conn: &mut PgConnection, id: UserId, lock: bool) -> Result<User> {
    let sql = format!(
        "SELECT {USER_COLS} FROM users WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row = sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .db()?
        .ok_or_else(|| StorageError::not_found(Entity::User, id))?;
    rows::user(&row).db()
}

/// Inserts or updates `u`'s row; `index` says whether to compute its search vector too
/// (`SearchIndexing::Inline`) or leave it as it was.
async fn write_user(conn: &mut PgConnection, u: &User, insert: bool, index: bool) -> Result<()> {
    let sql = if insert {
        "INSERT INTO users (id, username, username_lower, email, email_lower, password_hash, \
         display_name, bio, avatar_url, verified, created_at, updated_at, search_text, search) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
         CASE WHEN $14 THEN to_tsvector('simple', $13::text) END)"
    } else {
        "UPDATE users SET username = $2, username_lower = $3, email = $4, email_lower = $5, \
         password_hash = $6, display_name = $7, bio = $8, avatar_url = $9, verified = $10, \
         created_at = $11, updated_at = $12, search_text = $13, \
         search = CASE WHEN $14 THEN to_tsvector('simple', $13::text) ELSE search END \
         WHERE id = $1"
    };
    sqlx::query(sql)
        .bind(u.id.0)
        .bind(&u.username)
        .bind(u.username.to_ascii_lowercase())
        .bind(&u.email)
        .bind(u.email.to_ascii_lowercase())
        .bind(&u.password_hash)
        .bind(&u.display_name)
        .bind(&u.bio)
        .bind(&u.avatar_url)
        .bind(u.verified)
        .bind(u.created_at.as_micros())
        .bind(u.updated_at.as_micros())
        .bind(user_terms(u).join(" "))
        .bind(index)
        .execute(&mut *conn)
        .await
        .db()
        .map_err(|e| with_value(e, &u.username, &u.email))?;
    Ok(())
}

#[async_trait]
impl UserRepo for PgStore {
    async fn create_user(&self, new: NewUser) -> Result<User> {
        crate::validate::new_user(&new)?;
        let now = self.now();
        let display_name = if new.display_name.is_empty() {
            new.username.clone()
        } else {
            new.display_name
        };
        let user = User {
            id: UserId(self.ids.next_at(now)),
            username: new.username,
            email: new.email,
            password_hash: new.password_hash,
            display_name,
            bio: new.bio,
            avatar_url: new.avatar_url,
            verified: false,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.pool.begin().await.db()?;
        write_user(&mut tx, &user, true, self.search_inline()).await?;
        let event = Event::UserCreated {
            user: user.id,
            username: user.username.clone(),
        };
        append(&mut tx, now, &self.ids, &event).await?;
        tx.commit().await.db()?;
        Ok(user)
    }

    async fn user(&self, id: UserId) -> Result<User> {
        let mut conn = self.pool.acquire().await.db()?;
        fetch_user(&mut conn, id, false).await
    }

    async fn user_by_username(&self, username: &str) -> Result<User> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE username_lower = $1");
        let row = sqlx::query(&sql)
            .bind(username.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await
            .db()?
            .ok_or_else(|| StorageError::not_found(Entity::User, username))?;
        rows::user(&row).db()
    }

    async fn user_by_email(&self, email: &str) -> Result<User> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE email_lower = $1");
        let row = sqlx::query(&sql)
            .bind(email.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await
            .db()?
            .ok_or_else(|| StorageError::not_found(Entity::User, email))?;
        rows::user(&row).db()
    }

    async fn update_user(&self, id: UserId, patch: UserPatch) -> Result<User> {
        crate::validate::user_patch(&patch)?;
        let now = self.now();
        let mut tx = self.pool.begin().await.db()?;
        let mut user = fetch_user(&mut tx, id, true).await?;
        if patch.is_empty() {
            return Ok(user);
        }
        apply_user_patch(&mut user, patch, now);
        write_user(&mut tx, &user, false, self.search_inline()).await?;
        append(&mut tx, now, &self.ids, &Event::UserUpdated { user: id }).await?;
        tx.commit().await.db()?;
        Ok(user)
    }

    async fn delete_user(&self, id: UserId) -> Result<()> {
        let now = self.now();
        let mut tx = self.pool.begin().await.db()?;
        fetch_user(&mut tx, id, true).await?;
        // Other users' posts whose counters this deletion changes: lock them first, so the
        // recount below sees every committed like and comment and no concurrent change slips in.
        let touched: Vec<uuid::Uuid> = sqlx::query_scalar(
            "SELECT id FROM posts WHERE author_id <> $1 AND id IN ( \
                 SELECT post_id FROM likes WHERE user_id = $1 \
                 UNION SELECT post_id FROM comments WHERE author_id = $1) \
             ORDER BY id FOR UPDATE",
        )
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await
        .db()?;
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .db()?;
        super::posts::recount(&mut tx, &touched).await?;
        append(&mut tx, now, &self.ids, &Event::UserDeleted { user: id }).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn users_by_prefix(&self, prefix: &str, seek: &Seek) -> Result<Window<User>> {
        let prefix = prefix.to_ascii_lowercase();
        // Usernames hold only [a-z0-9_] once lowercased; any other prefix matches nothing.
        if !prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return paginate_keys::<(), User>(
                &[],
                List::UsersByPrefix,
                seek,
                |_| Vec::new(),
                |_| None,
            );
        }
        // '{' sorts right after 'z' in the "C" collation: [prefix, prefix || '{') is the range
        // of every string that starts with the prefix, served by users_username_lower_key.
        let upper = format!("{prefix}{{");
        let filter = move |qb: &mut QueryBuilder<'static, Postgres>| {
            qb.push("username_lower >= ")
                .push_bind(prefix.clone())
                .push(" AND username_lower < ")
                .push_bind(upper.clone());
        };
        lists::fetch(
            &self.pool,
            &self.keysets.users_by_prefix,
            seek,
            filter,
            rows::user,
        )
        .await
    }
}
