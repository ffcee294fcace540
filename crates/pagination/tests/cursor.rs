//! Cursor codec: round trips, each typed rejection, rotation, expiry, size.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keel_pagination::cursor::{CURSOR_VERSION, MAX_CURSOR_LEN};
use keel_pagination::{
    CursorCodec, CursorError, KeyRing, ManualClock, Nulls, Position, QueryKey, SortSpec, SortValue,
    ValueKind,
};
use proptest::prelude::*;
use uuid::Uuid;

fn spec() -> SortSpec {
    SortSpec::builder()
        .desc("created_at", ValueKind::I64)
        .tiebreaker("id", ValueKind::Uuid)
        .unwrap()
}

fn codec() -> CursorCodec {
    CursorCodec::new(KeyRing::new(1, &[1u8; 32]).unwrap())
}

fn query() -> QueryKey {
    QueryKey::new("posts", &spec()).filter("author", "42")
}

fn position() -> Position {
    Position::after(vec![
        SortValue::I64(1_764_000_000_000_000),
        SortValue::Uuid(Uuid::from_u128(0x0190_1234_5678_7abc_8def_0123_4567_89ab)),
    ])
}

#[test]
fn two_field_cursor_is_short_and_url_safe() {
    let c = codec().encode(&query(), &position()).unwrap();
    assert!(c.len() < 128, "cursor is {} chars: {c}", c.len());
    assert!(
        c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    // With an expiry it still fits.
    let clock = Arc::new(ManualClock::new(1_764_000_000));
    let c = codec()
        .with_clock(clock)
        .with_ttl(Duration::from_secs(3600))
        .encode(&query(), &position())
        .unwrap();
    assert!(c.len() < 128, "cursor is {} chars", c.len());
}

#[test]
fn edge_and_inclusive_positions_round_trip() {
    for p in [
        Position::edge(),
        Position::at(position().values().to_vec()),
        position(),
    ] {
        let c = codec().encode(&query(), &p).unwrap();
        assert_eq!(codec().decode(&query(), &c).unwrap(), p);
    }
}

#[test]
fn garbage_is_malformed() {
    for bad in ["", "!!!", "a b", "%00", "ABC="] {
        let e = codec().decode(&query(), bad).unwrap_err();
        assert!(matches!(e, CursorError::Malformed { .. }), "{bad:?}: {e:?}");
        assert_eq!(e.http_status(), 400);
    }
}

#[test]
fn too_long_is_rejected_before_decoding() {
    let long = "A".repeat(MAX_CURSOR_LEN + 1);
    assert!(matches!(
        codec().decode(&query(), &long),
        Err(CursorError::TooLong { .. })
    ));
}

#[test]
fn every_proper_prefix_is_truncated_or_malformed_never_accepted() {
    let c = codec().encode(&query(), &position()).unwrap();
    let bytes = URL_SAFE_NO_PAD.decode(&c).unwrap();
    for n in 2..bytes.len() {
        let cut = URL_SAFE_NO_PAD.encode(&bytes[..n]);
        assert_eq!(
            codec().decode(&query(), &cut),
            Err(CursorError::Truncated),
            "prefix of {n} bytes"
        );
    }
    // Cutting the text itself (as a URL limit would) is also rejected.
    for n in 1..c.len() {
        assert!(codec().decode(&query(), &c[..n]).is_err());
    }
}

#[test]
fn any_flipped_bit_is_rejected() {
    let c = codec().encode(&query(), &position()).unwrap();
    let bytes = URL_SAFE_NO_PAD.decode(&c).unwrap();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut t = bytes.clone();
            t[i] ^= 1 << bit;
            let e = codec()
                .decode(&query(), &URL_SAFE_NO_PAD.encode(&t))
                .unwrap_err();
            match i {
                0 => assert!(matches!(e, CursorError::UnknownVersion { .. }), "{e:?}"),
                1 => assert!(matches!(e, CursorError::UnknownKey { .. }), "{e:?}"),
                // The length byte: the frame no longer adds up.
                3 => assert!(
                    matches!(e, CursorError::Truncated | CursorError::Malformed { .. }),
                    "{e:?}"
                ),
                _ => assert_eq!(e, CursorError::Tampered, "byte {i} bit {bit}"),
            }
        }
    }
}

#[test]
fn signature_from_another_server_is_tampered() {
    let other = CursorCodec::new(KeyRing::new(1, &[2u8; 32]).unwrap());
    let c = other.encode(&query(), &position()).unwrap();
    assert_eq!(codec().decode(&query(), &c), Err(CursorError::Tampered));
}

#[test]
fn foreign_query_is_refused() {
    let c = codec().encode(&query(), &position()).unwrap();
    let other_filter = QueryKey::new("posts", &spec()).filter("author", "43");
    assert_eq!(
        codec().decode(&other_filter, &c),
        Err(CursorError::ForeignQuery)
    );
    let other_sort = SortSpec::builder()
        .asc("created_at", ValueKind::I64)
        .tiebreaker("id", ValueKind::Uuid)
        .unwrap();
    let other_sort = QueryKey::new("posts", &other_sort).filter("author", "42");
    assert_eq!(
        codec().decode(&other_sort, &c),
        Err(CursorError::ForeignQuery)
    );
    let nullable = SortSpec::builder()
        .desc_nullable("created_at", ValueKind::I64, Nulls::Last)
        .tiebreaker("id", ValueKind::Uuid)
        .unwrap();
    let nullable = QueryKey::new("posts", &nullable).filter("author", "42");
    assert_eq!(
        codec().decode(&nullable, &c),
        Err(CursorError::ForeignQuery)
    );
}

