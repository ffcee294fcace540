//! Coalescing: concurrent single checks share one script run.
//!
//! A Lua call costs Redis far more than the work inside it (on Redis 7.0, a single GCRA check
//! runs about 54,700 instructions, one check inside a batched run about 24,500, `INCR` +
//! `EXPIRE` pipelined about 10,000), so under concurrency the server's core, not the network,
//! bounds a Lua limiter. The coalescer keeps
//! at most [`RedisConfig::coalesce`](super::RedisConfig::coalesce) calls in flight: a check
//! that finds a free slot is sent at once, alone (no added latency when traffic is light); a
//! check that finds every slot busy waits in a queue, and the call that frees a slot takes the
//! whole queue (up to the batch size) into one run of the multi script in `each` mode. Before
//! taking it, the slot yields once to the runtime: the callers it just answered usually check
//! again at once, and would otherwise miss the batch (under a closed loop of 64 callers this
//! took batches from about 10 to about 14 checks per run). Every
//! check still decides atomically and exactly as it would alone (the script runs them one
//! after another on the server), so nothing about admission changes, only the number of
//! script runs.
//!
//! Cancellation: a caller that stops waiting leaves its check in the batch (it may be counted,
//! as a single call already sent may be); a slot is always handed on, by a drop guard, even
//! when the caller holding it is cancelled.

use parking_lot::{Mutex, MutexGuard};
use tokio::sync::oneshot;

use super::RedisLimitError;
use crate::Decision;

/// One queued check: its Redis key, its script arguments, and where its decision goes.
pub(crate) struct Waiter {
    pub(crate) key: String,
    pub(crate) letter: &'static str,
    pub(crate) a: String,
    /// The second parameter: the burst or count, which is also the check's limit.
    pub(crate) b: u64,
    pub(crate) cost: u64,
    pub(crate) reply: oneshot::Sender<Result<Decision, RedisLimitError>>,
}

/// Slots in flight and the checks waiting for one.
#[derive(Default)]
struct Queue {
    in_flight: usize,
    waiting: Vec<Waiter>,
}

/// What a check got from [`Coalescer::enter`].
pub(crate) enum Entry {
    /// A free slot: send the check now, and release the slot with the guard.
    Lead,
    /// Every slot is busy: the decision arrives here.
    Queued(oneshot::Receiver<Result<Decision, RedisLimitError>>),
}

/// The shared queue of one limiter.
pub(crate) struct Coalescer {
    slots: usize,
    max_batch: usize,
    queue: Mutex<Queue>,
}

impl Coalescer {
    /// `slots` calls in flight at most (at least 1), `max_batch` checks per batched call (at
    /// least 1).
    pub(crate) fn new(slots: usize, max_batch: usize) -> Self {
        Self {
            slots: slots.max(1),
            max_batch: max_batch.max(1),
            queue: Mutex::new(Queue::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock()
    }

    /// Takes a slot, or queues the check built by `waiter` when none is free.
    pub(crate) fn enter(
        &self,
        waiter: impl FnOnce(oneshot::Sender<Result<Decision, RedisLimitError>>) -> Waiter,
    ) -> Entry {
        let mut q = self.lock();
        if q.in_flight < self.slots {
            q.in_flight += 1;
            return Entry::Lead;
        }
        let (tx, rx) = oneshot::channel();
        q.waiting.push(waiter(tx));
        Entry::Queued(rx)
    }

    /// Called when a slot's call finished: the next batch for that slot, or `None` after
    /// releasing the slot (nothing waits).
    pub(crate) fn next_batch(&self) -> Option<Vec<Waiter>> {
        let mut q = self.lock();
        if q.waiting.is_empty() {
            q.in_flight = q.in_flight.saturating_sub(1);
            return None;
        }
        let n = q.waiting.len().min(self.max_batch);
        Some(q.waiting.drain(..n).collect())
    }

    /// How many checks wait now (for tests and metrics).
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.lock().waiting.len()
    }

    /// How many slots are taken now.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.lock().in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(tx: oneshot::Sender<Result<Decision, RedisLimitError>>) -> Waiter {
        Waiter {
            key: "k".to_owned(),
            letter: "g",
            a: "1000".to_owned(),
            b: 10,
            cost: 1,
            reply: tx,
        }
    }

    #[test]
    fn slots_then_queue_then_batches_then_release() {
        let c = Coalescer::new(2, 3);
        assert!(matches!(c.enter(waiter), Entry::Lead));
        assert!(matches!(c.enter(waiter), Entry::Lead));
        let mut receivers = Vec::new();
        for _ in 0..4 {
            match c.enter(waiter) {
                Entry::Queued(rx) => receivers.push(rx),
                Entry::Lead => panic!("no slot should be free"),
            }
        }
        assert_eq!((c.in_flight(), c.waiting()), (2, 4));
        // The first slot to finish takes a batch of at most 3, keeping its slot.
        assert_eq!(c.next_batch().map(|b| b.len()), Some(3));
        assert_eq!((c.in_flight(), c.waiting()), (2, 1));
        assert_eq!(c.next_batch().map(|b| b.len()), Some(1));
        // Nothing waits: both slots are released.
        assert!(c.next_batch().is_none());
        assert!(c.next_batch().is_none());
        assert_eq!((c.in_flight(), c.waiting()), (0, 0));
        assert!(c.next_batch().is_none(), "never below zero");
        assert_eq!(c.in_flight(), 0);
    }
}
