//! [`CursorError`] (a client's cursor was rejected) and [`KeyError`] (the key ring is misconfigured).

use thiserror::Error;

/// Why a cursor was rejected. Every variant is the client's doing and maps to HTTP 400
/// ([`CursorError::is_client_error`]), except [`CursorError::PositionTooLarge`], which is raised
/// while encoding.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CursorError {
    /// Longer than [`crate::cursor::MAX_CURSOR_LEN`] characters; rejected before decoding.
    #[error(
        "cursor is {len} characters, more than the {max} allowed: send a cursor this API returned"
    )]
    TooLong {
        /// The length received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not URL-safe base64, or a body that does not parse.
    #[error("cursor is malformed ({reason}): send a cursor exactly as this API returned it")]
    Malformed {
        /// What was wrong.
        reason: &'static str,
    },
    /// Shorter than its header says: it was cut off (often by a URL length limit or a copy).
    #[error("cursor is truncated: it was cut off; send the whole cursor")]
    Truncated,
    /// The signature does not match: the cursor was altered, or signed by another server.
    #[error(
        "cursor signature does not match: it was altered or not issued by this service; start from the first page"
    )]
    Tampered,
    /// The cursor's lifetime is over.
    #[error("cursor expired at {expired_at} (unix seconds): start again from the first page")]
    Expired {
        /// When it expired, in seconds since the Unix epoch.
        expired_at: u64,
    },
    /// A valid cursor issued for another query (other sort or filters).
    #[error(
        "cursor belongs to another query (different sort or filters): use cursors only with the query that returned them"
    )]
    ForeignQuery,
    /// A format version this server does not read.
    #[error(
        "cursor format version {version} is not supported (this server reads version {supported}): start from the first page"
    )]
    UnknownVersion {
        /// The version found.
        version: u8,
        /// The version this server reads.
        supported: u8,
    },
    /// Signed by a key this server no longer (or never) had: it was rotated out.
    #[error(
        "cursor was signed with key {key_id}, which this service no longer accepts: start from the first page"
    )]
    UnknownKey {
        /// The key id found.
        key_id: u8,
    },
    /// Encoding: the position's values make a cursor longer than the allowed maximum.
    #[error(
        "position encodes to {len} characters, more than the {max} allowed: sort by shorter fields"
    )]
    PositionTooLarge {
        /// The length it would have.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl CursorError {
    /// Whether the client caused this error (answer 400).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, CursorError::PositionTooLarge { .. })
    }

    /// The HTTP status a server should answer.
    pub fn http_status(&self) -> u16 {
        if self.is_client_error() { 400 } else { 500 }
    }
}

/// A misconfigured key ring.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A secret shorter than [`crate::cursor::MIN_KEY_LEN`] bytes.
    #[error(
        "cursor key {key_id} is {len} bytes, fewer than the {min} required: generate 32 random bytes"
    )]
    TooShort {
        /// The key's id.
        key_id: u8,
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// Two keys share an id.
    #[error("cursor key id {key_id} is used twice: give every key its own id")]
    DuplicateId {
        /// The repeated id.
        key_id: u8,
    },
    /// No keys at all.
    #[error("a key ring needs at least one key")]
    Empty,
}