#[test]
fn unknown_version_is_its_own_error() {
    let c = codec().encode(&query(), &position()).unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(&c).unwrap();
    bytes[0] = CURSOR_VERSION + 1;
    assert_eq!(
        codec().decode(&query(), &URL_SAFE_NO_PAD.encode(&bytes)),
        Err(CursorError::UnknownVersion {
            version: CURSOR_VERSION + 1,
            supported: CURSOR_VERSION
        })
    );
}

#[test]
fn expiry_follows_the_injected_clock() {
    let clock = Arc::new(ManualClock::new(1_000));
    let codec = codec()
        .with_clock(clock.clone())
        .with_ttl(Duration::from_secs(60));
    let c = codec.encode(&query(), &position()).unwrap();
    clock.advance(59);
    assert_eq!(codec.decode(&query(), &c).unwrap(), position());
    clock.advance(1);
    assert_eq!(
        codec.decode(&query(), &c),
        Err(CursorError::Expired { expired_at: 1_060 })
    );
}

#[test]
fn rotation_newest_signs_all_verify_retired_is_unknown() {
    let old = CursorCodec::new(KeyRing::new(1, &[1u8; 32]).unwrap());
    let old_cursor = old.encode(&query(), &position()).unwrap();
    let ring = KeyRing::new(1, &[1u8; 32])
        .unwrap()
        .with_key(2, &[2u8; 32])
        .unwrap();
    assert_eq!(ring.signing_key_id(), 2);
    let rotated = CursorCodec::new(ring.clone());
    assert_eq!(rotated.decode(&query(), &old_cursor).unwrap(), position());
    let new_cursor = rotated.encode(&query(), &position()).unwrap();
    // The old-only server does not know key 2.
    assert_eq!(
        old.decode(&query(), &new_cursor),
        Err(CursorError::UnknownKey { key_id: 2 })
    );
    let retired = CursorCodec::new(ring.without_key(1));
    assert_eq!(
        retired.decode(&query(), &old_cursor),
        Err(CursorError::UnknownKey { key_id: 1 })
    );
    assert_eq!(retired.decode(&query(), &new_cursor).unwrap(), position());
}

#[test]
fn weak_or_duplicate_keys_are_refused() {
    assert!(KeyRing::new(1, &[0u8; 31]).is_err());
    assert!(
        KeyRing::new(1, &[0u8; 32])
            .unwrap()
            .with_key(1, &[1u8; 32])
            .is_err()
    );
    assert!(KeyRing::from_keys(std::iter::empty()).is_err());
    assert!(!format!("{:?}", KeyRing::new(9, &[0xAB; 32]).unwrap()).contains("171"));
}

#[test]
fn oversized_position_is_an_encode_error() {
    let p = Position::after(vec![SortValue::Text("x".repeat(2_000))]);
    assert!(matches!(
        codec().encode(&query(), &p),
        Err(CursorError::PositionTooLarge { .. })
    ));
}

fn value() -> impl Strategy<Value = SortValue> {
    prop_oneof![
        Just(SortValue::Null),
        any::<bool>().prop_map(SortValue::Bool),
        any::<i64>().prop_map(SortValue::I64),
        any::<u64>().prop_map(|b| SortValue::F64(f64::from_bits(b))),
        ".{0,20}".prop_map(SortValue::Text),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(SortValue::Bytes),
        any::<u128>().prop_map(|u| SortValue::Uuid(Uuid::from_u128(u))),
    ]
}

/// Float positions compare by bits (NaN payloads included).
fn same(a: &Position, b: &Position) -> bool {
    a.is_inclusive() == b.is_inclusive()
        && a.values().len() == b.values().len()
        && a.values()
            .iter()
            .zip(b.values())
            .all(|(x, y)| match (x, y) {
                (SortValue::F64(x), SortValue::F64(y)) => x.to_bits() == y.to_bits(),
                _ => x == y,
            })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_position_round_trips(values in proptest::collection::vec(value(), 0..6), inclusive: bool) {
        let p = if inclusive { Position::at(values) } else { Position::after(values) };
        let c = codec().encode(&query(), &p).unwrap();
        prop_assert!(c.len() <= MAX_CURSOR_LEN);
        let back = codec().decode(&query(), &c).unwrap();
        prop_assert!(same(&back, &p), "{:?} != {:?}", back, p);
    }

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,200}") {
        let _ = codec().decode(&query(), &s);
    }

    #[test]
    fn arbitrary_bytes_never_accepted(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        prop_assert!(codec().decode(&query(), &URL_SAFE_NO_PAD.encode(&bytes)).is_err());
    }
}
