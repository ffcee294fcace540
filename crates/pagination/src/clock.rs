//! Time, injected: the [`Clock`] trait, [`SystemClock`] and [`ManualClock`].
//!
//! Only cursor expiry reads the time. Tests drive a [`ManualClock`] and never sleep.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in whole seconds since the Unix epoch.
pub trait Clock: Send + Sync + Debug {
    /// Seconds since the Unix epoch.
    fn now_unix_secs(&self) -> u64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_secs(&self) -> u64 {
        // A clock before 1970 reads as the epoch: cursors then look fresh, never panic.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// A clock that moves only when told: for tests.
#[derive(Debug, Default)]
pub struct ManualClock {
    secs: AtomicU64,
}

impl ManualClock {
    /// A clock reading `secs` seconds since the epoch.
    pub fn new(secs: u64) -> Self {
        Self {
            secs: AtomicU64::new(secs),
        }
    }

    /// Moves the clock forward by `secs` (saturating).
    pub fn advance(&self, secs: u64) {
        let _ = self
            .secs
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |s| {
                Some(s.saturating_add(secs))
            });
    }

    /// Sets the clock.
    pub fn set(&self, secs: u64) {
        self.secs.store(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix_secs(&self) -> u64 {
        self.secs.load(Ordering::SeqCst)
    }
}
