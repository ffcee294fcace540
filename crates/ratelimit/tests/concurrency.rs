//! Real threads on one key never admit more than the exact allowance.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use keel_ratelimit::{
    DirectLimiter, Gcra, KeyedLimiter, ManualClock, Quota, SketchLimiter, TokenBucket,
};

const EPOCH: u64 = 1_750_000_000_000_000_000;
const THREADS: u64 = 4;

/// Threads hammer one key while another thread moves the clock; the admissions must not exceed
/// `burst + elapsed / T` (and with a frozen clock, must equal the burst exactly).
fn run(
    check: impl Fn() -> bool + Send + Sync + 'static,
    clock: &ManualClock,
    tries: u64,
    tick: Option<Duration>,
) -> u64 {
    let check = Arc::new(check);
    let admitted = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (check, admitted) = (Arc::clone(&check), Arc::clone(&admitted));
            thread::spawn(move || {
                for _ in 0..tries {
                    if check() {
                        admitted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    if let Some(tick) = tick {
        for _ in 0..1_000 {
            clock.advance(tick);
            thread::yield_now();
        }
    }
    for h in handles {
        h.join().unwrap();
    }
    admitted.load(Ordering::Relaxed)
}

#[test]
fn keyed_frozen_clock_admits_exactly_the_burst() {
    let clock = ManualClock::new(EPOCH);
    let limiter: Arc<KeyedLimiter<String, Gcra, _>> = Arc::new(KeyedLimiter::with_clock(
        Quota::per_hour(1_000).unwrap(),
        clock.clone(),
    ));
    let l = Arc::clone(&limiter);
    assert_eq!(
        run(move || l.check("k").allowed, &clock, 5_000, None),
        1_000
    );
}

#[test]
fn direct_frozen_clock_admits_exactly_the_burst() {
    let clock = ManualClock::new(EPOCH);
    let limiter = Arc::new(DirectLimiter::<TokenBucket, _>::with_clock(
        Quota::per_hour(777).unwrap(),
        clock.clone(),
    ));
    let l = Arc::clone(&limiter);
    assert_eq!(run(move || l.check().allowed, &clock, 5_000, None), 777);
}

#[test]
fn moving_clock_never_exceeds_the_allowance() {
    let clock = ManualClock::new(EPOCH);
    let quota = Quota::per_second(1_000).unwrap().burst(50).unwrap();
    let tick = Duration::from_micros(100);
    let keyed: Arc<KeyedLimiter<u32, Gcra, _>> =
        Arc::new(KeyedLimiter::with_clock(quota, clock.clone()));
    let k = Arc::clone(&keyed);
    let admitted = run(move || k.check(&1).allowed, &clock, 200_000, Some(tick));
    let elapsed = clock.now() - EPOCH;
    let allowance = 50 + elapsed / quota.emission_interval_nanos();
    assert!(admitted <= allowance, "{admitted} > {allowance}");
    assert!(admitted >= 50);

    let clock = ManualClock::new(EPOCH);
    let direct = Arc::new(DirectLimiter::<Gcra, _>::with_clock(quota, clock.clone()));
    let d = Arc::clone(&direct);
    let admitted = run(move || d.check().allowed, &clock, 200_000, Some(tick));
    let allowance = 50 + (clock.now() - EPOCH) / quota.emission_interval_nanos();
    assert!(admitted <= allowance, "{admitted} > {allowance}");
}

use keel_ratelimit::Clock as _;

#[test]
fn sketch_frozen_clock_admits_exactly_the_burst() {
    let clock = ManualClock::new(EPOCH);
    let sketch = Arc::new(SketchLimiter::new(
        Quota::per_hour(1_000).unwrap(),
        1 << 10,
        clock.clone(),
    ));
    let s = Arc::clone(&sketch);
    assert_eq!(
        run(move || s.check("k").allowed, &clock, 5_000, None),
        1_000
    );
}
