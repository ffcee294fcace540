//! Cross-algorithm properties: token bucket vs GCRA, sliding counter vs exact log.

use std::time::Duration;

use keel_ratelimit::algorithm::{SlidingCounterState, SlidingLogState};
use keel_ratelimit::{
    Algorithm, FixedWindow, Gcra, Quota, SlidingWindowCounter, SlidingWindowLog, TokenBucket,
};
use proptest::prelude::*;

const EPOCH: u64 = 1_750_000_000_000_000_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The continuous token bucket and GCRA admit exactly the same requests.
    #[test]
    fn token_bucket_admits_as_gcra(
        count in 1u64..500, burst in 1u64..100,
        trace in prop::collection::vec((0u64..3_000, 1u64..120), 1..200),
    ) {
        let quota = Quota::per_second(count).unwrap().burst(burst).unwrap();
        let (g, b) = (Gcra::new(quota), TokenBucket::new(quota));
        let (mut gs, mut bs) = (0u64, 0u64);
        let mut now = EPOCH;
        for (gap, cost) in trace {
            now += quota.emission_interval_nanos() * gap / 1_000;
            let dg = g.check(&mut gs, now, cost);
            let db = b.check(&mut bs, now, cost);
            prop_assert_eq!(dg.is_err(), db.is_err());
            if let (Ok(dg), Ok(db)) = (dg, db) {
                prop_assert_eq!(dg.allowed, db.allowed);
                prop_assert_eq!(dg.retry_after, db.retry_after);
            }
        }
    }

    /// No algorithm panics on any time or cost, including a clock that jumps backwards.
    #[test]
    fn no_panic_on_any_input(
        count in 1u64..1_000_000, period in 1u64..u64::MAX / 4, burst in 1u64..1_000_000,
        ops in prop::collection::vec((any::<u64>(), any::<u64>()), 1..50),
    ) {
        let Ok(quota) = Quota::new(count, Duration::from_nanos(period)).and_then(|q| q.burst(burst)) else {
            return Ok(());
        };
        let (g, b) = (Gcra::new(quota), TokenBucket::new(quota));
        let (f, l, c) = (FixedWindow::new(quota), SlidingWindowLog::new(quota), SlidingWindowCounter::new(quota));
        let (mut gs, mut bs, mut fs, mut ls, mut cs) = (0, 0, Default::default(), SlidingLogState::default(), SlidingCounterState::default());
        for (now, cost) in ops {
            let cost = cost % (burst.max(count) + 2);
            let _ = (g.check(&mut gs, now, cost), g.peek(&gs, now));
            let _ = (b.check(&mut bs, now, cost), b.peek(&bs, now));
            let _ = (f.check(&mut fs, now, cost), f.peek(&fs, now));
            if cost < 64 {
                let _ = (l.check(&mut ls, now, cost), l.peek(&ls, now));
            }
            let _ = (c.check(&mut cs, now, cost), c.peek(&cs, now));
        }
    }

    /// The sliding-window log is exact: no window of length `period` ever holds more than
    /// `count`.
    #[test]
    fn sliding_log_is_exact(count in 1u64..20, gaps in prop::collection::vec(0u64..400, 1..300)) {
        let quota = Quota::per_second(count).unwrap();
        let log = SlidingWindowLog::new(quota);
        let mut s = SlidingLogState::default();
        let mut now = EPOCH;
        let mut admitted = Vec::new();
        for gap in gaps {
            now += gap * 1_000_000;
            if log.check(&mut s, now, 1).unwrap().allowed {
                admitted.push(now);
            }
        }
        for (i, &t) in admitted.iter().enumerate() {
            let in_window = admitted[i..].iter().take_while(|&&u| u < t + 1_000_000_000).count();
            prop_assert!(in_window as u64 <= count);
        }
    }
}

/// Runs the counter on random traces and judges each of its decisions against the exact
/// sliding window over the same admitted history: over-admission is admitting when the window
/// `(now - period, now]` already holds `count`, under-admission is denying when it holds
/// fewer. Reports both rates and checks the documented bound (< 2 x count in any window).
#[test]
fn sliding_counter_against_exact_log() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let (mut requests, mut over, mut under) = (0u64, 0u64, 0u64);
    let mut worst = 0f64;
    for _ in 0..200 {
        let count = rng.random_range(5..100);
        let quota = Quota::per_second(count).unwrap();
        let counter = SlidingWindowCounter::new(quota);
        // Arrivals at a mean rate between 0.33x and 2x the limit.
        let mean_gap = 1_000_000_000 / count * rng.random_range(15..90) / 30;
        let mut now = EPOCH;
        let mut cs = SlidingCounterState::default();
        let mut window = std::collections::VecDeque::new();
        let mut admitted = Vec::new();
        for _ in 0..2_000 {
            now += rng.random_range(0..2 * mean_gap + 1);
            while window.front().is_some_and(|&t| t + 1_000_000_000 <= now) {
                window.pop_front();
            }
            let exact = (window.len() as u64) < count;
            let approx = counter.check(&mut cs, now, 1).unwrap().allowed;
            requests += 1;
            over += u64::from(approx && !exact);
            under += u64::from(!approx && exact);
            if approx {
                window.push_back(now);
                admitted.push(now);
            }
        }
        for (i, &t) in admitted.iter().enumerate() {
            let n = admitted[i..]
                .iter()
                .take_while(|&&u| u < t + 1_000_000_000)
                .count() as u64;
            assert!(n < 2 * count, "{n} admitted in one window, limit {count}");
            worst = worst.max(n as f64 / count as f64);
        }
    }
    let over_rate = over as f64 / requests as f64;
    let under_rate = under as f64 / requests as f64;
    eprintln!(
        "sliding counter vs exact window: {requests} requests, over-admission {:.3}%, under-admission {:.3}%, worst window {:.2}x the limit",
        over_rate * 100.0,
        under_rate * 100.0,
        worst
    );
    assert!(over_rate < 0.05 && under_rate < 0.10);
}

/// A small deterministic generator for reproducible traces.
struct XorShift(u64);

impl XorShift {
    fn random_range(&mut self, range: std::ops::Range<u64>) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        range.start + self.0 % (range.end - range.start).max(1)
    }
}

#[test]
fn fixed_window_allows_double_at_the_edge() {
    let quota = Quota::per_second(10).unwrap();
    let f = FixedWindow::new(quota);
    let mut s = Default::default();
    let edge = (EPOCH / 1_000_000_000 + 1) * 1_000_000_000;
    let before = (0..10)
        .filter(|_| f.check(&mut s, edge - 1, 1).unwrap().allowed)
        .count();
    let after = (0..10)
        .filter(|_| f.check(&mut s, edge, 1).unwrap().allowed)
        .count();
    assert_eq!(before + after, 20);
}
