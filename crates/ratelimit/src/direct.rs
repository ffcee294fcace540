//! The direct (unkeyed) limiter: one state shared by every caller.

use std::fmt;

use crate::algorithm::{Algorithm, FromQuota, Gcra, StateCell};
use crate::clock::{Clock, SystemClock};
use crate::{Decision, InsufficientCapacity, Quota};

/// One limit for everything that calls it (a global or per-process limit).
///
/// GCRA and the token bucket keep their state in one atomic word (a check is one clock read
/// and one compare-and-swap); the window algorithms behind a short lock.
///
/// ```
/// use keel_ratelimit::{DirectLimiter, Gcra, ManualClock, Quota};
/// let clock = ManualClock::starting_now();
/// let limiter = DirectLimiter::<Gcra, _>::with_clock(Quota::per_second(2)?, clock.clone());
/// assert!(limiter.check().allowed);
/// assert!(limiter.check().allowed);
/// assert!(!limiter.check().allowed);
/// clock.advance(std::time::Duration::from_millis(500));
/// assert!(limiter.check().allowed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DirectLimiter<A: Algorithm = Gcra, C: Clock = SystemClock> {
    algorithm: A,
    state: A::Cell,
    clock: C,
}

impl<A: FromQuota> DirectLimiter<A, SystemClock> {
    /// A limiter for `quota` on the system clock.
    pub fn new(quota: Quota) -> Self {
        Self::with_clock(quota, SystemClock::new())
    }
}

impl<A: FromQuota, C: Clock> DirectLimiter<A, C> {
    /// A limiter for `quota` on `clock`.
    pub fn with_clock(quota: Quota, clock: C) -> Self {
        Self::from_algorithm(A::from_quota(quota), clock)
    }

    /// Replaces the quota, keeping the state (for GCRA: the theoretical arrival time).
    pub fn set_quota(&mut self, quota: Quota) {
        self.algorithm = A::from_quota(quota);
    }
}

impl<A: Algorithm, C: Clock> DirectLimiter<A, C> {
    /// A limiter running `algorithm` on `clock`.
    pub fn from_algorithm(algorithm: A, clock: C) -> Self {
        Self {
            algorithm,
            state: A::Cell::default(),
            clock,
        }
    }

    /// Checks one unit-cost request.
    ///
    /// Inlined into the caller, so a caller that reads only [`Decision::allowed`] pays for none
    /// of the other fields.
    #[inline(always)]
    pub fn check(&self) -> Decision {
        let now = self.clock.now();
        let algorithm = &self.algorithm;
        self.state.update(|s| {
            algorithm
                .check(s, now, 1)
                .unwrap_or_else(|_| Decision::deny(algorithm.limit(), 0, 0, 1))
        })
    }

    /// Checks a request costing `cost` units; a denial consumes nothing.
    ///
    /// # Errors
    /// [`InsufficientCapacity`] when `cost` exceeds the limit: it could never be admitted.
    #[inline(always)]
    pub fn check_n(&self, cost: u64) -> Result<Decision, InsufficientCapacity> {
        let now = self.clock.now();
        let algorithm = &self.algorithm;
        self.state.update(|s| algorithm.check(s, now, cost))
    }

    /// What a unit request would get now, consuming nothing.
    pub fn peek(&self) -> Decision {
        self.algorithm.peek(&self.state.get(), self.clock.now())
    }

    /// The algorithm (and through it the quota).
    pub fn algorithm(&self) -> &A {
        &self.algorithm
    }

    /// A copy of the current state (plain data on the UNIX epoch).
    pub fn state(&self) -> A::State {
        self.state.get()
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }
}

impl<A: Algorithm, C: Clock> fmt::Debug for DirectLimiter<A, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectLimiter")
            .field("algorithm", &self.algorithm)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}
