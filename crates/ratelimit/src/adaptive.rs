//! Adaptive limiting: a rate that follows a load signal under an AIMD control law.

use std::time::Duration;

use crate::algorithm::{Algorithm, Gcra};
use crate::clock::{Clock, SystemClock, duration_nanos};
use crate::{AdaptiveError, Decision, Quota};

/// Parameters of an [`AdaptiveLimiter`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveConfig {
    /// The limit never goes below this many requests per `period`.
    pub floor: u64,
    /// The limit never goes above this many requests per `period`.
    pub ceiling: u64,
    /// The starting limit.
    pub initial: u64,
    /// The period the limit counts over.
    pub period: Duration,
    /// Latency above this marks the interval as congested.
    pub target_latency: Duration,
    /// In-flight requests above this mark the interval as congested (`u64::MAX`: ignore).
    pub max_in_flight: u64,
    /// Added to the limit after an interval without congestion that had samples.
    pub increase: u64,
    /// The limit is multiplied by this after a congested interval (in (0, 1)).
    pub decrease: f64,
    /// How often the law is applied.
    pub interval: Duration,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        Self {
            floor: 10,
            ceiling: 10_000,
            initial: 100,
            period: Duration::from_secs(1),
            target_latency: Duration::from_millis(100),
            max_in_flight: u64::MAX,
            increase: 10,
            decrease: 0.9,
            interval: Duration::from_secs(1),
        }
    }
}

#[derive(Debug)]
struct Inner {
    limit: u64,
    gcra: Gcra,
    tat: u64,
    interval_start: u64,
    samples: u64,
    congested: bool,
}

/// A GCRA limiter whose rate follows load.
///
/// # Control law (AIMD)
/// Time is cut into intervals of `interval`. Each sample ([`record_latency`],
/// [`record_in_flight`], [`record_overload`]) marks the current interval congested when it
/// exceeds its target. When an interval ends (noticed at the next call):
/// - congested: `limit = max(floor, floor(limit * decrease))` (multiplicative decrease);
/// - not congested, with at least one sample: `limit = min(ceiling, limit + increase)`
///   (additive increase);
/// - no sample: unchanged.
///
/// Intervals that passed with no call at all count as sample-free. The rate is `limit` per
/// `period` with burst `limit`; changing it keeps the GCRA state, so admitted traffic is never
/// forgotten.
///
/// [`record_latency`]: AdaptiveLimiter::record_latency
/// [`record_in_flight`]: AdaptiveLimiter::record_in_flight
/// [`record_overload`]: AdaptiveLimiter::record_overload
#[derive(Debug)]
pub struct AdaptiveLimiter<C: Clock = SystemClock> {
    config: AdaptiveConfig,
    inner: parking_lot::Mutex<Inner>,
    clock: C,
}

impl<C: Clock> AdaptiveLimiter<C> {
    /// A limiter with `config` on `clock`.
    ///
    /// # Errors
    /// [`AdaptiveError`] when the bounds are not `0 < floor <= initial <= ceiling`, the decrease
    /// is not in (0, 1), or the limits do not make a valid [`Quota`] over `period`.
    pub fn new(config: AdaptiveConfig, clock: C) -> Result<Self, AdaptiveError> {
        if config.floor == 0 || config.floor > config.initial || config.initial > config.ceiling {
            return Err(AdaptiveError::Bounds {
                floor: config.floor,
                initial: config.initial,
                ceiling: config.ceiling,
            });
        }
        if !(config.decrease > 0.0 && config.decrease < 1.0) {
            return Err(AdaptiveError::Decrease(config.decrease));
        }
        Quota::new(config.floor, config.period)?;
        Quota::new(config.ceiling, config.period)?;
        let gcra = Gcra::new(Quota::new(config.initial, config.period)?);
        let now = clock.now();
        Ok(Self {
            config,
            inner: parking_lot::Mutex::new(Inner {
                limit: config.initial,
                gcra,
                tat: 0,
                interval_start: now,
                samples: 0,
                congested: false,
            }),
            clock,
        })
    }

