//! Password hashing with argon2id (OWASP parameters by default: 19 MiB, 2 iterations, 1 lane),
//! with a cap on how many hashes run at once: each hash takes its memory cost, so without the
//! cap a login flood would exhaust memory and CPU. Callers past the cap wait (bounded), then get
//! [`PasswordError::Busy`] (503).

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// How long a request waits for a hashing slot before giving up.
const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Why hashing or verifying failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// Every hashing slot stayed busy: the server is flooded. Retry later.
    #[error("password hashing is saturated; retry later")]
    Busy,
    /// The argon2 parameters are invalid: fix `--argon2-memory-kib` / `--argon2-iterations`.
    #[error("invalid argon2 parameters: {0}; fix the configuration")]
    Params(String),
    /// Hashing itself failed (should not happen with valid parameters).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Hashes and verifies passwords, at most `concurrency` at a time.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    slots: Arc<Semaphore>,
    /// A hash of a random password, verified against when a login names an unknown user, so
    /// the answer takes as long as for a known user.
    dummy: Arc<String>,
}

impl PasswordHasher {
    /// A hasher with `memory_kib` KiB, `iterations` passes, and `concurrency` slots.
    ///
    /// # Errors
    /// [`PasswordError::Params`] when argon2 rejects the parameters.
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        concurrency: usize,
    ) -> Result<Self, PasswordError> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| PasswordError::Params(e.to_string()))?;
        let dummy = hash_now(&params, &format!("{:032x}", rand::random::<u128>()))?;
        Ok(Self {
            params,
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: Arc::new(dummy),
        })
    }

    /// Hashes `password` (PHC string with its salt and parameters).
    ///
    /// # Errors
    /// [`PasswordError::Busy`] when no slot frees up in time.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let permit = tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| PasswordError::Busy)?
            .map_err(|_| PasswordError::Busy)?;
        let params = self.params.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash_now(&params, &password)
        })
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))?
    }

    /// Whether `password` matches `hash`; with `None` (unknown user) it verifies against a
    /// dummy hash and answers `false`, taking the same time.
    ///
    /// # Errors
    /// [`PasswordError::Busy`] when no slot frees up in time.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, PasswordError> {
        let permit = tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| PasswordError::Busy)?
            .map_err(|_| PasswordError::Busy)?;
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy.as_ref().clone(), str::to_owned);
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let Ok(parsed) = PasswordHash::new(&hash) else {
                return false;
            };
            let ok = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            ok && known
        })
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))
    }

    /// Hashing slots free right now.
    pub fn free_slots(&self) -> usize {
        self.slots.available_permits()
    }
}

fn hash_now(params: &Params, password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = PasswordHasher::new(1024, 1, 2).unwrap();
        let hash = h.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert!(h.verify("correct horse", Some(&hash)).await.unwrap());
        assert!(!h.verify("wrong", Some(&hash)).await.unwrap());
        assert!(!h.verify("correct horse", None).await.unwrap());
    }

    #[tokio::test]
    async fn the_cap_bounds_concurrent_hashes() {
        let h = PasswordHasher::new(1024, 1, 1).unwrap();
        let held = h.slots.clone().acquire_owned().await.unwrap();
        assert_eq!(h.free_slots(), 0);
        drop(held);
        assert_eq!(h.free_slots(), 1);
        let defaults = PasswordHasher::new(19_456, 2, 2).unwrap();
        assert!(defaults.dummy.contains("m=19456,t=2,p=1"));
    }
}
