//! Identifiers: [`UserId`], [`PostId`], [`CommentId`] and the [`IdGenerator`] that mints them.
//!
//! Ids are UUIDv7 (RFC 9562): 48 bits of Unix milliseconds taken from the injected clock, then a
//! 74-bit counter (RFC 9562 "method 1") re-seeded every millisecond from a seed. Ids from one
//! generator are strictly increasing, even when the clock stands still or steps back, so sorting by
//! id is sorting by creation. Two generators with the same seed and the same clock readings mint
//! the same ids, which is what lets the differential tests compare backends id for id.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Timestamp;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The underlying UUID.
            pub const fn as_uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A user's id.
    UserId
);
id_type!(
    /// A post's id.
    PostId
);
id_type!(
    /// A comment's id.
    CommentId
);

const COUNTER_BITS: u32 = 74;
const COUNTER_MASK: u128 = (1u128 << COUNTER_BITS) - 1;

/// Most shards an id can name ([`IdGenerator::for_shard`]): the tag is the id's last byte.
pub const MAX_ID_SHARDS: u32 = 256;

/// The shard an id minted by [`IdGenerator::for_shard`] with `shards` shards belongs to: its
/// last byte modulo `shards` (0 when `shards` is 0).
pub fn shard_of(id: Uuid, shards: u32) -> u32 {
    let tag = u32::from(id.as_bytes()[15]);
    tag.checked_rem(shards).unwrap_or(0)
}

/// Mints UUIDv7 ids from clock readings; see the [module docs](self).
#[derive(Debug)]
pub struct IdGenerator {
    seed: u64,
    state: std::sync::Arc<Mutex<(i64, u128)>>,
    /// `(shard, shards)`: only ids with `shard_of(id, shards) == shard` are handed out.
    tag: Option<(u32, u32)>,
}

impl IdGenerator {
    /// A generator with a random seed (production).
    pub fn random() -> Self {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x6b65_656c);
        Self::seeded(h.finish())
    }

    /// A generator with a fixed seed: the same seed and clock readings give the same ids.
    pub fn seeded(seed: u64) -> Self {
        Self {
            seed,
            state: std::sync::Arc::new(Mutex::new((i64::MIN, 0))),
            tag: None,
        }
    }

    /// A view of this generator that mints only ids naming `shard` of `shards`
    /// ([`shard_of`]), sharing this generator's sequence: ids from every view of one generator
    /// are still strictly increasing together, so rows on different shards sort by creation.
    /// The view skips the ids of other shards (about `shards` mints per id; at most 256).
    ///
    /// # Errors
    /// `InvalidInput` unless `shard < shards <= 256`.
    pub fn for_shard(&self, shard: u32, shards: u32) -> crate::error::Result<Self> {
        if shards == 0 || shards > MAX_ID_SHARDS || shard >= shards {
            return Err(crate::error::StorageError::invalid(
                "shards",
                format!("a shard below the shard count, and 1 to {MAX_ID_SHARDS} shards"),
            ));
        }
        Ok(Self {
            seed: self.seed,
            state: std::sync::Arc::clone(&self.state),
            tag: Some((shard, shards)),
        })
    }

    /// The next id for a row created at `now`. Strictly greater than every id minted before.
    pub fn next_at(&self, now: Timestamp) -> Uuid {
        let Some((shard, shards)) = self.tag else {
            return self.mint(now);
        };
        // Consecutive mints of one millisecond step the counter by one, so the last byte takes
        // every value within 256 mints: the loop ends within 256 rounds.
        let mut id = self.mint(now);
        for _ in 0..MAX_ID_SHARDS {
            if shard_of(id, shards) == shard {
                break;
            }
            id = self.mint(now);
        }
        id
    }

    fn mint(&self, now: Timestamp) -> Uuid {
        let mut state = self.state.lock();
        let (last_ms, last_counter) = *state;
        let now_ms = now.as_millis().clamp(0, (1i64 << 48) - 1);
        let (ms, counter) = if now_ms > last_ms {
            (now_ms, self.reseed(now_ms))
        } else if last_counter < COUNTER_MASK {
            (last_ms, last_counter + 1)
        } else {
            // Counter exhausted within one millisecond (2^73 ids): borrow the next millisecond.
            let next = last_ms.saturating_add(1);
            (next, self.reseed(next))
        };
        *state = (ms, counter);
        drop(state);
        Self::build(ms, counter)
    }

    /// A counter start for millisecond `ms`: 73 random-looking bits (the top bit stays clear so
    /// the millisecond has room for 2^73 increments).
    fn reseed(&self, ms: i64) -> u128 {
        let a = splitmix64(self.seed ^ ms.cast_unsigned());
        let b = splitmix64(a);
        ((u128::from(a) << 64) | u128::from(b)) & (COUNTER_MASK >> 1)
    }

    fn build(ms: i64, counter: u128) -> Uuid {
        let ms = u128::from(ms.cast_unsigned() & ((1 << 48) - 1));
        let rand_a = (counter >> 62) & 0xfff;
        let rand_b = counter & ((1u128 << 62) - 1);
        let v = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b;
        Uuid::from_u128(v)
    }
}

