//! [`CursorCodec`]: signs positions into cursors and verifies cursors back into positions.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;

use super::error::CursorError;
use super::keys::KeyRing;
use super::query::QueryKey;
use super::wire::{self, TAG_LEN};
use crate::clock::{Clock, SystemClock};
use crate::keyset::Position;

/// The longest cursor accepted or produced, in characters.
pub const MAX_CURSOR_LEN: usize = 1024;

/// Turns keyset positions into opaque, signed, URL-safe cursors and back.
///
/// ```
/// use keel_pagination::{CursorCodec, KeyRing, Position, QueryKey, SortSpec, SortValue, ValueKind};
/// let codec = CursorCodec::new(KeyRing::new(1, &[42u8; 32])?);
/// let spec = SortSpec::builder().desc("created_at", ValueKind::I64).tiebreaker("id", ValueKind::I64)?;
/// let query = QueryKey::new("posts", &spec);
/// let position = Position::after(vec![SortValue::I64(1_700_000_000), SortValue::I64(7)]);
/// let cursor = codec.encode(&query, &position)?;
/// assert_eq!(codec.decode(&query, &cursor)?, position);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CursorCodec {
    keys: KeyRing,
    ttl: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl CursorCodec {
    /// A codec signing with the ring's newest key; cursors never expire; the system clock.
    pub fn new(keys: KeyRing) -> Self {
        Self {
            keys,
            ttl: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// Cursors expire `ttl` after they are issued (whole seconds, rounded down).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Reads the time from `clock` (for expiry).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The key ring.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Signs `position` for `query` into a cursor.
    ///
    /// # Errors
    /// [`CursorError::PositionTooLarge`] when the cursor would exceed [`MAX_CURSOR_LEN`]
    /// characters (very long text sort values).
    pub fn encode(&self, query: &QueryKey, position: &Position) -> Result<String, CursorError> {
        let expires_at = self
            .ttl
            .map(|ttl| self.clock.now_unix_secs().saturating_add(ttl.as_secs()));
        let (key_id, mut mac) = self.keys.signer();
        let mut bytes = Vec::with_capacity(96);
        wire::write_signed_part(
            key_id,
            query.fingerprint(),
            expires_at,
            position,
            &mut bytes,
        );
        mac.update(&bytes);
        bytes.extend_from_slice(&mac.finalize().into_bytes());
        let len = base64::encoded_len(bytes.len(), false).unwrap_or(usize::MAX);
        if len > MAX_CURSOR_LEN {
            return Err(CursorError::PositionTooLarge {
                len,
                max: MAX_CURSOR_LEN,
            });
        }
        Ok(URL_SAFE_NO_PAD.encode(&bytes))
    }

    /// Verifies `cursor` and returns its position, if it was issued by this service (any key in
    /// the ring), for `query`, and has not expired.
    ///
    /// # Errors
    /// A distinct [`CursorError`] for each failure: too long, malformed, truncated, unknown
    /// version, unknown key, tampered, foreign query, expired.
    pub fn decode(&self, query: &QueryKey, cursor: &str) -> Result<Position, CursorError> {
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(CursorError::TooLong {
                len: cursor.len(),
                max: MAX_CURSOR_LEN,
            });
        }
        let bytes =
            URL_SAFE_NO_PAD
                .decode(cursor.as_bytes())
                .map_err(|_| CursorError::Malformed {
                    reason: "not URL-safe base64",
                })?;
        let frame = wire::split_frame(&bytes)?;
        let mut mac = self
            .keys
            .verifier(frame.key_id)
            .ok_or(CursorError::UnknownKey {
                key_id: frame.key_id,
            })?;
        mac.update(frame.signed);
        if frame.tag.len() != TAG_LEN || mac.verify_slice(frame.tag).is_err() {
            return Err(CursorError::Tampered);
        }
        let body = wire::parse_body(frame.flags, frame.body)?;
        if body.fingerprint != query.fingerprint() {
            return Err(CursorError::ForeignQuery);
        }
        if let Some(expired_at) = body.expires_at
            && self.clock.now_unix_secs() >= expired_at
        {
            return Err(CursorError::Expired { expired_at });
        }
        Ok(body.position)
    }
}
