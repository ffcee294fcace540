//! Refresh tokens and API keys in the memory backend.

use std::collections::hash_map::Entry;

use async_trait::async_trait;

use super::MemoryStore;
use super::state::State;
use crate::clock::Timestamp;
use crate::error::{Result, StorageError};
use crate::id::UserId;
use crate::model::{ApiKey, TokenHash};
use crate::repo::CredentialRepo;

impl State {
    /// Drops every credential of `user` (their account is deleted).
    pub(super) fn remove_credentials(&mut self, user: UserId) {
        self.refresh_tokens.retain(|_, (u, _)| *u != user);
        self.api_keys.retain(|_, k| k.user != user);
    }
}

#[async_trait]
impl CredentialRepo for MemoryStore {
    async fn issue_refresh_token(
        &self,
        token: &TokenHash,
        user: UserId,
        expires_at: Timestamp,
    ) -> Result<()> {
        self.write(|s, _| {
            s.user(user)?;
            match s.refresh_tokens.entry(*token) {
                Entry::Occupied(_) => Err(StorageError::conflict("token", "(hash)")),
                Entry::Vacant(v) => {
                    v.insert((user, expires_at));
                    Ok(())
                }
            }
        })
    }

    async fn take_refresh_token(&self, token: &TokenHash) -> Result<Option<UserId>> {
        self.write(|s, tx| {
            Ok(s.refresh_tokens
                .remove(token)
                .and_then(|(user, expires_at)| (tx.now < expires_at).then_some(user)))
        })
    }

    async fn revoke_refresh_token(&self, token: &TokenHash) -> Result<bool> {
        self.write(|s, _| Ok(s.refresh_tokens.remove(token).is_some()))
    }

    async fn purge_expired_refresh_tokens(&self) -> Result<u64> {
        self.write(|s, tx| {
            let before = s.refresh_tokens.len();
            s.refresh_tokens
                .retain(|_, (_, expires_at)| tx.now < *expires_at);
            Ok(u64::try_from(before - s.refresh_tokens.len()).unwrap_or(u64::MAX))
        })
    }

    async fn create_api_key(&self, key: &TokenHash, user: UserId, name: &str) -> Result<ApiKey> {
        crate::validate::api_key_name(name)?;
        self.write(|s, tx| {
            s.user(user)?;
            let Entry::Vacant(v) = s.api_keys.entry(*key) else {
                return Err(StorageError::conflict("token", "(hash)"));
            };
            let api_key = ApiKey {
                id: tx.ids.next_at(tx.now),
                user,
                name: name.to_owned(),
                created_at: tx.now,
            };
            v.insert(api_key.clone());
            Ok(api_key)
        })
    }

    async fn api_key(&self, key: &TokenHash) -> Result<Option<ApiKey>> {
        self.read(|s| Ok(s.api_keys.get(key).cloned()))
    }

    async fn revoke_api_key(&self, user: UserId, id: uuid::Uuid) -> Result<bool> {
        self.write(|s, _| {
            let before = s.api_keys.len();
            s.api_keys.retain(|_, k| !(k.user == user && k.id == id));
            Ok(s.api_keys.len() < before)
        })
    }
}
