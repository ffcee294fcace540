//! The fixed window counter.

use crate::algorithm::{Algorithm, FromQuota, LockedCell};
use crate::{Decision, InsufficientCapacity, Quota};

/// Admits `count` per window of length `period`, windows aligned on the UNIX epoch (so every
/// instance agrees on where a window starts). Up to `2 * count` can pass around a window edge;
/// the sliding windows exist to fix that. `burst` is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedWindow {
    quota: Quota,
}

/// The state of a window algorithm: the current window's index and its count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowState {
    /// Index of the window (`time / period`).
    pub window: u64,
    /// Cost admitted in that window.
    pub count: u64,
}

impl FixedWindow {
    /// The quota this algorithm was built from.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// The algorithm for `quota`.
    pub fn new(quota: Quota) -> Self {
        Self { quota }
    }
}

impl FromQuota for FixedWindow {
    fn from_quota(quota: Quota) -> Self {
        Self::new(quota)
    }
}

impl Algorithm for FixedWindow {
    type State = WindowState;
    type Cell = LockedCell<WindowState>;

    fn check(
        &self,
        state: &mut WindowState,
        now: u64,
        cost: u64,
    ) -> Result<Decision, InsufficientCapacity> {
        let limit = self.quota.count();
        if cost > limit {
            return Err(InsufficientCapacity { cost, limit });
        }
        let period = self.quota.period_nanos();
        let window = now / period;
        // A clock that went backwards stays in the newest window seen.
        let (window, used) = if window > state.window {
            (window, 0)
        } else {
            (state.window, state.count)
        };
        let reset = window
            .saturating_add(1)
            .saturating_mul(period)
            .saturating_sub(now);
        let left = limit.saturating_sub(used);
        if cost > left {
            return Ok(Decision::deny(limit, left, reset, reset));
        }
        if cost > 0 {
            *state = WindowState {
                window,
                count: used + cost,
            };
        }
        Ok(Decision::allow(limit, left - cost, reset))
    }

    fn is_idle(&self, state: &WindowState, now: u64) -> bool {
        state.count == 0 || now / self.quota.period_nanos() > state.window
    }

    fn idle_at(&self, state: &WindowState) -> u64 {
        state
            .window
            .saturating_add(1)
            .saturating_mul(self.quota.period_nanos())
    }

    fn limit(&self) -> u64 {
        self.quota.count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resets_at_window_edge() {
        let w = FixedWindow::new(Quota::per_second(3).unwrap());
        let mut s = WindowState::default();
        let t = 10_000_000_000;
        for _ in 0..3 {
            assert!(w.check(&mut s, t + 999_000_000, 1).unwrap().allowed);
        }
        let d = w.check(&mut s, t + 999_000_000, 1).unwrap();
        assert!(!d.allowed);
        assert_eq!(d.retry_after.as_millis(), 1);
        assert!(w.check(&mut s, t + 1_000_000_000, 3).unwrap().allowed);
        // Backwards clock: still counted in the newest window.
        assert!(!w.check(&mut s, t, 1).unwrap().allowed);
    }
}
