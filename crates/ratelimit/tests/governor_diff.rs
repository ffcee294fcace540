//! GCRA must decide exactly as governor does on the same quota and arrival trace.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::FakeRelativeClock;
use keel_ratelimit::{DirectLimiter, Gcra, KeyedLimiter, ManualClock, Quota};
use proptest::prelude::*;

const EPOCH: u64 = 1_750_000_000_000_000_000;

fn quotas() -> impl Strategy<Value = (u64, u64, u32)> {
    // (count, period in ms, burst)
    (
        1u64..2_000,
        prop_oneof![Just(1_000u64), Just(60_000), Just(3_600_000), 1u64..100_000],
        1u32..300,
    )
}

fn governor_quota(q: &Quota) -> governor::Quota {
    let burst = NonZeroU32::new(u32::try_from(q.max_burst()).unwrap()).unwrap();
    governor::Quota::with_period(Duration::from_nanos(q.emission_interval_nanos()))
        .unwrap()
        .allow_burst(burst)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn direct_gcra_matches_governor(
        (count, period_ms, burst) in quotas(),
        trace in prop::collection::vec((0u64..3_000, 1u64..400), 1..200),
    ) {
        let Ok(quota) = Quota::new(count, Duration::from_millis(period_ms)).and_then(|q| q.burst(u64::from(burst))) else {
            return Ok(());
        };
        let t = quota.emission_interval_nanos();
        let ours_clock = ManualClock::new(EPOCH);
        let ours = DirectLimiter::<Gcra, _>::with_clock(quota, ours_clock.clone());
        let gov_clock = FakeRelativeClock::default();
        let gov = governor::RateLimiter::direct_with_clock(governor_quota(&quota), gov_clock.clone());

        for (gap_permille, cost) in trace {
            // Gaps from 0 to 3 emission intervals, so traces hover around the limit.
            let gap = t.saturating_mul(gap_permille) / 1_000;
            ours_clock.advance(Duration::from_nanos(gap));
            gov_clock.advance(Duration::from_nanos(gap));
            let cost32 = NonZeroU32::new(u32::try_from(cost).unwrap()).unwrap();
            let g = gov.check_n(cost32);
            let o = ours.check_n(cost);
            match (g, o) {
                (Err(_), Err(_)) => {}
                (Ok(Ok(())), Ok(d)) => prop_assert!(d.allowed, "governor admitted, we denied"),
                (Ok(Err(not_until)), Ok(d)) => {
                    prop_assert!(!d.allowed, "governor denied, we admitted");
                    let wait = not_until.wait_time_from(governor::clock::Clock::now(&gov_clock));
                    prop_assert_eq!(wait, d.retry_after);
                }
                (g, o) => prop_assert!(false, "mismatch: governor {:?}, keel {:?}", g.map(|r| r.is_ok()), o),
            }
        }
    }

    #[test]
    fn keyed_gcra_matches_governor(
        (count, period_ms, burst) in quotas(),
        trace in prop::collection::vec((0u64..2_000, 0u8..8), 1..300),
    ) {
        let Ok(quota) = Quota::new(count, Duration::from_millis(period_ms)).and_then(|q| q.burst(u64::from(burst))) else {
            return Ok(());
        };
        let t = quota.emission_interval_nanos();
        let ours_clock = ManualClock::new(EPOCH);
        let ours: KeyedLimiter<u8, Gcra, _> = KeyedLimiter::with_clock(quota, ours_clock.clone());
        let gov_clock = FakeRelativeClock::default();
        let gov = governor::RateLimiter::dashmap_with_clock(governor_quota(&quota), gov_clock.clone());
        for (gap_permille, key) in trace {
            let gap = t.saturating_mul(gap_permille) / 1_000;
            ours_clock.advance(Duration::from_nanos(gap));
            gov_clock.advance(Duration::from_nanos(gap));
            prop_assert_eq!(gov.check_key(&key).is_ok(), ours.check(&key).allowed);
        }
    }
}
