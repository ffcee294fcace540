//! GCRA, the generic cell rate algorithm, on an absolute epoch.

use std::num::NonZeroU64;

use crate::algorithm::{Algorithm, AtomicCell, Divisor, FromQuota};
use crate::{Decision, InsufficientCapacity, Quota};

/// The generic cell rate algorithm (a leaky bucket as a meter), decision for decision the same
/// as governor's.
///
/// The state is one `u64`: the theoretical arrival time (TAT) in nanoseconds since the UNIX
/// epoch, 0 for a key never seen. With emission interval `T = period / count` and tolerance
/// `tau = T * (burst - 1)`, a request of cost `n` arriving at `t` is admitted when
/// `t >= TAT + (n - 1) T - tau`, and then `TAT = max(TAT, t) + n T`. Because the TAT is on the
/// UNIX epoch, the same state can live in memory or in Redis and several instances agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    quota: Quota,
    /// Non-zero, so divisions by it cannot panic and vanish when their result is unused.
    t: NonZeroU64,
    tau: u64,
    per_t: Divisor,
}

impl Gcra {
    /// The quota this algorithm was built from.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// The algorithm for `quota`.
    pub fn new(quota: Quota) -> Self {
        let t = NonZeroU64::new(quota.emission_interval_nanos()).unwrap_or(NonZeroU64::MIN);
        Self {
            quota,
            t,
            tau: t.get().saturating_mul(quota.max_burst().saturating_sub(1)),
            per_t: Divisor::new(t),
        }
    }

    /// The emission interval in nanoseconds.
    pub fn emission_interval(&self) -> u64 {
        self.t.get()
    }

    /// Unit requests admissible at `now` for a TAT of `tat`.
    #[inline]
    fn remaining(&self, tat: u64, now: u64) -> u64 {
        let horizon = now.saturating_add(self.tau);
        if horizon < tat {
            0
        } else {
            (self.per_t.div(horizon - tat) + 1).min(self.quota.max_burst())
        }
    }
}

impl FromQuota for Gcra {
    fn from_quota(quota: Quota) -> Self {
        Self::new(quota)
    }
}

impl Algorithm for Gcra {
    type State = u64;
    type Cell = AtomicCell;

    #[inline]
    fn check(&self, tat: &mut u64, now: u64, cost: u64) -> Result<Decision, InsufficientCapacity> {
        let limit = self.quota.max_burst();
        if cost > limit {
            return Err(InsufficientCapacity { cost, limit });
        }
        let current = if *tat == 0 { now } else { *tat };
        if cost == 0 {
            return Ok(Decision::allow(
                limit,
                self.remaining(current, now),
                current.saturating_sub(now),
            ));
        }
        let additional = self.t.get().saturating_mul(cost - 1);
        let earliest = current.saturating_add(additional).saturating_sub(self.tau);
        if now < earliest {
            return Ok(Decision::deny(
                limit,
                self.remaining(current, now),
                current.saturating_sub(now),
                earliest - now,
            ));
        }
        let next = current
            .max(now)
            .saturating_add(self.t.get())
            .saturating_add(additional);
        *tat = next;
        Ok(Decision::allow(
            limit,
            self.remaining(next, now),
            next.saturating_sub(now),
        ))
    }

    fn peek(&self, tat: &u64, now: u64) -> Decision {
        let current = if *tat == 0 { now } else { *tat };
        let remaining = self.remaining(current, now);
        let reset = current.saturating_sub(now);
        if remaining > 0 {
            Decision::allow(self.quota.max_burst(), remaining, reset)
        } else {
            let earliest = current.saturating_sub(self.tau);
            Decision::deny(
                self.quota.max_burst(),
                0,
                reset,
                earliest.saturating_sub(now),
            )
        }
    }

    #[inline]
    fn is_idle(&self, tat: &u64, now: u64) -> bool {
        *tat <= now
    }

    fn idle_at(&self, tat: &u64) -> u64 {
        *tat
    }

    fn limit(&self) -> u64 {
        self.quota.max_burst()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCH: u64 = 1_700_000_000_000_000_000;

    #[test]
    fn burst_then_steady_rate() {
        let g = Gcra::new(Quota::per_second(10).unwrap().burst(3).unwrap());
        let mut s = 0;
        let mut admitted = 0;
        for _ in 0..10 {
            if g.check(&mut s, EPOCH, 1).unwrap().allowed {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 3);
        let d = g.check(&mut s, EPOCH, 1).unwrap();
        assert!(!d.allowed);
        assert_eq!(d.retry_after.as_nanos(), 100_000_000);
        assert!(g.check(&mut s, EPOCH + 100_000_000, 1).unwrap().allowed);
    }

    #[test]
    fn remaining_counts_down() {
        let g = Gcra::new(Quota::per_second(5).unwrap());
        let mut s = 0;
        for expect in (0..5).rev() {
            let d = g.check(&mut s, EPOCH, 1).unwrap();
            assert!(d.allowed);
            assert_eq!(d.remaining, expect);
        }
        assert_eq!(g.peek(&s, EPOCH).remaining, 0);
        assert!(!g.peek(&s, EPOCH).allowed);
    }

    #[test]
    fn cost_over_burst_is_an_error() {
        let g = Gcra::new(Quota::per_second(5).unwrap());
        assert_eq!(
            g.check(&mut 0, EPOCH, 6),
            Err(InsufficientCapacity { cost: 6, limit: 5 })
        );
        assert!(g.check(&mut 0, EPOCH, u64::MAX).is_err());
    }

    #[test]
    fn extreme_times_do_not_panic() {
        let g = Gcra::new(Quota::per_hour(1).unwrap().burst(1000).unwrap());
        let mut s = u64::MAX - 5;
        for now in [0, 1, u64::MAX, u64::MAX - 1, 0] {
            let _ = g.check(&mut s, now, 1000);
            let _ = g.peek(&s, now);
        }
    }
}
