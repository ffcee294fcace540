//! The exact sliding-window log.

use std::collections::VecDeque;

use crate::algorithm::{Algorithm, FromQuota, LockedCell};
use crate::{Decision, InsufficientCapacity, Quota};

/// Admits a request when the cost admitted in the last `period` (a window ending now) plus its
/// own cost is at most `count`. Exact, at a memory cost of one entry per admitted request
/// (at most `count` entries per key). `burst` is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlidingWindowLog {
    quota: Quota,
}

/// The log: admitted `(time, cost)` pairs, oldest first, and their total cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlidingLogState {
    entries: VecDeque<(u64, u64)>,
    total: u64,
}

impl SlidingLogState {
    /// Entries currently held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl SlidingWindowLog {
    /// The quota this algorithm was built from.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// The algorithm for `quota`.
    pub fn new(quota: Quota) -> Self {
        Self { quota }
    }

    /// Drops entries that left the window `(now - period, now]`.
    fn prune(&self, state: &mut SlidingLogState, now: u64) {
        let period = self.quota.period_nanos();
        while let Some(&(t, cost)) = state.entries.front() {
            if t.saturating_add(period) <= now {
                state.entries.pop_front();
                state.total = state.total.saturating_sub(cost);
            } else {
                break;
            }
        }
    }
}

impl FromQuota for SlidingWindowLog {
    fn from_quota(quota: Quota) -> Self {
        Self::new(quota)
    }
}

impl Algorithm for SlidingWindowLog {
    type State = SlidingLogState;
    type Cell = LockedCell<SlidingLogState>;

    fn check(
        &self,
        state: &mut SlidingLogState,
        now: u64,
        cost: u64,
    ) -> Result<Decision, InsufficientCapacity> {
        let limit = self.quota.count();
        if cost > limit {
            return Err(InsufficientCapacity { cost, limit });
        }
        let period = self.quota.period_nanos();
        self.prune(state, now);
        let left = limit.saturating_sub(state.total);
        let reset = state
            .entries
            .back()
            .map_or(0, |&(t, _)| t.saturating_add(period).saturating_sub(now));
        if cost > left {
            // Wait until enough of the oldest entries expire.
            let mut freed = left;
            let mut retry = reset;
            for &(t, c) in &state.entries {
                freed = freed.saturating_add(c);
                if freed >= cost {
                    retry = t.saturating_add(period).saturating_sub(now);
                    break;
                }
            }
            return Ok(Decision::deny(limit, left, reset, retry));
        }
        if cost > 0 {
            // Keep the log ordered even if the clock went backwards.
            let t = state.entries.back().map_or(now, |&(last, _)| last.max(now));
            state.entries.push_back((t, cost));
            state.total += cost;
        }
        Ok(Decision::allow(
            limit,
            left - cost,
            if cost > 0 { period } else { reset },
        ))
    }

    fn peek(&self, state: &SlidingLogState, now: u64) -> Decision {
        let mut copy = state.clone();
        self.prune(&mut copy, now);
        let mut d = self
            .check(&mut copy, now, 0)
            .unwrap_or_else(|_| Decision::deny(self.limit(), 0, 0, 1));
        if d.remaining == 0 {
            d = self
                .check(&mut copy, now, 1)
                .unwrap_or_else(|_| Decision::deny(self.limit(), 0, 0, 1));
            d.allowed = false;
        }
        d
    }

    fn is_idle(&self, state: &SlidingLogState, now: u64) -> bool {
        self.idle_at(state) <= now
    }

    fn idle_at(&self, state: &SlidingLogState) -> u64 {
        state
            .entries
            .back()
            .map_or(0, |&(t, _)| t.saturating_add(self.quota.period_nanos()))
    }

    fn limit(&self) -> u64 {
        self.quota.count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides() {
        let w = SlidingWindowLog::new(Quota::per_second(2).unwrap());
        let mut s = SlidingLogState::default();
        let t = 5_000_000_000;
        assert!(w.check(&mut s, t, 1).unwrap().allowed);
        assert!(w.check(&mut s, t + 500_000_000, 1).unwrap().allowed);
        let d = w.check(&mut s, t + 600_000_000, 1).unwrap();
        assert!(!d.allowed);
        assert_eq!(d.retry_after.as_millis(), 400);
        assert!(w.check(&mut s, t + 1_000_000_000, 1).unwrap().allowed);
        assert_eq!(s.len(), 2);
        assert!(w.is_idle(&s, t + 3_000_000_000));
        assert!(!w.peek(&s, t + 1_000_000_000).allowed);
    }
}
