//! Refresh tokens and API keys in PostgreSQL (`refresh_tokens`, `api_keys`, migration 3).

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::error::DbResultExt;
use super::{PgStore, lists};
use crate::clock::Timestamp;
use crate::error::{Result, StorageError};
use crate::id::UserId;
use crate::model::{ApiKey, TokenHash};
use crate::page::{Seek, Window};
use crate::repo::CredentialRepo;

/// A unique violation on a credential hash is a `token` conflict; anything else as usual.
fn token_conflict(e: StorageError) -> StorageError {
    match e {
        StorageError::Conflict { .. } => StorageError::conflict("token", "(hash)"),
        other => other,
    }
}

/// The columns an [`ApiKey`] is read from (never the hash).
pub(crate) const API_KEY_COLS: &str = "id, user_id, name, created_at";

fn api_key(row: &PgRow) -> Result<ApiKey, sqlx::Error> {
    Ok(ApiKey {
        id: row.try_get("id")?,
        user: UserId(row.try_get("user_id")?),
        name: row.try_get("name")?,
        created_at: Timestamp::from_micros(row.try_get("created_at")?),
    })
}

#[async_trait]
impl CredentialRepo for PgStore {
    async fn issue_refresh_token(
        &self,
        token: &TokenHash,
        user: UserId,
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token.as_bytes().as_slice())
        .bind(user.0)
        .bind(self.now().as_micros())
        .bind(expires_at.as_micros())
        .execute(&self.pool)
        .await
        .db()
        .map_err(token_conflict)?;
        Ok(())
    }

    async fn take_refresh_token(&self, token: &TokenHash) -> Result<Option<UserId>> {
        let row: Option<(uuid::Uuid, i64)> = sqlx::query_as(
            "DELETE FROM refresh_tokens WHERE token_hash = $1 RETURNING user_id, expires_at",
        )
        .bind(token.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await
        .db()?;
        let now = self.now().as_micros();
        Ok(row.and_then(|(user, expires_at)| (now < expires_at).then_some(UserId(user))))
    }

    async fn revoke_refresh_token(&self, token: &TokenHash) -> Result<bool> {
        let done = sqlx::query("DELETE FROM refresh_tokens WHERE token_hash = $1")
            .bind(token.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .db()?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_expired_refresh_tokens(&self) -> Result<u64> {
        let done = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= $1")
            .bind(self.now().as_micros())
            .execute(&self.pool)
            .await
            .db()?;
        Ok(done.rows_affected())
    }

    async fn create_api_key(&self, key: &TokenHash, user: UserId, name: &str) -> Result<ApiKey> {
        crate::validate::api_key_name(name)?;
        let now = self.now();
        let api_key = ApiKey {
            id: self.ids.next_at(now),
            user,
            name: name.to_owned(),
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, key_hash, user_id, name, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(api_key.id)
        .bind(key.as_bytes().as_slice())
        .bind(user.0)
        .bind(&api_key.name)
        .bind(now.as_micros())
        .execute(&self.pool)
        .await
        .db()
        .map_err(token_conflict)?;
        Ok(api_key)
    }

    async fn api_key(&self, key: &TokenHash) -> Result<Option<ApiKey>> {
        let row =
            sqlx::query("SELECT id, user_id, name, created_at FROM api_keys WHERE key_hash = $1")
                .bind(key.as_bytes().as_slice())
                .fetch_optional(&self.pool)
                .await
                .db()?;
        row.as_ref().map(api_key).transpose().db()
    }

    async fn revoke_api_key(&self, user: UserId, id: uuid::Uuid) -> Result<bool> {
        let done = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user.0)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(done.rows_affected() > 0)
    }

    async fn api_keys(&self, user: UserId, seek: &Seek) -> Result<Window<ApiKey>> {
        let filter = move |qb: &mut QueryBuilder<'static, Postgres>| {
            qb.push("user_id = ").push_bind(user.0);
        };
        lists::fetch(&self.pool, &self.keysets.api_keys, seek, filter, api_key).await
    }
}
