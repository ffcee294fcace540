//! Refresh tokens (revocable, rotated on use) and API keys (for server-to-server clients).
//!
//! Both are 32 random bytes shown to the client once; only their SHA-256
//! ([`keel_storage::TokenHash`]) is stored, through keel-storage's
//! [`CredentialRepo`], so they survive a restart and every instance sharing the database
//! accepts them, and a leak of the store leaks no usable credential.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keel_storage::{ApiKey, Clock, CredentialRepo, StorageError, TokenHash, UserId};
use rand::RngCore;

/// Prefix of API keys, so they are recognisable in logs and secret scanners.
pub const API_KEY_PREFIX: &str = "keel_";

/// Mints refresh tokens and API keys and checks them against the store.
#[derive(Clone)]
pub struct TokenStore {
    repo: Arc<dyn CredentialRepo>,
    refresh_ttl_us: i64,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore")
            .field("refresh_ttl_us", &self.refresh_ttl_us)
            .finish_non_exhaustive()
    }
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenStore {
    /// Credentials kept in `repo`; refresh tokens live `refresh_ttl_secs`.
    pub fn new(
        repo: Arc<dyn CredentialRepo>,
        refresh_ttl_secs: u64,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repo,
            refresh_ttl_us: i64::try_from(refresh_ttl_secs)
                .unwrap_or(i64::MAX / 2_000_000)
                .saturating_mul(1_000_000),
            clock,
        }
    }

    /// Mints and stores a refresh token for `user`.
    ///
    /// # Errors
    /// The storage error (`NotFound` when the user is gone, `Unavailable`).
    pub async fn issue_refresh(&self, user: UserId) -> Result<String, StorageError> {
        let token = random_secret();
        let expires_at = self.clock.now().plus_micros(self.refresh_ttl_us);
        self.repo
            .issue_refresh_token(&TokenHash::of(&token), user, expires_at)
            .await?;
        Ok(token)
    }

    /// Consumes a refresh token (rotation: it cannot be used twice). `None` when unknown,
    /// revoked, used or expired.
    ///
    /// # Errors
    /// The storage error when the store is unavailable.
    pub async fn take_refresh(&self, token: &str) -> Result<Option<UserId>, StorageError> {
        self.repo.take_refresh_token(&TokenHash::of(token)).await
    }

    /// Revokes a refresh token; whether it existed.
    ///
    /// # Errors
    /// The storage error when the store is unavailable.
    pub async fn revoke_refresh(&self, token: &str) -> Result<bool, StorageError> {
        self.repo.revoke_refresh_token(&TokenHash::of(token)).await
    }

    /// Deletes expired refresh tokens; how many.
    ///
    /// # Errors
    /// The storage error when the store is unavailable.
    pub async fn purge_expired(&self) -> Result<u64, StorageError> {
        self.repo.purge_expired_refresh_tokens().await
    }

    /// Mints an API key for `user`; the key is returned once, only its hash is kept.
    ///
    /// # Errors
    /// The storage error (`InvalidInput` for a bad name, `NotFound`, `Unavailable`).
    pub async fn issue_api_key(
        &self,
        user: UserId,
        name: &str,
    ) -> Result<(String, ApiKey), StorageError> {
        let key = format!("{API_KEY_PREFIX}{}", random_secret());
        let info = self
            .repo
            .create_api_key(&TokenHash::of(&key), user, name)
            .await?;
        Ok((key, info))
    }

    /// The stored record of an API key.
    ///
    /// # Errors
    /// The storage error when the store is unavailable.
    pub async fn api_key(&self, key: &str) -> Result<Option<ApiKey>, StorageError> {
        self.repo.api_key(&TokenHash::of(key)).await
    }

    /// Revokes `user`'s API key `id`; whether it existed.
    ///
    /// # Errors
    /// The storage error when the store is unavailable.
    pub async fn revoke_api_key(&self, user: UserId, id: uuid::Uuid) -> Result<bool, StorageError> {
        self.repo.revoke_api_key(user, id).await
    }
}

#[cfg(test)]
mod tests {
    use keel_storage::{ManualClock, MemoryStore, NewUser, Timestamp, UserRepo};

    use super::*;

    #[tokio::test]
    async fn refresh_tokens_rotate_expire_and_revoke() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_000)));
        let store = MemoryStore::with_clock(clock.clone(), keel_storage::IdGenerator::seeded(1));
        let u = store
            .create_user(NewUser::new("ada", "ada@x.io", "h"))
            .await
            .unwrap()
            .id;
        let s = TokenStore::new(Arc::new(store), 10, clock.clone());
        let t = s.issue_refresh(u).await.unwrap();
        assert_eq!(s.take_refresh(&t).await.unwrap(), Some(u));
        assert_eq!(s.take_refresh(&t).await.unwrap(), None, "used once");
        let t = s.issue_refresh(u).await.unwrap();
        assert!(s.revoke_refresh(&t).await.unwrap());
        assert_eq!(s.take_refresh(&t).await.unwrap(), None);
        let t = s.issue_refresh(u).await.unwrap();
        clock.advance_micros(10_000_000);
        assert_eq!(s.take_refresh(&t).await.unwrap(), None, "expired");
        let (key, info) = s.issue_api_key(u, "ci").await.unwrap();
        assert!(key.starts_with(API_KEY_PREFIX));
        assert_eq!(s.api_key(&key).await.unwrap().unwrap().user, u);
        assert!(s.revoke_api_key(u, info.id).await.unwrap());
        assert!(s.api_key(&key).await.unwrap().is_none());
    }
}
