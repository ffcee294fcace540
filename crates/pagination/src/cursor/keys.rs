//! [`KeyRing`]: the HMAC keys cursors are signed and verified with, for rotation.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::KeyError;

/// The shortest accepted secret, in bytes.
pub const MIN_KEY_LEN: usize = 32;

pub(crate) type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
struct Key {
    id: u8,
    /// The keyed state, computed once; cloned per cursor so signing skips the key schedule.
    mac: HmacSha256,
}

/// A set of cursor keys: the newest signs, all verify.
///
/// Rotation: add the new key (as newest) to every server, wait until no cursor signed with the
/// oldest key is still wanted (or its expiry passed), then drop the oldest. Each key has a
/// one-byte id, written in every cursor, so verification picks the key directly.
///
/// ```
/// use keel_pagination::KeyRing;
/// let ring = KeyRing::new(1, &[7u8; 32])?.with_key(2, &[9u8; 32])?; // key 2 now signs
/// assert_eq!(ring.signing_key_id(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct KeyRing {
    /// The newest key: signs and verifies.
    signing: Key,
    /// Older keys, oldest first: verify only.
    older: Vec<Key>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secrets.
        f.debug_struct("KeyRing")
            .field("key_ids", &self.key_ids())
            .finish()
    }
}

fn make_key(id: u8, secret: &[u8]) -> Result<Key, KeyError> {
    if secret.len() < MIN_KEY_LEN {
        return Err(KeyError::TooShort {
            key_id: id,
            len: secret.len(),
            min: MIN_KEY_LEN,
        });
    }
    // HMAC accepts keys of any length; the length check above is ours.
    let mac = HmacSha256::new_from_slice(secret).map_err(|_| KeyError::TooShort {
        key_id: id,
        len: secret.len(),
        min: MIN_KEY_LEN,
    })?;
    Ok(Key { id, mac })
}

impl KeyRing {
    /// A ring with one key.
    ///
    /// # Errors
    /// [`KeyError::TooShort`] when `secret` has fewer than [`MIN_KEY_LEN`] bytes.
    pub fn new(id: u8, secret: &[u8]) -> Result<Self, KeyError> {
        Ok(Self {
            signing: make_key(id, secret)?,
            older: Vec::new(),
        })
    }

    /// A ring from keys listed oldest first; the last one signs.
    ///
    /// # Errors
    /// [`KeyError::Empty`], [`KeyError::TooShort`] or [`KeyError::DuplicateId`].
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = (u8, &'a [u8])>) -> Result<Self, KeyError> {
        let mut ring: Option<KeyRing> = None;
        for (id, secret) in keys {
            ring = Some(match ring {
                None => KeyRing::new(id, secret)?,
                Some(r) => r.with_key(id, secret)?,
            });
        }
        ring.ok_or(KeyError::Empty)
    }

    /// Adds a newer key, which signs from now on; older keys still verify.
    ///
    /// # Errors
    /// [`KeyError::TooShort`] or [`KeyError::DuplicateId`].
    pub fn with_key(mut self, id: u8, secret: &[u8]) -> Result<Self, KeyError> {
        if self.key_ids().contains(&id) {
            return Err(KeyError::DuplicateId { key_id: id });
        }
        let newest = make_key(id, secret)?;
        self.older
            .push(std::mem::replace(&mut self.signing, newest));
        Ok(self)
    }

    /// Removes a retired key; cursors it signed then fail with
    /// [`CursorError::UnknownKey`](super::CursorError::UnknownKey). The signing key cannot be
    /// removed (nothing happens).
    #[must_use]
    pub fn without_key(mut self, id: u8) -> Self {
        self.older.retain(|k| k.id != id);
        self
    }

    /// The id of the key that signs new cursors.
    pub fn signing_key_id(&self) -> u8 {
        self.signing.id
    }

    /// The ids of every key that verifies, oldest first.
    pub fn key_ids(&self) -> Vec<u8> {
        self.older
            .iter()
            .chain(std::iter::once(&self.signing))
            .map(|k| k.id)
            .collect()
    }

    pub(crate) fn signer(&self) -> (u8, HmacSha256) {
        (self.signing.id, self.signing.mac.clone())
    }

    pub(crate) fn verifier(&self, id: u8) -> Option<HmacSha256> {
        if self.signing.id == id {
            return Some(self.signing.mac.clone());
        }
        self.older
            .iter()
            .find(|k| k.id == id)
            .map(|k| k.mac.clone())
    }
}
