//! Users across shards: global username and email claims on shard 0, rows on the home shard.

use async_trait::async_trait;
use uuid::Uuid;

use super::{CLAIM_GRACE_MICROS, ShardedPgStore};
use crate::clock::Timestamp;
use crate::error::{Entity, Result, StorageError};
use crate::id::UserId;
use crate::model::{NewUser, User, UserPatch};
use crate::page::{List, Seek, Window};
use crate::postgres::error::DbResultExt;
use crate::postgres::posts::recount;
use crate::repo::UserRepo;

const USERNAME: &str = "username";
const EMAIL: &str = "email";

/// Whether `user` holds `value` as its `kind`.
fn holds(user: &User, kind: &str, value: &str) -> bool {
    let held = if kind == USERNAME {
        &user.username
    } else {
        &user.email
    };
    held.eq_ignore_ascii_case(value)
}

impl ShardedPgStore {
    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Claims `value` (lowercased) as `kind` for a sign-up or rename in progress: a pending
    /// claim, bound to the user by [`Self::bind`]. `Conflict` naming `kind` when it is held.
    async fn claim(&self, kind: &'static str, value: &str) -> Result<()> {
        let pool = self.directory()?.pool();
        let now = self.now().as_micros();
        for _ in 0..3 {
            let inserted = sqlx::query(
                "INSERT INTO keel_shard_claims (kind, value, user_id, claimed_at) \
                 VALUES ($1, $2, NULL, $3) ON CONFLICT DO NOTHING",
            )
            .bind(kind)
            .bind(value)
            .bind(now)
            .execute(pool)
            .await
            .db()?
            .rows_affected()
                == 1;
            if inserted {
                return Ok(());
            }
            let held: Option<(Option<Uuid>, i64)> = sqlx::query_as(
                "SELECT user_id, claimed_at FROM keel_shard_claims WHERE kind = $1 AND value = $2",
            )
            .bind(kind)
            .bind(value)
            .fetch_optional(pool)
            .await
            .db()?;
            let Some((owner, at)) = held else {
                continue; // released meanwhile: try again
            };
            let stale = match owner {
                Some(owner) => match self.user(UserId(owner)).await {
                    Ok(user) => !holds(&user, kind, value),
                    Err(StorageError::NotFound { .. }) => true,
                    Err(e) => return Err(e),
                },
                None if now.saturating_sub(at) < CLAIM_GRACE_MICROS => false,
                None => {
                    // An unfinished sign-up: adopt the claim for the user who got the name, if any.
                    if let Some(user) = self.find_holder(kind, value).await? {
                        sqlx::query(
                            "UPDATE keel_shard_claims SET user_id = $3 \
                             WHERE kind = $1 AND value = $2 AND user_id IS NULL",
                        )
                        .bind(kind)
                        .bind(value)
                        .bind(user.0)
                        .execute(pool)
                        .await
                        .db()?;
                        false
                    } else {
                        true
                    }
                }
            };
            if !stale {
                return Err(StorageError::conflict(kind, value));
            }
            let taken = sqlx::query(
                "UPDATE keel_shard_claims SET user_id = NULL, claimed_at = $5 \
                 WHERE kind = $1 AND value = $2 AND user_id IS NOT DISTINCT FROM $3 \
                 AND claimed_at = $4",
            )
            .bind(kind)
            .bind(value)
            .bind(owner)
            .bind(at)
            .bind(now)
            .execute(pool)
            .await
            .db()?
            .rows_affected()
                == 1;
            if taken {
                return Ok(());
            }
        }
        Err(StorageError::conflict(kind, value))
    }

    /// The user holding `value` as `kind` on any shard (a full scatter: repair path only).
    async fn find_holder(&self, kind: &'static str, value: &str) -> Result<Option<UserId>> {
        let value = value.to_owned();
        let found = self
            .gather(|_, s| {
                let value = value.clone();
                async move {
                    let r = if kind == USERNAME {
                        s.user_by_username(&value).await
                    } else {
                        s.user_by_email(&value).await
                    };
                    match r {
                        Ok(u) => Ok(Some(u.id)),
                        Err(StorageError::NotFound { .. }) => Ok(None),
                        Err(e) => Err(e),
                    }
                }
            })
            .await?;
        Ok(found.into_iter().flatten().next())
    }

