//! A short local memory of keys known to be over their limit.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

use crate::Decision;
use crate::clock::{Clock, duration_nanos};

/// A cached denial: cached at, denied until (local nanoseconds), the decisions.
type Entry = (u64, u64, Arc<[Decision]>);

/// Keys (or sets of keys checked together) denied a unit request, each until its retry time
/// (local clock).
///
/// A cached key is denied without a Redis round trip. This is never wrong: other instances'
/// requests can only push a key's retry time later, never earlier. The map is bounded; when
/// full, expired entries are dropped and, if none expired, the new denial is simply not cached.
pub(crate) struct DenyCache {
    entries: Mutex<HashMap<String, Entry>>,
    capacity: usize,
    clock: Arc<dyn Clock>,
}

impl DenyCache {
    pub(crate) fn new(capacity: usize, clock: Arc<dyn Clock>) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
            clock,
        }
    }

    /// The cached decisions of `key`, their times counted down, if the denial is in force.
    pub(crate) fn get(&self, key: &str) -> Option<Vec<Decision>> {
        if self.capacity == 0 {
            return None;
        }
        let now = self.clock.now();
        let mut entries = self.entries.lock();
        let (since, until, decisions) = entries.get(key)?;
        if now >= *until {
            entries.remove(key);
            return None;
        }
        let elapsed = now.saturating_sub(*since);
        Some(
            decisions
                .iter()
                .map(|d| {
                    let reset = duration_nanos(d.reset_after).saturating_sub(elapsed);
                    let retry = duration_nanos(d.retry_after).saturating_sub(elapsed);
                    if d.allowed || retry == 0 {
                        Decision::allow(d.limit, d.remaining, reset)
                    } else {
                        Decision::deny(d.limit, d.remaining, reset, retry)
                    }
                })
                .collect(),
        )
    }

    /// Remembers the decisions of a denied unit request on `key`, until every denying check
    /// would admit.
    pub(crate) fn insert(&self, key: &str, decisions: &[Decision]) {
        let wait = decisions
            .iter()
            .filter(|d| !d.allowed)
            .map(|d| duration_nanos(d.retry_after))
            .max()
            .unwrap_or(0);
        if self.capacity == 0 || wait == 0 {
            return;
        }
        let now = self.clock.now();
        let until = now.saturating_add(wait);
        let mut entries = self.entries.lock();
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            entries.retain(|_, (_, u, _)| *u > now);
            if entries.len() >= self.capacity {
                return;
            }
        }
        entries.insert(key.to_owned(), (now, until, decisions.into()));
    }

    /// Keys currently cached.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use std::time::Duration;

    #[test]
    fn expires_at_retry_time_and_stays_bounded() {
        let clock = ManualClock::new(1_000_000_000);
        let cache = DenyCache::new(2, Arc::new(clock.clone()));
        let deny = Decision::deny(5, 0, 2_000_000_000, 1_000_000_000);
        cache.insert("a", &[deny]);
        clock.advance(Duration::from_millis(400));
        let d = cache.get("a").unwrap()[0];
        assert!(!d.allowed);
        assert_eq!(d.retry_after, Duration::from_millis(600));
        cache.insert("b", &[deny]);
        cache.insert("c", &[deny]); // full, nothing expired: not cached
        assert!(cache.get("c").is_none());
        clock.advance(Duration::from_millis(600));
        assert!(cache.get("a").is_none());
        cache.insert("c", &[deny]); // "b" expired (retry 1 s) only at +1.4 s, "a" is gone
        assert!(cache.get("c").is_some());
        assert!(cache.len() <= 2);
    }
}