impl Default for IdGenerator {
    fn default() -> Self {
        Self::random()
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_are_v7_and_carry_the_clock_millisecond() {
        let g = IdGenerator::seeded(1);
        let id = g.next_at(Timestamp::from_millis(1_700_000_000_123));
        assert_eq!(id.get_version_num(), 7);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        let (secs, nanos) = id.get_timestamp().map(|t| t.to_unix()).unwrap();
        assert_eq!(secs, 1_700_000_000);
        assert_eq!(nanos, 123_000_000);
    }

    #[test]
    fn same_seed_same_ids() {
        let (a, b) = (IdGenerator::seeded(9), IdGenerator::seeded(9));
        for ms in [5, 5, 6, 6, 6, 10] {
            assert_eq!(
                a.next_at(Timestamp::from_millis(ms)),
                b.next_at(Timestamp::from_millis(ms))
            );
        }
    }

    #[test]
    fn shard_views_reject_bad_counts() {
        let g = IdGenerator::seeded(1);
        assert!(g.for_shard(0, 0).is_err());
        assert!(g.for_shard(4, 4).is_err());
        assert!(g.for_shard(0, MAX_ID_SHARDS + 1).is_err());
        assert!(g.for_shard(255, MAX_ID_SHARDS).is_ok());
        assert_eq!(shard_of(Uuid::nil(), 0), 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Views of one generator mint ids naming their shard, strictly increasing together.
        #[test]
        fn shard_views_tag_ids_and_share_one_order(
            seed in any::<u64>(),
            shards in 1u32..=MAX_ID_SHARDS,
            mints in proptest::collection::vec((any::<u32>(), 0i64..3_000), 1..100),
        ) {
            let g = IdGenerator::seeded(seed);
            let views: Vec<IdGenerator> =
                (0..shards).map(|s| g.for_shard(s, shards).unwrap()).collect();
            let mut last = Uuid::nil();
            for (pick, t) in mints {
                let shard = pick % shards;
                let id = views[shard as usize].next_at(Timestamp::from_micros(t));
                prop_assert_eq!(shard_of(id, shards), shard);
                prop_assert!(id > last);
                prop_assert_eq!(id.get_version_num(), 7);
                last = id;
            }
        }

        #[test]
        fn ids_strictly_increase_whatever_the_clock_does(
            seed in any::<u64>(),
            times in proptest::collection::vec(0i64..1_000_000, 1..200),
        ) {
            let g = IdGenerator::seeded(seed);
            let mut last = Uuid::nil();
            for t in times {
                let id = g.next_at(Timestamp::from_micros(t));
                prop_assert!(id > last);
                prop_assert_eq!(id.get_version_num(), 7);
                last = id;
            }
        }
    }
}