    /// Applies the law for every interval that ended before `now`.
    fn roll(&self, inner: &mut Inner, now: u64) {
        let interval = duration_nanos(self.config.interval).max(1);
        if now < inner.interval_start.saturating_add(interval) {
            return;
        }
        let c = &self.config;
        let next = if inner.congested {
            // Truncation toward zero, then the floor.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let decreased = (inner.limit as f64 * c.decrease) as u64;
            decreased.max(c.floor)
        } else if inner.samples > 0 {
            inner.limit.saturating_add(c.increase).min(c.ceiling)
        } else {
            inner.limit
        };
        if next != inner.limit
            && let Ok(quota) = Quota::new(next, c.period)
        {
            inner.limit = next;
            inner.gcra = Gcra::new(quota);
        }
        let elapsed = (now - inner.interval_start) / interval;
        inner.interval_start = inner
            .interval_start
            .saturating_add(elapsed.saturating_mul(interval));
        inner.samples = 0;
        inner.congested = false;
    }

    fn sample(&self, congested: bool) {
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        self.roll(&mut inner, now);
        inner.samples += 1;
        inner.congested |= congested;
    }

    /// Records one request's latency.
    pub fn record_latency(&self, latency: Duration) {
        self.sample(latency > self.config.target_latency);
    }

    /// Records the number of requests in flight.
    pub fn record_in_flight(&self, in_flight: u64) {
        self.sample(in_flight > self.config.max_in_flight);
    }

    /// Records an overload signal (a timeout, a 503 from downstream, a dropped request).
    pub fn record_overload(&self) {
        self.sample(true);
    }

    /// Checks one unit request against the current limit.
    pub fn check(&self) -> Decision {
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        self.roll(&mut inner, now);
        let inner = &mut *inner;
        inner
            .gcra
            .check(&mut inner.tat, now, 1)
            .unwrap_or_else(|_| Decision::deny(inner.limit, 0, 0, 1))
    }

    /// The current limit (requests per `period`).
    pub fn current_limit(&self) -> u64 {
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        self.roll(&mut inner, now);
        inner.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;

    fn limiter() -> (AdaptiveLimiter<ManualClock>, ManualClock) {
        let clock = ManualClock::new(1_700_000_000_000_000_000);
        let config = AdaptiveConfig {
            floor: 10,
            ceiling: 200,
            initial: 100,
            increase: 10,
            decrease: 0.5,
            ..AdaptiveConfig::default()
        };
        (AdaptiveLimiter::new(config, clock.clone()).unwrap(), clock)
    }

    #[test]
    fn aimd_follows_latency_within_bounds() {
        let (l, clock) = limiter();
        let second = Duration::from_secs(1);
        l.record_latency(Duration::from_millis(500));
        clock.advance(second);
        assert_eq!(l.current_limit(), 50);
        for expect in [25, 12, 10, 10] {
            l.record_overload();
            clock.advance(second);
            assert_eq!(l.current_limit(), expect);
        }
        for i in 1..=25u64 {
            l.record_latency(Duration::from_millis(5));
            clock.advance(second);
            assert_eq!(l.current_limit(), (10 + 10 * i).min(200));
        }
        // An idle interval changes nothing.
        clock.advance(second * 10);
        assert_eq!(l.current_limit(), 200);
    }

    #[test]
    fn rate_follows_limit() {
        let (l, clock) = limiter();
        l.record_overload();
        clock.advance(Duration::from_secs(1));
        // 50/s, burst 50.
        let admitted = (0..100).filter(|_| l.check().allowed).count();
        assert_eq!(admitted, 50);
        l.record_in_flight(3);
        clock.advance(Duration::from_secs(1));
        assert_eq!(l.current_limit(), 60);
    }

    #[test]
    fn rejects_bad_bounds() {
        let clock = ManualClock::new(0);
        let bad = AdaptiveConfig {
            floor: 0,
            ..AdaptiveConfig::default()
        };
        assert!(AdaptiveLimiter::new(bad, clock.clone()).is_err());
        let bad = AdaptiveConfig {
            decrease: 1.5,
            ..AdaptiveConfig::default()
        };
        assert!(AdaptiveLimiter::new(bad, clock).is_err());
    }
}
