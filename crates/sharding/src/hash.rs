//! The stable hash every strategy uses, and the [`ShardKey`] trait that feeds it.
//!
//! # The hash
//! Keys are hashed with **XXH3-64, seed 0** (xxHash 0.8 specification) over a canonical byte
//! form of the key: strings and byte slices as their bytes, integers as their little-endian
//! bytes. XXH3 is a published, frozen format, so the same key gives the same 64-bit hash on
//! every platform, in every process and in every release of this crate; `std`'s
//! `DefaultHasher` (randomly seeded, and allowed to change between Rust releases) is never
//! used. The tests pin the values against fixed vectors; changing them is a breaking change.
//!
//! Derived values (virtual node points, rendezvous scores, Maglev permutations) are computed
//! from these hashes with the fixed functions of this module, also pinned by tests.

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// The stable 64-bit hash of a byte string: XXH3-64 with seed 0.
///
/// ```
/// assert_eq!(keel_sharding::stable_hash(b""), 0x2d06_8005_38d3_94c2);
/// ```
#[inline]
pub fn stable_hash(bytes: &[u8]) -> u64 {
    xxh3_64(bytes)
}

/// The stable 64-bit hash of a byte string under a seed: XXH3-64 with that seed.
#[inline]
pub fn stable_hash_seeded(bytes: &[u8], seed: u64) -> u64 {
    xxh3_64_with_seed(bytes, seed)
}

/// A fixed, invertible 64-bit mixer (the murmur3 `fmix64` finaliser).
///
/// Used to derive independent-looking values from a key hash and a shard seed (rendezvous
/// scores, Memento rehashes). Pure integer arithmetic, so stable everywhere.
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    x
}

/// Maps a 64-bit hash uniformly onto `0..n` without a division (Lemire's multiply-shift).
#[inline]
pub(crate) fn fast_range(hash: u64, n: u64) -> u64 {
    ((u128::from(hash) * u128::from(n)) >> 64) as u64
}

/// A key that can be sharded: it has a stable 64-bit hash.
///
/// Implemented for strings, byte strings, fixed byte arrays (UUIDs) and integers. Integers
/// hash their little-endian bytes, so `7u64` and `7u32` hash differently: shard a given kind
/// of key with one type. Implement it for your own key types by hashing a canonical byte form
/// with [`stable_hash`].
pub trait ShardKey {
    /// The key's stable hash.
    fn shard_hash(&self) -> u64;
}

impl ShardKey for [u8] {
    #[inline]
    fn shard_hash(&self) -> u64 {
        stable_hash(self)
    }
}

impl ShardKey for str {
    #[inline]
    fn shard_hash(&self) -> u64 {
        stable_hash(self.as_bytes())
    }
}

impl ShardKey for String {
    #[inline]
    fn shard_hash(&self) -> u64 {
        stable_hash(self.as_bytes())
    }
}

impl ShardKey for Vec<u8> {
    #[inline]
    fn shard_hash(&self) -> u64 {
        stable_hash(self)
    }
}

impl<const N: usize> ShardKey for [u8; N] {
    #[inline]
    fn shard_hash(&self) -> u64 {
        stable_hash(self)
    }
}

impl<T: ShardKey + ?Sized> ShardKey for &T {
    #[inline]
    fn shard_hash(&self) -> u64 {
        (**self).shard_hash()
    }
}

macro_rules! int_key {
    ($($t:ty),*) => {$(
        impl ShardKey for $t {
            #[inline]
            fn shard_hash(&self) -> u64 {
                stable_hash(&self.to_le_bytes())
            }
        }
    )*};
}
int_key!(u16, u128, i16, i128);

/// `secret[8..16] ^ secret[16..24]` of XXH3's default secret: the key flip for 4-to-8-byte
/// inputs with seed 0.
const XXH3_FLIP_4TO8: u64 = 0x1cad_21f7_2c81_017c ^ 0xdb97_9083_e96d_d4de;

/// XXH3's avalanche for 4-to-8-byte inputs (`rrmxmx`).
#[inline(always)]
const fn xxh3_rrmxmx(mut h: u64, len: u64) -> u64 {
    h ^= h.rotate_left(49) ^ h.rotate_left(24);
    h = h.wrapping_mul(0x9fb2_1c65_1e98_df25);
    h ^= (h >> 35).wrapping_add(len);
    h = h.wrapping_mul(0x9fb2_1c65_1e98_df25);
    h ^ (h >> 28)
}

/// XXH3-64 (seed 0) of the 8 little-endian bytes of `x`, inlined: equal to
/// `stable_hash(&x.to_le_bytes())` (tested), without the length dispatch.
#[inline(always)]
pub(crate) const fn xxh3_u64(x: u64) -> u64 {
    // input64 = read32(bytes[4..8]) + (read32(bytes[0..4]) << 32)
    xxh3_rrmxmx(x.rotate_left(32) ^ XXH3_FLIP_4TO8, 8)
}

/// XXH3-64 (seed 0) of the 4 little-endian bytes of `x`, inlined.
#[inline(always)]
pub(crate) const fn xxh3_u32(x: u32) -> u64 {
    let v = x as u64;
    xxh3_rrmxmx((v | (v << 32)) ^ XXH3_FLIP_4TO8, 4)
}

impl ShardKey for u64 {
    #[inline]
    fn shard_hash(&self) -> u64 {
        xxh3_u64(*self)
    }
}

impl ShardKey for i64 {
    #[inline]
    fn shard_hash(&self) -> u64 {
        xxh3_u64(*self as u64)
    }
}

impl ShardKey for u32 {
    #[inline]
    fn shard_hash(&self) -> u64 {
        xxh3_u32(*self)
    }
}

impl ShardKey for i32 {
    #[inline]
    fn shard_hash(&self) -> u64 {
        xxh3_u32(*self as u32)
    }
}

/// The hash of a shard id, the seed of its virtual nodes, scores and permutations.
#[inline]
pub(crate) fn shard_seed(shard: u32) -> u64 {
    stable_hash_seeded(&shard.to_le_bytes(), 0x6b65_656c_7368_6172) // "keelshar"
}

/// The ring position of virtual node `vnode` of `shard`.
#[inline]
pub(crate) fn vnode_point(shard: u32, vnode: u32) -> u64 {
    // The 8 bytes `shard LE ++ vnode LE` read as one little-endian u64.
    xxh3_u64(u64::from(shard) | (u64::from(vnode) << 32))
}
