//! Waiting for admission: `until_ready`, fair per key (feature `tokio`).

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::algorithm::Algorithm;
use crate::clock::{Clock, duration_nanos};
use crate::keyed::KeyedLimiter;
use crate::{Decision, InsufficientCapacity};

/// Random extra delay added to each wait, to spread waiters that would wake together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Jitter {
    max: Duration,
}

impl Jitter {
    /// No jitter: waits are exactly the retry-after.
    pub const NONE: Self = Self {
        max: Duration::ZERO,
    };

    /// A uniformly random extra delay in `[0, max)`.
    pub fn up_to(max: Duration) -> Self {
        Self { max }
    }

    fn sample(&self, seed: u64) -> Duration {
        let max = duration_nanos(self.max);
        if max == 0 {
            return Duration::ZERO;
        }
        let r = foldhash::fast::FixedState::with_seed(0x5eed).hash_one(seed);
        Duration::from_nanos(r % max)
    }
}

/// Waits on a shared [`KeyedLimiter`] until a request is admitted.
///
/// Waiters on one key are served first come, first served: each key has a fair (FIFO) async
/// lock, and only its holder polls the limiter, sleeping exactly the decision's `retry_after`
/// (plus jitter, if set). The future is cancellation-safe: dropping it before it completes
/// consumes nothing and hands the turn to the next waiter.
pub struct Waiter<K, A: Algorithm, C: Clock> {
    limiter: Arc<KeyedLimiter<K, A, C>>,
    queues: parking_lot::Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
    jitter: Jitter,
    seed: AtomicU64,
}

impl<K: Hash + Eq + Clone, A: Algorithm, C: Clock> Waiter<K, A, C> {
    /// Waits on `limiter` with no jitter.
    pub fn new(limiter: Arc<KeyedLimiter<K, A, C>>) -> Self {
        Self {
            limiter,
            queues: parking_lot::Mutex::new(HashMap::new()),
            jitter: Jitter::NONE,
            seed: AtomicU64::new(0),
        }
    }

    /// Adds `jitter` to each wait.
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// The limiter waited on.
    pub fn limiter(&self) -> &Arc<KeyedLimiter<K, A, C>> {
        &self.limiter
    }

    /// Waits until a unit request for `key` is admitted, and returns its decision.
    ///
    /// # Errors
    /// Never for a unit cost (every limit admits at least 1); see [`Waiter::until_ready_n`].
    pub async fn until_ready(&self, key: &K) -> Result<Decision, InsufficientCapacity> {
        self.until_ready_n(key, 1).await
    }

    /// Waits until a request of `cost` for `key` is admitted.
    ///
    /// # Errors
    /// [`InsufficientCapacity`] at once when `cost` can never be admitted.
    pub async fn until_ready_n(
        &self,
        key: &K,
        cost: u64,
    ) -> Result<Decision, InsufficientCapacity> {
        let queue = QueueRef::new(self, key);
        let _turn = queue.queue.lock().await;
        loop {
            let decision = self.limiter.check_n(key, cost)?;
            if decision.allowed {
                return Ok(decision);
            }
            let seed = self.seed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(decision.retry_after + self.jitter.sample(seed)).await;
        }
    }
}

/// A handle on one key's queue that removes the queue when its last waiter leaves.
struct QueueRef<'a, K: Hash + Eq + Clone, A: Algorithm, C: Clock> {
    waiter: &'a Waiter<K, A, C>,
    key: &'a K,
    queue: Arc<tokio::sync::Mutex<()>>,
}

impl<'a, K: Hash + Eq + Clone, A: Algorithm, C: Clock> QueueRef<'a, K, A, C> {
    fn new(waiter: &'a Waiter<K, A, C>, key: &'a K) -> Self {
        let queue = Arc::clone(waiter.queues.lock().entry(key.clone()).or_default());
        Self { waiter, key, queue }
    }
}

impl<K: Hash + Eq + Clone, A: Algorithm, C: Clock> Drop for QueueRef<'_, K, A, C> {
    fn drop(&mut self) {
        let mut queues = self.waiter.queues.lock();
        // The map holds one reference and this handle one: no one else waits on this key.
        // References are only cloned under this lock, so the count cannot grow meanwhile.
        if Arc::strong_count(&self.queue) == 2 {
            queues.remove(self.key);
        }
    }
}

impl<K, A: Algorithm, C: Clock> fmt::Debug for Waiter<K, A, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter")
            .field("jitter", &self.jitter)
            .finish_non_exhaustive()
    }
}
