//! The token bucket, stored as one word.

use std::num::NonZeroU64;

use crate::algorithm::{Algorithm, AtomicCell, Divisor, FromQuota};
use crate::{Decision, InsufficientCapacity, Quota};

/// A token bucket: capacity `burst` tokens, one token back every `period / count`, a request of
/// cost `n` takes `n` tokens.
///
/// Refill is continuous and exact: the state is one `u64`, the instant (nanoseconds since the UNIX
/// epoch) at which the bucket was, or would have been, empty; the tokens at `t` are
/// `min(burst, (t - empty_at) / T)`. That makes a check one compare-and-swap with no rounding
/// drift, and the state portable like GCRA's. A continuous token bucket and GCRA admit the same
/// requests (a test in this crate checks it on random traces); use whichever model your
/// documentation speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    quota: Quota,
    /// Non-zero, so divisions by it cannot panic and vanish when their result is unused.
    t: NonZeroU64,
    capacity_span: u64,
    per_t: Divisor,
}

impl TokenBucket {
    /// The quota this algorithm was built from.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// The bucket for `quota`.
    pub fn new(quota: Quota) -> Self {
        let t = NonZeroU64::new(quota.emission_interval_nanos()).unwrap_or(NonZeroU64::MIN);
        Self {
            quota,
            t,
            capacity_span: t.get().saturating_mul(quota.max_burst()),
            per_t: Divisor::new(t),
        }
    }

    /// Whole tokens in the bucket at `now` for the state `empty_at` (0: never used, full).
    #[inline]
    pub fn tokens(&self, empty_at: u64, now: u64) -> u64 {
        if empty_at == 0 {
            return self.quota.max_burst();
        }
        self.per_t
            .div(now.saturating_sub(empty_at))
            .min(self.quota.max_burst())
    }
}

impl FromQuota for TokenBucket {
    fn from_quota(quota: Quota) -> Self {
        Self::new(quota)
    }
}

impl Algorithm for TokenBucket {
    type State = u64;
    type Cell = AtomicCell;

    #[inline]
    fn check(
        &self,
        empty_at: &mut u64,
        now: u64,
        cost: u64,
    ) -> Result<Decision, InsufficientCapacity> {
        let capacity = self.quota.max_burst();
        if cost > capacity {
            return Err(InsufficientCapacity {
                cost,
                limit: capacity,
            });
        }
        // Clamp: a bucket never holds more than `capacity` tokens.
        let full_at_or_before = now.saturating_sub(self.capacity_span);
        let base = (*empty_at).max(full_at_or_before);
        let needed = self.t.get().saturating_mul(cost);
        let ready_at = base.saturating_add(needed);
        if now < ready_at {
            let tokens = self.per_t.div(now.saturating_sub(base));
            return Ok(Decision::deny(
                capacity,
                tokens,
                base.saturating_add(self.capacity_span).saturating_sub(now),
                ready_at - now,
            ));
        }
        if cost > 0 {
            *empty_at = ready_at;
        }
        Ok(Decision::allow(
            capacity,
            self.per_t.div(now - ready_at),
            ready_at
                .saturating_add(self.capacity_span)
                .saturating_sub(now),
        ))
    }

    fn is_idle(&self, empty_at: &u64, now: u64) -> bool {
        empty_at.saturating_add(self.capacity_span) <= now
    }

    fn idle_at(&self, empty_at: &u64) -> u64 {
        empty_at.saturating_add(self.capacity_span)
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
    fn drains_and_refills() {
        let b = TokenBucket::new(Quota::per_second(10).unwrap());
        let mut s = 0;
        let d = b.check(&mut s, EPOCH, 4).unwrap();
        assert!(d.allowed);
        assert_eq!(d.remaining, 6);
        assert_eq!(b.tokens(s, EPOCH), 6);
        assert!(b.check(&mut s, EPOCH, 6).unwrap().allowed);
        let d = b.check(&mut s, EPOCH, 2).unwrap();
        assert!(!d.allowed);
        assert_eq!(d.retry_after.as_millis(), 200);
        assert_eq!(b.tokens(s, EPOCH + 1_000_000_000), 10);
        assert_eq!(b.tokens(s, EPOCH + 50_000_000_000), 10);
        assert!(b.is_idle(&s, EPOCH + 1_000_000_000));
    }

    #[test]
    fn insufficient_capacity() {
        let b = TokenBucket::new(Quota::per_second(10).unwrap());
        assert!(b.check(&mut 0, EPOCH, 11).is_err());
    }
}
