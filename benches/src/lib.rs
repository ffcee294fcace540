//! Shared helpers for Keel's criterion benchmarks (`cargo bench -p keel-benches`).
//!
//! Each bench target in `benches/` measures Keel and its peer in one criterion group under the
//! benchmark id its issue names, so a ratio is read from one run. Benchmarks that need a service
//! read its URL from the environment (see [`keel_testkit::Service`]) and skip with a message when
//! it is unreachable.

pub use keel_testkit::Service;

/// A small, fast, deterministic generator (SplitMix64) so benches replay the same key stream.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next pseudo-random value.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value uniformly spread over `0..n` (Lemire's multiply-shift; `n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}
