//! Time sources: every limiter reads time through a [`Clock`].
//!
//! Time is a `u64` count of nanoseconds since the UNIX epoch, so algorithm state (a GCRA
//! theoretical arrival time, a window start) is plain data that means the same thing in memory, in
//! Redis and on another instance.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time, in nanoseconds since the UNIX epoch.
///
/// Limiters read the clock once per request. Implementations must be cheap and must never panic;
/// they may go backwards (every algorithm tolerates it).
pub trait Clock: Send + Sync {
    /// The current time in nanoseconds since the UNIX epoch.
    fn now(&self) -> u64;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    #[inline]
    fn now(&self) -> u64 {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    #[inline]
    fn now(&self) -> u64 {
        (**self).now()
    }
}

/// Converts a duration to nanoseconds, saturating at `u64::MAX` (about 584 years).
#[inline]
pub(crate) fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The wall-clock time now, in nanoseconds since the UNIX epoch (0 if the system clock is set
/// before 1970).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(duration_nanos)
        .unwrap_or(0)
}

/// The default clock: a monotonic, cycle-counter based clock anchored to the wall clock once.
///
/// Reading it costs a few nanoseconds (one `rdtsc` on x86-64, through `quanta`), far less than a
/// system call. It is monotonic after construction; it follows the wall clock only as well as the
/// CPU's counter does (drift of a few ppm), which is what a rate limiter needs. Instances that
/// share state in Redis should run NTP, as for any distributed limiter.
#[derive(Debug, Clone)]
pub struct SystemClock {
    clock: quanta::Clock,
    start_raw: u64,
    start_unix: u64,
}

impl SystemClock {
    /// Creates a clock anchored to the current wall-clock time.
    pub fn new() -> Self {
        let clock = quanta::Clock::new();
        let start_raw = clock.raw();
        Self {
            clock,
            start_raw,
            start_unix: unix_now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> u64 {
        let elapsed = self.clock.delta_as_nanos(self.start_raw, self.clock.raw());
        self.start_unix.saturating_add(elapsed)
    }
}

/// A clock that moves only when told to: for tests and simulations.
///
/// Clones share the same time, so a test keeps one handle and gives another to the limiter.
///
/// ```
/// use keel_ratelimit::{Clock, ManualClock};
/// use std::time::Duration;
/// let clock = ManualClock::new(1_000);
/// clock.advance(Duration::from_nanos(500));
/// assert_eq!(clock.now(), 1_500);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `nanos` nanoseconds since the UNIX epoch.
    pub fn new(nanos: u64) -> Self {
        Self {
            now: Arc::new(AtomicU64::new(nanos)),
        }
    }

    /// A clock starting at the current wall-clock time.
    pub fn starting_now() -> Self {
        Self::new(unix_now())
    }

    /// Moves the clock forward by `by` (saturating at `u64::MAX`).
    pub fn advance(&self, by: Duration) {
        let by = duration_nanos(by);
        let _ = self
            .now
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_add(by))
            });
    }

    /// Moves the clock backward by `by` (saturating at 0): clocks do this, limiters must cope.
    pub fn rewind(&self, by: Duration) {
        let by = duration_nanos(by);
        let _ = self
            .now
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_sub(by))
            });
    }

    /// Sets the clock to `nanos` nanoseconds since the UNIX epoch.
    pub fn set(&self, nanos: u64) {
        self.now.store(nanos, Ordering::Release);
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now(&self) -> u64 {
        self.now.load(Ordering::Acquire)
    }
}

/// A clock that follows tokio's time, so `tokio::time::pause()` and `advance()` drive both the
/// limiter and the sleeps of [`until_ready`](crate::Waiter::until_ready) in tests.
#[cfg(feature = "tokio")]
#[derive(Debug, Clone)]
pub struct TokioClock {
    start: tokio::time::Instant,
    start_unix: u64,
}

#[cfg(feature = "tokio")]
impl TokioClock {
    /// Creates a clock anchored to the current wall-clock time.
    pub fn new() -> Self {
        Self {
            start: tokio::time::Instant::now(),
            start_unix: unix_now(),
        }
    }
}

#[cfg(feature = "tokio")]
impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "tokio")]
impl Clock for TokioClock {
    fn now(&self) -> u64 {
        self.start_unix
            .saturating_add(duration_nanos(self.start.elapsed()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_near_wall_clock_and_monotonic() {
        let clock = SystemClock::new();
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
        let wall = unix_now();
        assert!(a.abs_diff(wall) < 1_000_000_000, "{a} vs {wall}");
    }

    #[test]
    fn manual_clock_saturates() {
        let clock = ManualClock::new(u64::MAX - 1);
        clock.advance(Duration::from_secs(1));
        assert_eq!(clock.now(), u64::MAX);
        clock.set(5);
        clock.rewind(Duration::from_secs(1));
        assert_eq!(clock.now(), 0);
    }
}
