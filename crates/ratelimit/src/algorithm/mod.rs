//! The limiting algorithms: small state machines over an injected time.
//!
//! Each algorithm is a value holding its parameters (built from a [`Quota`]) and a plain-data
//! state type. [`Algorithm::check`] takes the state, the current time (nanoseconds since the UNIX
//! epoch) and a cost, and returns the same [`Decision`] for every algorithm. A denial never
//! changes the state, so a store may skip the write-back.
//!
//! The state is stored by whoever owns it: a direct limiter in one [`StateCell`], the keyed
//! store in its map, a Redis backend in a key. Nothing here knows which.

mod fixed_window;
mod gcra;
mod sliding_counter;
mod sliding_log;
mod token_bucket;

pub use fixed_window::{FixedWindow, WindowState};
pub use gcra::Gcra;
pub use sliding_counter::{SlidingCounterState, SlidingWindowCounter};
pub use sliding_log::{SlidingLogState, SlidingWindowLog};
pub use token_bucket::TokenBucket;

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Decision, InsufficientCapacity, Quota};

/// A rate-limiting algorithm: parameters plus a state machine over time.
pub trait Algorithm: Send + Sync + Debug {
    /// The per-limiter (or per-key) state. `Default` is the state of a key never seen: a full
    /// allowance.
    type State: Default + Clone + PartialEq + Send + Sync + Debug;
    /// How a direct limiter stores one state shared between threads.
    type Cell: StateCell<Self::State>;

    /// Decides on a request of `cost` at time `now`, updating `state` only when admitted.
    ///
    /// # Errors
    /// [`InsufficientCapacity`] when `cost` exceeds [`Algorithm::limit`]: no wait would help.
    fn check(
        &self,
        state: &mut Self::State,
        now: u64,
        cost: u64,
    ) -> Result<Decision, InsufficientCapacity>;

    /// The decision a unit-cost request would get now, without consuming anything.
    fn peek(&self, state: &Self::State, now: u64) -> Decision {
        let mut copy = state.clone();
        // A unit cost always fits: every limit is at least 1.
        self.check(&mut copy, now, 1)
            .unwrap_or_else(|_| Decision::deny(self.limit(), 0, 0, 1))
    }

    /// Whether `state` admits exactly what a fresh state would, at `now` and later: such a key
    /// can be dropped from a store without changing any decision.
    fn is_idle(&self, state: &Self::State, now: u64) -> bool;

    /// The time at which `state` becomes idle (used to pick eviction victims: earliest first).
    fn idle_at(&self, state: &Self::State) -> u64;

    /// The most a single request may cost.
    fn limit(&self) -> u64;
}

/// Builds an algorithm from a quota (every algorithm of this crate implements it).
pub trait FromQuota: Algorithm + Clone + Sized {
    /// The algorithm for `quota`.
    fn from_quota(quota: Quota) -> Self;
}

/// A place a direct limiter keeps one state shared by many threads.
pub trait StateCell<S>: Default + Send + Sync + Debug {
    /// Runs `f` on the state and stores the result. `f` may be called more than once (lock-free
    /// cells retry on contention) and must be a pure function of the state it is given.
    fn update<R>(&self, f: impl FnMut(&mut S) -> R) -> R;
    /// A copy of the state.
    fn get(&self) -> S;
}

/// A lock-free cell for one-word states (GCRA, token bucket): a compare-and-swap loop that writes
/// only when the state changed (a denial writes nothing). It sits alone on its cache line, so
/// the compare-and-swap never evicts the limiter's read-only parameters from other cores.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct AtomicCell(AtomicU64);

