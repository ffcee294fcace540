//! Refresh tokens (revocable, rotated on use) and API keys (for server-to-server clients).
//!
//! Both are 32 random bytes shown to the client once; only their SHA-256 is stored, so a leak
//! of the store leaks no usable credential. They live in the server's memory (see the crate
//! docs: keel-storage has no table for them yet).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dashmap::DashMap;
use keel_storage::{Clock, UserId};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of API keys, so they are recognisable in logs and secret scanners.
pub const API_KEY_PREFIX: &str = "keel_";

#[derive(Debug, Clone, Copy)]
struct Refresh {
    user: UserId,
    expires_us: i64,
}

/// One API key's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    /// Its id (to revoke it).
    pub id: uuid::Uuid,
    /// Whose it is.
    pub user: UserId,
    /// Its label.
    pub name: String,
}

/// The stores of refresh tokens and API keys, by hash.
#[derive(Clone)]
pub struct TokenStore {
    refresh: Arc<DashMap<[u8; 32], Refresh>>,
    api_keys: Arc<DashMap<[u8; 32], ApiKeyInfo>>,
    refresh_ttl_us: i64,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore")
            .field("refresh_tokens", &self.refresh.len())
            .field("api_keys", &self.api_keys.len())
            .finish_non_exhaustive()
    }
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenStore {
    /// An empty store whose refresh tokens live `refresh_ttl_secs`.
    pub fn new(refresh_ttl_secs: u64, clock: Arc<dyn Clock>) -> Self {
        Self {
            refresh: Arc::default(),
            api_keys: Arc::default(),
            refresh_ttl_us: i64::try_from(refresh_ttl_secs)
                .unwrap_or(i64::MAX / 2_000_000)
                .saturating_mul(1_000_000),
            clock,
        }
    }

    /// Mints a refresh token for `user`.
    pub fn issue_refresh(&self, user: UserId) -> String {
        let token = random_secret();
        let expires_us = self
            .clock
            .now()
            .as_micros()
            .saturating_add(self.refresh_ttl_us);
        self.refresh
            .insert(digest(&token), Refresh { user, expires_us });
        token
    }

    /// Consumes a refresh token (rotation: it cannot be used twice). `None` when unknown,
    /// revoked, used or expired.
    pub fn take_refresh(&self, token: &str) -> Option<UserId> {
        let (_, r) = self.refresh.remove(&digest(token))?;
        (self.clock.now().as_micros() < r.expires_us).then_some(r.user)
    }

    /// Revokes a refresh token; whether it existed.
    pub fn revoke_refresh(&self, token: &str) -> bool {
        self.refresh.remove(&digest(token)).is_some()
    }

    /// Revokes every refresh token and API key of `user` (account deleted).
    pub fn revoke_user(&self, user: UserId) {
        self.refresh.retain(|_, r| r.user != user);
        self.api_keys.retain(|_, k| k.user != user);
    }

    /// Mints an API key for `user`; the key is returned once, only its hash is kept.
    pub fn issue_api_key(&self, user: UserId, name: &str) -> (String, ApiKeyInfo) {
        let key = format!("{API_KEY_PREFIX}{}", random_secret());
        let info = ApiKeyInfo {
            id: uuid::Uuid::now_v7(),
            user,
            name: name.to_owned(),
        };
        self.api_keys.insert(digest(&key), info.clone());
        (key, info)
    }

    /// The owner of an API key.
    pub fn api_key(&self, key: &str) -> Option<ApiKeyInfo> {
        self.api_keys.get(&digest(key)).map(|k| k.clone())
    }

    /// Revokes `user`'s API key `id`; whether it existed.
    pub fn revoke_api_key(&self, user: UserId, id: uuid::Uuid) -> bool {
        let before = self.api_keys.len();
        self.api_keys.retain(|_, k| !(k.user == user && k.id == id));
        self.api_keys.len() < before
    }
}

#[cfg(test)]
mod tests {
    use keel_storage::{ManualClock, Timestamp};

    use super::*;

    #[test]
    fn refresh_tokens_rotate_expire_and_revoke() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_000)));
        let s = TokenStore::new(10, clock.clone());
        let u = UserId(uuid::Uuid::now_v7());
        let t = s.issue_refresh(u);
        assert_eq!(s.take_refresh(&t), Some(u));
        assert_eq!(s.take_refresh(&t), None, "used once");
        let t = s.issue_refresh(u);
        assert!(s.revoke_refresh(&t));
        assert_eq!(s.take_refresh(&t), None);
        let t = s.issue_refresh(u);
        clock.advance_micros(10_000_000);
        assert_eq!(s.take_refresh(&t), None, "expired");
    }

    #[test]
    fn api_keys_are_stored_hashed() {
        let s = TokenStore::new(10, Arc::new(ManualClock::new(Timestamp::EPOCH)));
        let u = UserId(uuid::Uuid::now_v7());
        let (key, info) = s.issue_api_key(u, "ci");
        assert!(key.starts_with(API_KEY_PREFIX));
        assert_eq!(s.api_key(&key).unwrap().user, u);
        assert!(s.api_keys.iter().all(|e| e.key() != key.as_bytes()));
        assert!(s.revoke_api_key(u, info.id));
        assert!(s.api_key(&key).is_none());
    }
}