    /// Binds pending claims to `user`. A failure leaves them pending; the next claim of the
    /// value repairs them (see the module docs), so it is not reported to the caller.
    async fn bind(&self, claims: &[(&'static str, String)], user: UserId) {
        let Ok(dir) = self.directory() else { return };
        for (kind, value) in claims {
            let _ignored = sqlx::query(
                "UPDATE keel_shard_claims SET user_id = $3 \
                 WHERE kind = $1 AND value = $2 AND user_id IS NULL",
            )
            .bind(*kind)
            .bind(value)
            .bind(user.0)
            .execute(dir.pool())
            .await;
        }
    }

    /// Releases claims: pending ones (`owner` `None`) or those bound to `owner`.
    async fn release(&self, claims: &[(&'static str, String)], owner: Option<UserId>) {
        let Ok(dir) = self.directory() else { return };
        for (kind, value) in claims {
            let _ignored = sqlx::query(
                "DELETE FROM keel_shard_claims \
                 WHERE kind = $1 AND value = $2 AND user_id IS NOT DISTINCT FROM $3",
            )
            .bind(*kind)
            .bind(value)
            .bind(owner.map(|o| o.0))
            .execute(dir.pool())
            .await;
        }
    }

    /// Claims every value in `claims`, all or none.
    async fn claim_all(&self, claims: &[(&'static str, String)]) -> Result<()> {
        for (i, (kind, value)) in claims.iter().enumerate() {
            if let Err(e) = self.claim(kind, value).await {
                self.release(claims.get(..i).unwrap_or_default(), None)
                    .await;
                return Err(e);
            }
        }
        Ok(())
    }

    /// The owner of a bound claim.
    async fn claimed_by(&self, kind: &'static str, value: &str) -> Result<Option<UserId>> {
        let owner: Option<Option<Uuid>> = sqlx::query_scalar(
            "SELECT user_id FROM keel_shard_claims WHERE kind = $1 AND value = $2",
        )
        .bind(kind)
        .bind(value.to_ascii_lowercase())
        .fetch_optional(self.directory()?.pool())
        .await
        .db()?;
        Ok(owner.flatten().map(UserId))
    }

    async fn by_claim(&self, kind: &'static str, value: &str) -> Result<User> {
        let not_found = || StorageError::not_found(Entity::User, value);
        let owner = self.claimed_by(kind, value).await?.ok_or_else(not_found)?;
        match self.user(owner).await {
            Ok(user) if holds(&user, kind, value) => Ok(user),
            Ok(_) | Err(StorageError::NotFound { .. }) => Err(not_found()),
            Err(e) => Err(e),
        }
    }

    /// Deletes a deleted user's leftover likes, comments and follow edges on every shard (a
    /// write that raced the deletion), fixing post counters. Idempotent; no events.
    ///
    /// # Errors
    /// `Unavailable` when a shard fails.
    pub async fn sweep_user(&self, user: UserId) -> Result<()> {
        self.gather(|_, s| Self::purge_user_rows(s, user)).await?;
        Ok(())
    }

    /// Deletes `user`'s likes, comments and follow edges on one shard, fixing the counters of
    /// the posts they touched (the user row itself is deleted on the home shard afterwards).
    async fn purge_user_rows(store: crate::PgStore, user: UserId) -> Result<()> {
        let mut tx = store.pool().begin().await.db()?;
        let touched: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM posts WHERE author_id <> $1 AND id IN ( \
                 SELECT post_id FROM likes WHERE user_id = $1 \
                 UNION SELECT post_id FROM comments WHERE author_id = $1) \
             ORDER BY id FOR UPDATE",
        )
        .bind(user.0)
        .fetch_all(&mut *tx)
        .await
        .db()?;
        for sql in [
            "DELETE FROM likes WHERE user_id = $1",
            "DELETE FROM comments WHERE author_id = $1",
            "DELETE FROM follows WHERE followee_id = $1 OR follower_id = $1",
            "DELETE FROM refresh_tokens WHERE user_id = $1",
            "DELETE FROM api_keys WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(user.0).execute(&mut *tx).await.db()?;
        }
        recount(&mut tx, &touched).await?;
        tx.commit().await.db()?;
        Ok(())
    }
}

#[async_trait]
impl UserRepo for ShardedPgStore {
    async fn create_user(&self, new: NewUser) -> Result<User> {
        crate::validate::new_user(&new)?;
        let username = new.username.to_ascii_lowercase();
        let claims = [
            (USERNAME, username.clone()),
            (EMAIL, new.email.to_ascii_lowercase()),
        ];
        self.claim_all(&claims).await?;
        match self.home_for(&username)?.create_user(new).await {
            Ok(user) => {
                self.bind(&claims, user.id).await;
                Ok(user)
            }
            Err(e) => {
                self.release(&claims, None).await;
                Err(e)
            }
        }
    }

    async fn user(&self, id: UserId) -> Result<User> {
        self.at(id.0)?.user(id).await
    }

    async fn user_by_username(&self, username: &str) -> Result<User> {
        self.by_claim(USERNAME, username).await
    }

    async fn user_by_email(&self, email: &str) -> Result<User> {
        self.by_claim(EMAIL, email).await
    }

    async fn update_user(&self, id: UserId, patch: UserPatch) -> Result<User> {
        crate::validate::user_patch(&patch)?;
        let home = self.at(id.0)?;
        let old = home.user(id).await?;
        let mut new_claims = Vec::new();
        let mut old_claims = Vec::new();
        if let Some(name) = &patch.username
            && !name.eq_ignore_ascii_case(&old.username)
        {
            new_claims.push((USERNAME, name.to_ascii_lowercase()));
            old_claims.push((USERNAME, old.username.to_ascii_lowercase()));
        }
        if let Some(email) = &patch.email
            && !email.eq_ignore_ascii_case(&old.email)
        {
            new_claims.push((EMAIL, email.to_ascii_lowercase()));
            old_claims.push((EMAIL, old.email.to_ascii_lowercase()));
        }
        self.claim_all(&new_claims).await?;
        match home.update_user(id, patch).await {
            Ok(user) => {
                self.bind(&new_claims, id).await;
                self.release(&old_claims, Some(id)).await;
                Ok(user)
            }
            Err(e) => {
                self.release(&new_claims, None).await;
                Err(e)
            }
        }
    }

    async fn delete_user(&self, id: UserId) -> Result<()> {
        let home = self.at(id.0)?;
        home.user(id).await?;
        self.gather(|_, s| Self::purge_user_rows(s, id)).await?;
        home.delete_user(id).await?;
        let _ignored = sqlx::query("DELETE FROM keel_shard_claims WHERE user_id = $1")
            .bind(id.0)
            .execute(self.directory()?.pool())
            .await;
        Ok(())
    }

    async fn users_by_prefix(&self, prefix: &str, seek: &Seek) -> Result<Window<User>> {
        let prefix = prefix.to_owned();
        let windows = self
            .gather(|_, s| {
                let (prefix, seek) = (prefix.clone(), seek.clone());
                async move { s.users_by_prefix(&prefix, &seek).await }
            })
            .await?;
        super::merge::merge_windows(List::UsersByPrefix, seek, windows)
    }
}
