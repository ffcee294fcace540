//! Refresh tokens and API keys in the memory backend.

use std::collections::hash_map::Entry;

use async_trait::async_trait;

use uuid::Uuid;

use super::MemoryStore;
use super::state::{State, UserTimeKey, newest_first_of_user};
use crate::clock::Timestamp;
use crate::error::{Result, StorageError};
use crate::id::UserId;
use crate::model::{ApiKey, TokenHash};
use crate::page::{List, RangeFn, Seek, Window};
use crate::repo::CredentialRepo;

impl State {
    /// Drops every credential of `user` (their account is deleted).
    pub(super) fn remove_credentials(&mut self, user: UserId) {
        self.refresh_tokens.retain(|_, (u, _)| *u != user);
        self.api_keys.retain(|_, k| k.user != user);
        self.api_key_idx.retain(|(u, _, _), _| *u != user);
    }

    fn api_keys_of(&self, user: UserId, seek: &Seek) -> Result<Window<ApiKey>> {
        let range: &RangeFn<'_, UserTimeKey, &UserTimeKey> =
            &|a, b| Box::new(self.api_key_idx.range((a, b)).map(|(k, _)| k));
        newest_first_of_user(range, user, List::ApiKeys, seek, |k| {
            self.api_key_idx
                .get(k)
                .and_then(|hash| self.api_keys.get(hash))
                .cloned()
        })
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
            s.api_key_idx
                .insert((user, api_key.created_at, api_key.id), *key);
            Ok(api_key)
        })
    }

    async fn api_key(&self, key: &TokenHash) -> Result<Option<ApiKey>> {
        self.read(|s| Ok(s.api_keys.get(key).cloned()))
    }

    async fn revoke_api_key(&self, user: UserId, id: Uuid) -> Result<bool> {
        self.write(|s, _| {
            let before = s.api_keys.len();
            s.api_keys.retain(|_, k| !(k.user == user && k.id == id));
            s.api_key_idx
                .retain(|(u, _, i), _| !(*u == user && *i == id));
            Ok(s.api_keys.len() < before)
        })
    }

    async fn api_keys(&self, user: UserId, seek: &Seek) -> Result<Window<ApiKey>> {
        self.read(|s| s.api_keys_of(user, seek))
    }
}
