//! Opaque, signed cursors: [`CursorCodec`], its [`KeyRing`], the [`QueryKey`] a cursor is bound
//! to, and [`CursorError`].
//!
//! # Format (version 1)
//!
//! A cursor is URL-safe base64 (no padding) of:
//!
//! ```text
//! version u8 | key id u8 | flags u8 | body length (LEB128) | body | HMAC-SHA256 tag (32 bytes)
//! body = query fingerprint (8 bytes) | [expiry, unix seconds, LEB128 if flag 1]
//!        | value count (LEB128) | values (kind tag u8 + payload each)
//! ```
//!
//! The tag covers every byte before it. Flag bit 0 marks an expiry, bit 1 an inclusive position.
//! A cursor for a `(created_at bigint, id uuid)` sort is about 100 characters.
//!
//! # Untrusted input
//!
//! Decoding reads at most [`MAX_CURSOR_LEN`] characters (longer input is rejected before any
//! work), allocates at most the decoded length, and checks the tag in constant time before
//! parsing the body. Each failure is a distinct [`CursorError`], all mapped to HTTP 400; nothing
//! panics (a cargo-fuzz target in `fuzz/` checks that).

mod codec;
mod error;
mod keys;
mod query;
mod wire;

pub use codec::{CursorCodec, MAX_CURSOR_LEN};
pub use error::{CursorError, KeyError};
pub use keys::{KeyRing, MIN_KEY_LEN};
pub use query::QueryKey;
pub use wire::CURSOR_VERSION;

/// Fuzzing hook: the frame and body parsers on raw bytes, bypassing the signature check (which
/// random input never passes). Compiled only under `--cfg fuzzing` (cargo-fuzz sets it).
#[cfg(fuzzing)]
#[doc(hidden)]
pub fn fuzz_parse_unsigned(bytes: &[u8]) {
    if let Ok(frame) = wire::split_frame(bytes) {
        let _ = wire::parse_body(frame.flags, frame.body);
    }
}
