//! Fixed-memory per-key limiting with a count-min sketch, for floods of distinct keys (per-IP).

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::algorithm::{Algorithm, Gcra, cas};
use crate::clock::{Clock, SystemClock};
use crate::{Decision, InsufficientCapacity, Quota};

/// Rows of the sketch.
const DEPTH: usize = 4;

/// A per-key GCRA whose states live in a count-min sketch: `4 x width` atomic words, whatever
/// the number of keys (as pingora does for per-IP limits).
///
/// A key maps to one cell per row; its TAT is estimated as the smallest of its cells, and an
/// admission raises each of its cells to the new TAT (conservative update). Collisions can only
/// make a key's estimate later, never earlier, so a key is never admitted more than its quota
/// allows, also when threads race on it: the update is lock-free and serialised on the key's
/// smallest cell (`algorithm::cas::update_min`, model-checked with
/// loom). A key that collides in every row with busy keys may be denied early; with `width` at
/// least a few times the number of keys active at once, that is rare.
pub struct SketchLimiter<C: Clock = SystemClock> {
    gcra: Gcra,
    cells: Box<[AtomicU64]>,
    mask: usize,
    hasher: foldhash::fast::RandomState,
    clock: C,
}

impl<C: Clock> SketchLimiter<C> {
    /// A sketch with `width` cells per row (rounded up to a power of two, 16 to 2^24):
    /// memory is `32 * width` bytes.
    pub fn new(quota: Quota, width: usize, clock: C) -> Self {
        let width = width.clamp(16, 1 << 24).next_power_of_two();
        Self {
            gcra: Gcra::new(quota),
            cells: (0..width * DEPTH).map(|_| AtomicU64::new(0)).collect(),
            mask: width - 1,
            hasher: foldhash::fast::RandomState::default(),
            clock,
        }
    }

    /// Bytes of state, fixed at construction.
    pub fn memory_bytes(&self) -> usize {
        self.cells.len() * 8
    }

    #[inline]
    fn cells_of<Q: Hash + ?Sized>(&self, key: &Q) -> [&AtomicU64; DEPTH] {
        let hash = self.hasher.hash_one(key);
        let h1 = hash as usize;
        let h2 = ((hash >> 32) as usize) | 1;
        let width = self.mask + 1;
        std::array::from_fn(|row| {
            let col = h1.wrapping_add(row.wrapping_mul(h2)) & self.mask;
            // `row * width + col < DEPTH * width = cells.len()`: always in range.
            &self.cells[row * width + col]
        })
    }

    /// Checks one unit request for `key`.
    pub fn check<Q: Hash + ?Sized>(&self, key: &Q) -> Decision {
        self.check_n(key, 1)
            .unwrap_or_else(|_| Decision::deny(self.gcra.limit(), 0, 0, 1))
    }

    /// Checks a request of `cost` for `key`.
    ///
    /// # Errors
    /// [`InsufficientCapacity`] when `cost` exceeds the burst.
    pub fn check_n<Q: Hash + ?Sized>(
        &self,
        key: &Q,
        cost: u64,
    ) -> Result<Decision, InsufficientCapacity> {
        let now = self.clock.now();
        let cells = self.cells_of(key);
        cas::update_min(&cells, |tat| self.gcra.check(tat, now, cost))
    }

    /// What a unit request for `key` would get, consuming nothing.
    pub fn peek<Q: Hash + ?Sized>(&self, key: &Q) -> Decision {
        let tat = self
            .cells_of(key)
            .iter()
            .map(|c| c.load(Ordering::Acquire))
            .min()
            .unwrap_or(0);
        self.gcra.peek(&tat, self.clock.now())
    }
}

impl<C: Clock> fmt::Debug for SketchLimiter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SketchLimiter")
            .field("gcra", &self.gcra)
            .field("width", &(self.mask + 1))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;

    #[test]
    fn never_admits_more_than_the_quota_per_key() {
        let clock = ManualClock::new(1_700_000_000_000_000_000);
        // A small sketch, many keys: collisions only make it stricter.
        let sketch = SketchLimiter::new(Quota::per_minute(5).unwrap(), 64, clock);
        let mut admitted = std::collections::HashMap::new();
        for round in 0..20 {
            for key in 0..500u32 {
                if sketch.check(&key).allowed {
                    *admitted.entry(key).or_insert(0) += 1;
                }
                let _ = round;
            }
        }
        assert!(admitted.values().all(|&n| n <= 5));
        assert_eq!(sketch.memory_bytes(), 64 * 4 * 8);
    }
}
