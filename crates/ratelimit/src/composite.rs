//! Several limits on one request (10/s and 1000/h): all must admit, atomically.

use crate::algorithm::{Algorithm, FromQuota, Gcra, LockedCell};
use crate::{Decision, InsufficientCapacity, Quota};

/// Several limits checked as one: a request is admitted only if every limit admits it, and a
/// denial by one consumes nothing from the others (each limit decides on a copy of its state;
/// the copies are committed only when all admit).
///
/// The state is one state per limit, kept together, so the keyed store checks all of a key's
/// limits under one lock: no other request can slip between them.
///
/// ```
/// use keel_ratelimit::{AllOf, DirectLimiter, Gcra, KeyedLimiter, ManualClock, Quota};
/// let clock = ManualClock::starting_now();
/// let both = AllOf::<Gcra>::from_quotas(&[Quota::per_second(10)?, Quota::per_hour(1000)?]);
/// let limiter = DirectLimiter::from_algorithm(both, clock);
/// assert_eq!(limiter.check().remaining, 9); // the 10/s limit is the tighter
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllOf<A = Gcra> {
    limits: Vec<A>,
}

impl<A: Algorithm> AllOf<A> {
    /// Combines `limits`. With no limit at all, every request is admitted.
    pub fn new(limits: Vec<A>) -> Self {
        Self { limits }
    }

    /// The limits.
    pub fn limits(&self) -> &[A] {
        &self.limits
    }
}

impl<A: FromQuota> AllOf<A> {
    /// One limit per quota.
    pub fn from_quotas(quotas: &[Quota]) -> Self {
        Self::new(quotas.iter().map(|&q| A::from_quota(q)).collect())
    }
}

impl<A: Algorithm> Algorithm for AllOf<A> {
    type State = Vec<A::State>;
    type Cell = LockedCell<Vec<A::State>>;

    fn check(
        &self,
        state: &mut Vec<A::State>,
        now: u64,
        cost: u64,
    ) -> Result<Decision, InsufficientCapacity> {
        let mut next = state.clone();
        next.resize(self.limits.len(), A::State::default());
        let mut combined: Option<Decision> = None;
        for (limit, s) in self.limits.iter().zip(next.iter_mut()) {
            let d = limit.check(s, now, cost)?;
            combined = Some(combined.map_or(d, |c| c.most_restrictive(d)));
        }
        let decision = combined.unwrap_or(Decision::allow(u64::MAX, u64::MAX, 0));
        if decision.allowed {
            *state = next;
        }
        Ok(decision)
    }

    fn peek(&self, state: &Vec<A::State>, now: u64) -> Decision {
        let fresh = A::State::default();
        self.limits
            .iter()
            .enumerate()
            .map(|(i, limit)| limit.peek(state.get(i).unwrap_or(&fresh), now))
            .reduce(Decision::most_restrictive)
            .unwrap_or(Decision::allow(u64::MAX, u64::MAX, 0))
    }

    fn is_idle(&self, state: &Vec<A::State>, now: u64) -> bool {
        self.limits
            .iter()
            .zip(state)
            .all(|(limit, s)| limit.is_idle(s, now))
    }

    fn idle_at(&self, state: &Vec<A::State>) -> u64 {
        self.limits
            .iter()
            .zip(state)
            .map(|(limit, s)| limit.idle_at(s))
            .max()
            .unwrap_or(0)
    }

    fn limit(&self) -> u64 {
        self.limits.iter().map(A::limit).min().unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCH: u64 = 1_700_000_000_000_000_000;

    #[test]
    fn denial_by_one_consumes_nothing_from_the_others() {
        let all = AllOf::<Gcra>::from_quotas(&[
            Quota::per_second(2).unwrap(),
            Quota::per_hour(3).unwrap(),
        ]);
        let mut s = Vec::new();
        assert!(all.check(&mut s, EPOCH, 1).unwrap().allowed);
        assert!(all.check(&mut s, EPOCH, 1).unwrap().allowed);
        let before = s.clone();
        // The per-second limit denies; the hourly one must not be charged.
        assert!(!all.check(&mut s, EPOCH, 1).unwrap().allowed);
        assert_eq!(s, before);
        assert!(all.check(&mut s, EPOCH + 1_000_000_000, 1).unwrap().allowed);
        // The hourly limit is now spent.
        let d = all.check(&mut s, EPOCH + 2_000_000_000, 1).unwrap();
        assert!(!d.allowed);
        assert!(d.retry_after.as_secs() > 1000);
        assert_eq!(all.limit(), 2);
    }
}