impl StateCell<u64> for AtomicCell {
    #[inline]
    fn update<R>(&self, f: impl FnMut(&mut u64) -> R) -> R {
        cas::update(&self.0, f)
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// The compare-and-swap loop behind [`AtomicCell`], generic over the atomic word so the loom
/// model test (`tests/loom.rs`) checks this very code with loom's atomics.
#[doc(hidden)]
pub mod cas {
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A 64-bit atomic word.
    pub trait Word {
        /// Loads with acquire ordering.
        fn load_acquire(&self) -> u64;
        /// A weak compare-and-swap with acquire-release ordering.
        fn cas_weak(&self, current: u64, new: u64) -> Result<u64, u64>;
        /// Raises the word to at least `value` (acquire-release).
        fn raise(&self, value: u64);
    }

    impl Word for AtomicU64 {
        #[inline]
        fn load_acquire(&self) -> u64 {
            self.load(Ordering::Acquire)
        }

        #[inline]
        fn cas_weak(&self, current: u64, new: u64) -> Result<u64, u64> {
            self.compare_exchange_weak(current, new, Ordering::AcqRel, Ordering::Acquire)
        }

        #[inline]
        fn raise(&self, value: u64) {
            self.fetch_max(value, Ordering::AcqRel);
        }
    }

    /// Runs `f` on a copy of the word and publishes the result with a CAS, retrying on
    /// contention; writes nothing when `f` leaves the value unchanged (a denial).
    #[inline]
    pub fn update<W: Word + ?Sized, R>(word: &W, mut f: impl FnMut(&mut u64) -> R) -> R {
        let mut current = word.load_acquire();
        loop {
            let mut next = current;
            let result = f(&mut next);
            if next == current {
                return result;
            }
            match word.cas_weak(current, next) {
                Ok(_) => return result,
                Err(actual) => current = actual,
            }
        }
    }

    /// The same for a state kept as the minimum of several words (a count-min sketch's cells
    /// for one key), with no request admitted twice on one state.
    ///
    /// `f` runs on the smallest word (the lowest index on ties: the *witness*). When it changes
    /// the state, every other word is first raised to the new value, then the witness is moved
    /// from the value `f` saw to the new one with a CAS; if the CAS fails (someone changed the
    /// witness), the whole step is retried on fresh values. Words only grow, so a witness value
    /// cannot come back (no ABA), and a thread that reads after a successful CAS sees every word
    /// at the new value or above: two updates of one key can never both start from the same
    /// state. A retried step may leave other words raised: that only makes the estimate
    /// stricter, never admits more. `words` must not be empty (an empty set changes nothing).
    #[inline]
    pub fn update_min<W: Word + ?Sized, R>(words: &[&W], mut f: impl FnMut(&mut u64) -> R) -> R {
        loop {
            let mut witness = 0;
            let mut current = u64::MAX;
            for (i, w) in words.iter().enumerate() {
                let v = w.load_acquire();
                if v < current {
                    current = v;
                    witness = i;
                }
            }
            if words.is_empty() {
                current = 0;
            }
            let mut next = current;
            let result = f(&mut next);
            if next == current {
                return result;
            }
            for (i, w) in words.iter().enumerate() {
                if i != witness {
                    w.raise(next);
                }
            }
            match words.get(witness) {
                Some(w) if w.cas_weak(current, next).is_err() => continue,
                _ => return result,
            }
        }
    }
}

/// A cell for larger states, behind a short critical section (no allocation, no await inside).
#[derive(Debug, Default)]
pub struct LockedCell<S>(parking_lot::Mutex<S>);

impl<S: Default + Clone + Send + Debug> StateCell<S> for LockedCell<S> {
    fn update<R>(&self, mut f: impl FnMut(&mut S) -> R) -> R {
        f(&mut self.0.lock())
    }

    fn get(&self) -> S {
        self.0.lock().clone()
    }
}

/// Division by a fixed non-zero divisor through a precomputed reciprocal: one 128-bit multiply
/// and one correction instead of a 64-bit `div` (tens of cycles), for the `remaining` counts
/// every decision carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Divisor {
    d: std::num::NonZeroU64,
    /// `floor((2^64 - 1) / d)`.
    m: u64,
}

impl Divisor {
    pub(crate) fn new(d: std::num::NonZeroU64) -> Self {
        Self {
            d,
            m: u64::MAX / d.get(),
        }
    }

    /// `n / d`, exactly.
    #[inline]
    pub(crate) fn div(self, n: u64) -> u64 {
        // q = floor(n * m / 2^64) is q_exact or q_exact - 1, since m <= 2^64 / d < m + 1.
        let q = ((u128::from(n) * u128::from(self.m)) >> 64) as u64;
        let r = n - q * self.d.get();
        q + u64::from(r >= self.d.get())
    }
}

#[cfg(test)]
mod tests {
    use super::Divisor;
    use proptest::prelude::*;
    use std::num::NonZeroU64;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn divisor_is_exact(d in 1u64.., n in any::<u64>()) {
            let div = Divisor::new(NonZeroU64::new(d).unwrap());
            prop_assert_eq!(div.div(n), n / d);
        }

        #[test]
        fn divisor_is_exact_small(d in 1u64..1000, n in any::<u64>()) {
            let div = Divisor::new(NonZeroU64::new(d).unwrap());
            prop_assert_eq!(div.div(n), n / d);
            prop_assert_eq!(div.div(u64::MAX - n % 7), (u64::MAX - n % 7) / d);
        }
    }
}
