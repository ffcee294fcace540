//! Credentials on the directory shard (shard 0): a lookup by hash is one query, wherever the
//! user lives.

use async_trait::async_trait;

use super::ShardedPgStore;
use crate::clock::Timestamp;
use crate::error::Result;
use crate::id::UserId;
use crate::model::{ApiKey, TokenHash};
use crate::page::{Seek, Window};
use crate::repo::{CredentialRepo, UserRepo};

#[async_trait]
impl CredentialRepo for ShardedPgStore {
    async fn issue_refresh_token(
        &self,
        token: &TokenHash,
        user: UserId,
        expires_at: Timestamp,
    ) -> Result<()> {
        // The user may live on another shard: no foreign key, so check first.
        self.user(user).await?;
        self.directory()?
            .issue_refresh_token(token, user, expires_at)
            .await
    }

    async fn take_refresh_token(&self, token: &TokenHash) -> Result<Option<UserId>> {
        self.directory()?.take_refresh_token(token).await
    }

    async fn revoke_refresh_token(&self, token: &TokenHash) -> Result<bool> {
        self.directory()?.revoke_refresh_token(token).await
    }

    async fn purge_expired_refresh_tokens(&self) -> Result<u64> {
        self.directory()?.purge_expired_refresh_tokens().await
    }

    async fn create_api_key(&self, key: &TokenHash, user: UserId, name: &str) -> Result<ApiKey> {
        crate::validate::api_key_name(name)?;
        self.user(user).await?;
        self.directory()?.create_api_key(key, user, name).await
    }

    async fn api_key(&self, key: &TokenHash) -> Result<Option<ApiKey>> {
        self.directory()?.api_key(key).await
    }

    async fn revoke_api_key(&self, user: UserId, id: uuid::Uuid) -> Result<bool> {
        self.directory()?.revoke_api_key(user, id).await
    }

    async fn api_keys(&self, user: UserId, seek: &Seek) -> Result<Window<ApiKey>> {
        self.directory()?.api_keys(user, seek).await
    }
}
