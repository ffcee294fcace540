//! Hot-key detection over a stream of accesses: the space-saving top-k algorithm (Metwally,
//! Agrawal and El Abbadi, 2005) in bounded memory.
//!
//! The detector keeps at most `capacity` counters. A key already tracked increments its
//! counter; a new key takes a free counter or evicts the smallest one, inheriting its count as
//! an overestimate (`error`). Every key accessed more than `total / capacity` times is
//! guaranteed to be tracked, and `count - error` is a guaranteed lower bound of its true count.
//! Memory and time per access are `O(capacity)` and `O(log capacity)`, whatever the stream.
//!
//! The detector has no notion of time: call [`HotKeyDetector::decay`] or
//! [`HotKeyDetector::clear`] from your own (injected) clock to age counts.

use std::{
    collections::{BTreeSet, HashMap},
    hash::Hash,
};

use crate::ShardingError;

/// A tracked key and its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotKey<K> {
    /// The key.
    pub key: K,
    /// Estimated accesses (never below the true count).
    pub count: u64,
    /// How much of `count` may be overestimate; `count - error` is a guaranteed lower bound.
    pub error: u64,
}

#[derive(Debug, Clone)]
struct Slot<K> {
    key: K,
    count: u64,
    error: u64,
}

/// A bounded-memory top-k detector (space-saving).
///
/// ```
/// use keel_sharding::HotKeyDetector;
/// let mut d = HotKeyDetector::new(16)?;
/// for i in 0..10_000u32 {
///     d.record(if i % 3 == 0 { 7 } else { i }); // key 7 is a third of all traffic
/// }
/// let hot = d.hot_keys(0.2);
/// assert_eq!(hot.len(), 1);
/// assert_eq!(hot[0].key, 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct HotKeyDetector<K> {
    capacity: usize,
    slots: Vec<Slot<K>>,
    index: HashMap<K, usize>,
    /// `(count, slot)` ordered by count: the first is the eviction victim.
    by_count: BTreeSet<(u64, usize)>,
    total: u64,
}

impl<K: Hash + Eq + Clone> HotKeyDetector<K> {
    /// A detector with `capacity` counters (at least 1). Keys above `1 / capacity` of the
    /// traffic are always caught.
    pub fn new(capacity: usize) -> Result<Self, ShardingError> {
        if capacity == 0 {
            return Err(ShardingError::InvalidParameter {
                name: "capacity",
                reason: "use at least 1 counter (keys above 1/capacity of traffic are caught)"
                    .to_owned(),
            });
        }
        Ok(HotKeyDetector {
            capacity,
            // Grown on demand: a huge capacity costs nothing until keys arrive.
            slots: Vec::with_capacity(capacity.min(1024)),
            index: HashMap::with_capacity(capacity.min(1024)),
            by_count: BTreeSet::new(),
            total: 0,
        })
    }

    /// Accesses recorded since the last clear.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Records one access.
    pub fn record(&mut self, key: K) {
        self.record_n(key, 1);
    }

    /// Records `n` accesses of one key.
    pub fn record_n(&mut self, key: K, n: u64) {
        self.total = self.total.saturating_add(n);
        if let Some(&i) = self.index.get(&key) {
            if let Some(s) = self.slots.get_mut(i) {
                self.by_count.remove(&(s.count, i));
                s.count = s.count.saturating_add(n);
                self.by_count.insert((s.count, i));
            }
            return;
        }
        if self.slots.len() < self.capacity {
            let i = self.slots.len();
            self.slots.push(Slot {
                key: key.clone(),
                count: n,
                error: 0,
            });
            self.index.insert(key, i);
            self.by_count.insert((n, i));
            return;
        }
        // Evict the smallest counter; the newcomer inherits its count as error.
        let Some((min, i)) = self.by_count.pop_first() else {
            return;
        };
        if let Some(s) = self.slots.get_mut(i) {
            self.index.remove(&s.key);
            s.key = key.clone();
            s.error = min;
            s.count = min.saturating_add(n);
            self.by_count.insert((s.count, i));
            self.index.insert(key, i);
        }
    }

    /// The `n` most accessed tracked keys, most first.
    pub fn top(&self, n: usize) -> Vec<HotKey<K>> {
        self.by_count
            .iter()
            .rev()
            .take(n)
            .filter_map(|&(_, i)| self.slots.get(i))
            .map(|s| HotKey {
                key: s.key.clone(),
                count: s.count,
                error: s.error,
            })
            .collect()
    }

    /// Keys whose guaranteed count (`count - error`) is at least `fraction` of all accesses.
    pub fn hot_keys(&self, fraction: f64) -> Vec<HotKey<K>> {
        let threshold = fraction * self.total as f64;
        self.top(self.capacity)
            .into_iter()
            .filter(|h| (h.count - h.error) as f64 >= threshold)
            .collect()
    }

    /// Halves every count (call it on a timer to let old heat fade).
    pub fn decay(&mut self) {
        self.total /= 2;
        self.by_count.clear();
        for (i, s) in self.slots.iter_mut().enumerate() {
            s.count /= 2;
            s.error /= 2;
            self.by_count.insert((s.count, i));
        }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.index.clear();
        self.by_count.clear();
        self.total = 0;
    }
}
