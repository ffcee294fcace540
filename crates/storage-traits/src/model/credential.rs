//! Credentials: refresh tokens and API keys, stored only as the SHA-256 of their secret.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::id::UserId;

/// The SHA-256 of a credential's secret: what the stores keep instead of the secret, so a
/// leaked table holds no usable credential.
///
/// An unsalted hash is right only for high-entropy secrets (at least 128 random bits, as the
/// server mints them); never hash a password with it.
///
/// ```
/// use keel_storage::TokenHash;
/// let h = TokenHash::of("a 256-bit random secret, base64url");
/// assert_eq!(h, TokenHash::of("a 256-bit random secret, base64url"));
/// assert!(!format!("{h:?}").contains("secret"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// The hash of `secret`.
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// A hash from its 32 bytes (as read back from storage).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    /// The first four bytes only: enough to tell hashes apart in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, ..] = self.0;
        write!(f, "TokenHash({a:02x}{b:02x}{c:02x}{d:02x}..)")
    }
}

/// A stored API key (the key itself is never stored, only its [`TokenHash`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Its id (UUIDv7), to list or revoke it.
    pub id: uuid::Uuid,
    /// Whose key it is: calls made with it act as this user.
    pub user: UserId,
    /// The owner's label (1 to 64 characters).
    pub name: String,
    /// When it was created.
    pub created_at: Timestamp,
}
