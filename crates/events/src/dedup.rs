//! De-duplication by event id, so a redelivered event has no visible effect.
//!
//! Delivery is at least once (a lost ack, a relay retry, a consumer crash after its effect), so
//! every consumer remembers which event ids it has processed. The runner asks [`Deduplicator::seen`]
//! before running the handler and calls [`Deduplicator::record`] after it succeeds. For effects in
//! a database, record the id in the same transaction as the effect (a `processed_events` table
//! with a unique key) by implementing this trait over that table: then even a crash between the
//! effect and the ack cannot apply the effect twice. [`MemoryDeduplicator`] covers effects that
//! live in the same process.

use std::collections::{HashMap, HashSet, VecDeque};

use async_trait::async_trait;
use parking_lot::Mutex;
use uuid::Uuid;

/// Remembers which events each consumer has processed.
#[async_trait]
pub trait Deduplicator: Send + Sync + std::fmt::Debug {
    /// Whether `consumer` already processed `event_id`.
    async fn seen(&self, consumer: &str, event_id: Uuid) -> bool;
    /// Records that `consumer` processed `event_id`.
    async fn record(&self, consumer: &str, event_id: Uuid);
}

/// A bounded in-memory [`Deduplicator`]: it remembers the last `capacity` event ids per consumer
/// (first in, first out). Redeliveries arrive within the broker's redelivery window, far fewer
/// events back than a capacity of 100,000.
#[derive(Debug)]
pub struct MemoryDeduplicator {
    capacity: usize,
    consumers: Mutex<HashMap<String, Window>>,
}

#[derive(Debug, Default)]
struct Window {
    ids: HashSet<Uuid>,
    order: VecDeque<Uuid>,
}

impl Default for MemoryDeduplicator {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl MemoryDeduplicator {
    /// A deduplicator that remembers `capacity` ids per consumer (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            consumers: Mutex::new(HashMap::new()),
        }
    }

    /// How many ids are remembered for `consumer`.
    pub fn len(&self, consumer: &str) -> usize {
        self.consumers
            .lock()
            .get(consumer)
            .map_or(0, |w| w.ids.len())
    }

    /// Whether nothing is remembered for `consumer`.
    pub fn is_empty(&self, consumer: &str) -> bool {
        self.len(consumer) == 0
    }
}

#[async_trait]
impl Deduplicator for MemoryDeduplicator {
    async fn seen(&self, consumer: &str, event_id: Uuid) -> bool {
        self.consumers
            .lock()
            .get(consumer)
            .is_some_and(|w| w.ids.contains(&event_id))
    }

    async fn record(&self, consumer: &str, event_id: Uuid) {
        let mut consumers = self.consumers.lock();
        let window = consumers.entry(consumer.to_owned()).or_default();
        if window.ids.insert(event_id) {
            window.order.push_back(event_id);
            while window.order.len() > self.capacity {
                if let Some(old) = window.order.pop_front() {
                    window.ids.remove(&old);
                }
            }
        }
    }
}
