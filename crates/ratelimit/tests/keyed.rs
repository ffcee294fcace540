//! The keyed store: bounded by default, self-sweeping, per-key quotas, run-time changes.

use std::time::Duration;

use keel_ratelimit::{
    AllOf, Gcra, KeyedBuilder, KeyedLimiter, ManualClock, Quota, SketchLimiter, SlidingWindowLog,
};

const EPOCH: u64 = 1_750_000_000_000_000_000;

#[test]
fn idle_keys_are_swept_without_a_thread() {
    let clock = ManualClock::new(EPOCH);
    let limiter: KeyedLimiter<u64, Gcra, _> = KeyedBuilder::new()
        .shards(4)
        .max_keys(100_000)
        .build(Quota::per_second(10).unwrap(), clock.clone());
    for round in 0..20u64 {
        for k in 0..1_000 {
            assert!(limiter.check(&(round * 1_000 + k)).allowed);
        }
        // Every key refills within a second: all become idle.
        clock.advance(Duration::from_secs(1));
    }
    let stats = limiter.stats();
    assert!(stats.sweeps > 0);
    assert!(stats.evicted_idle > 10_000, "{stats:?}");
    assert_eq!(stats.evicted_active, 0);
    // Live keys never exceed the ones seen in the last second plus one sweep's slack.
    assert!(stats.keys < 3_000, "{stats:?}");
}

#[test]
fn the_cap_holds_under_a_flood_of_active_keys() {
    let clock = ManualClock::new(EPOCH);
    let limiter: KeyedLimiter<u64, Gcra, _> = KeyedBuilder::new()
        .shards(8)
        .max_keys(800)
        .build(Quota::per_hour(1).unwrap(), clock);
    for k in 0..100_000 {
        limiter.check(&k);
    }
    let stats = limiter.stats();
    assert!(stats.keys <= 800, "{stats:?}");
    assert!(stats.evicted_active >= 99_000, "{stats:?}");
}

#[test]
fn denials_store_nothing_and_peek_consumes_nothing() {
    let clock = ManualClock::new(EPOCH);
    let limiter: KeyedLimiter<String, Gcra, _> =
        KeyedLimiter::with_clock(Quota::per_minute(3).unwrap(), clock);
    assert_eq!(limiter.peek("a").remaining, 3);
    assert!(limiter.is_empty());
    assert!(limiter.check("a").allowed);
    assert_eq!(limiter.peek("a").remaining, 2);
    assert_eq!(limiter.peek("a").remaining, 2);
    assert!(limiter.check_n("a", 4).is_err());
    assert!(!limiter.check_n("a", 3).unwrap().allowed);
    assert_eq!(limiter.peek("a").remaining, 2);
    // Empty and huge keys are keys like any other.
    assert!(limiter.check("").allowed);
    let huge = "x".repeat(1 << 20);
    assert!(limiter.check(huge.as_str()).allowed);
    assert_eq!(limiter.len(), 3);
    limiter.remove("a");
    assert_eq!(limiter.peek("a").remaining, 3);
}

#[test]
fn per_key_quotas_and_runtime_changes_keep_state() {
    let clock = ManualClock::new(EPOCH);
    let limiter: KeyedLimiter<u32, Gcra, _> =
        KeyedLimiter::with_clock(Quota::per_minute(2).unwrap(), clock.clone());
    limiter.set_key_quota(7, Quota::per_minute(5).unwrap());
    assert_eq!((0..10).filter(|_| limiter.check(&7).allowed).count(), 5);
    assert_eq!((0..10).filter(|_| limiter.check(&1).allowed).count(), 2);
    let tat = limiter.state(&1).unwrap();
    // Raise the default: key 1 keeps its TAT (spent now), so it gains only what the new burst adds.
    limiter.set_quota(Quota::per_minute(2).unwrap().burst(4).unwrap());
    assert_eq!(limiter.state(&1), Some(tat));
    assert_eq!((0..10).filter(|_| limiter.check(&1).allowed).count(), 2);
    clock.advance(Duration::from_secs(30));
    assert!(limiter.check(&1).allowed);
}

#[test]
fn many_per_key_quotas_apply_to_their_keys_and_can_be_removed() {
    let clock = ManualClock::new(EPOCH);
    let limiter: KeyedLimiter<u32, Gcra, _> =
        KeyedLimiter::with_clock(Quota::per_minute(1).unwrap(), clock.clone());
    // Even keys get 3 per hour; odd keys keep the default (1 per minute).
    for key in (0..10_000u32).step_by(2) {
        limiter.set_key_quota(key, Quota::per_hour(3).unwrap());
    }
    for key in [0u32, 2, 4_000, 9_998] {
        assert_eq!((0..5).filter(|_| limiter.check(&key).allowed).count(), 3);
    }
    for key in [1u32, 3, 9_999] {
        assert_eq!((0..5).filter(|_| limiter.check(&key).allowed).count(), 1);
    }
    // Idle keys under their own quota are swept by their own rule, not the default's.
    clock.advance(Duration::from_secs(61));
    limiter.sweep();
    assert!(
        limiter.state(&0).is_some(),
        "key 0 (3/h) is not idle after 61 s"
    );
    assert!(
        limiter.state(&1).is_none(),
        "key 1 (1/min) is idle after 61 s"
    );
    // Back on the default quota, keeping its state: key 2 is spent for the hour.
    limiter.remove_key_quota(&2);
    assert!(!limiter.check(&2).allowed);
    clock.advance(Duration::from_secs(3600));
    assert_eq!((0..5).filter(|_| limiter.check(&2).allowed).count(), 1);
}

#[test]
fn keyed_works_with_any_algorithm() {
    let clock = ManualClock::new(EPOCH);
    let log: KeyedLimiter<u8, SlidingWindowLog, _> =
        KeyedLimiter::with_clock(Quota::per_second(2).unwrap(), clock.clone());
    assert!(log.check(&1).allowed && log.check(&1).allowed);
    assert!(!log.check(&1).allowed);
    let both: KeyedLimiter<u8, AllOf<Gcra>, _> = KeyedBuilder::new().build_with(
        &AllOf::from_quotas(&[Quota::per_second(10).unwrap(), Quota::per_hour(12).unwrap()]),
        clock.clone(),
    );
    let mut admitted = 0;
    for _ in 0..30 {
        admitted += usize::from(both.check(&1).allowed);
        clock.advance(Duration::from_millis(100));
    }
    assert_eq!(admitted, 12);
}

#[test]
fn sketch_is_fixed_memory_and_strict() {
    let clock = ManualClock::new(EPOCH);
    let sketch = SketchLimiter::new(Quota::per_second(2).unwrap(), 4096, clock.clone());
    let before = sketch.memory_bytes();
    for ip in 0..100_000u32 {
        sketch.check(&ip);
    }
    assert_eq!(sketch.memory_bytes(), before);
    assert!(!sketch.check(&5u32).allowed || !sketch.check(&5u32).allowed);
    clock.advance(Duration::from_secs(10));
    assert!(sketch.check(&5u32).allowed);
}
