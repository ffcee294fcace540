//! Fuzzes cursor decoding: any input must give a position or a typed error, never a panic,
//! and an accepted cursor must re-encode to a cursor that decodes again. The frame and body
//! parsers are also fed directly (through a `cfg(fuzzing)` hook), since random bytes never
//! carry a valid signature.
//!
//! Run (needs nightly and cargo-fuzz: `cargo install cargo-fuzz`):
//!
//! ```sh
//! cd crates/pagination
//! cargo +nightly fuzz run decode_cursor -- -max_total_time=60
//! ```
#![no_main]

use keel_pagination::{CursorCodec, KeyRing, QueryKey, SortSpec, ValueKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (Ok(ring), Ok(spec)) = (
        KeyRing::new(1, &[0x5a; 32]),
        SortSpec::builder()
            .desc("created_at", ValueKind::I64)
            .tiebreaker("id", ValueKind::Uuid),
    ) else {
        return;
    };
    let codec = CursorCodec::new(ring);
    let query = QueryKey::new("fuzz", &spec);
    // As text (what a client sends)...
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(position) = codec.decode(&query, text) {
            let again = codec.encode(&query, &position).ok();
            let back = again.and_then(|c| codec.decode(&query, &c).ok());
            assert!(back.is_some(), "an accepted cursor must round-trip");
        }
    }
    // ...and as raw bytes behind valid base64, which reaches the frame and body parsers.
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data);
    let _ = codec.decode(&query, &encoded);
    // The parsers behind the signature, which random bytes never reach through `decode`.
    keel_pagination::cursor::fuzz_parse_unsigned(data);
});
