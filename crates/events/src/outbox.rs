//! Where the relay reads events from: the transactional outbox.
//!
//! A service writes its change and the change's event in one database transaction (see
//! keel-storage's outbox). An [`OutboxSource`] hands those events to the relay in batches and
//! marks each one published after the broker stored it. [`MemoryOutbox`] is the in-process
//! implementation (and the model the PostgreSQL one follows).
//!
//! Claims are leases: a claimed entry belongs to one relay until it is marked, released, or its
//! lease expires (the relay died), so several relays can run and a dead one loses nothing.
//! Order per aggregate: an entry is claimable only if no earlier unpublished entry of the same
//! aggregate is held by another claim, so two relays never publish one aggregate's events out
//! of order.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::clock::Clock;
use crate::envelope::Envelope;
use crate::error::OutboxError;

/// One unpublished event and its position in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    /// Position in the outbox (increasing in insertion order).
    pub seq: i64,
    /// The event.
    pub envelope: Envelope,
}

/// A store of unpublished events.
#[async_trait]
pub trait OutboxSource: Send + Sync + std::fmt::Debug {
    /// Claims up to `limit` unpublished entries for `lease_ms` milliseconds, in `seq` order.
    async fn claim(&self, limit: usize, lease_ms: i64) -> Result<Vec<OutboxEntry>, OutboxError>;
    /// Marks one entry published (it will never be claimed again).
    async fn mark_published(&self, seq: i64) -> Result<(), OutboxError>;
    /// Marks several entries published; the relay marks each published wave with one call.
    /// The default marks one after another; a database source overrides it with one
    /// statement.
    async fn mark_published_batch(&self, seqs: &[i64]) -> Result<(), OutboxError> {
        for &seq in seqs {
            self.mark_published(seq).await?;
        }
        Ok(())
    }
    /// Gives claimed entries back at once (a publish failed; retry them next round).
    async fn release(&self, seqs: &[i64]) -> Result<(), OutboxError>;
}

#[derive(Debug)]
struct Pending {
    envelope: Envelope,
    claimed_until_ms: Option<i64>,
}

/// An in-memory outbox: an ordered map of pending entries with leases.
#[derive(Debug)]
pub struct MemoryOutbox {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next_seq: i64,
    pending: BTreeMap<i64, Pending>,
    published: u64,
}

impl MemoryOutbox {
    /// An empty outbox whose leases follow `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new(State::default()),
        }
    }

    /// Appends an event; returns its sequence number.
    pub fn append(&self, envelope: Envelope) -> i64 {
        let mut state = self.state.lock();
        state.next_seq += 1;
        let seq = state.next_seq;
        state.pending.insert(
            seq,
            Pending {
                envelope,
                claimed_until_ms: None,
            },
        );
        seq
    }

    /// Entries not yet published.
    pub fn pending(&self) -> usize {
        self.state.lock().pending.len()
    }

    /// Entries marked published so far.
    pub fn published(&self) -> u64 {
        self.state.lock().published
    }
}

#[async_trait]
impl OutboxSource for MemoryOutbox {
    async fn claim(&self, limit: usize, lease_ms: i64) -> Result<Vec<OutboxEntry>, OutboxError> {
        let now = self.clock.now_ms();
        let mut state = self.state.lock();
        let mut blocked: HashSet<String> = HashSet::new();
        let mut out = Vec::new();
        for (seq, entry) in &mut state.pending {
            if out.len() >= limit {
                break;
            }
            let aggregate = &entry.envelope.aggregate_id;
            let held = entry.claimed_until_ms.is_some_and(|until| until > now);
            if held {
                blocked.insert(aggregate.clone());
                continue;
            }
            if blocked.contains(aggregate) {
                continue;
            }
            entry.claimed_until_ms = Some(now.saturating_add(lease_ms.max(0)));
            out.push(OutboxEntry {
                seq: *seq,
                envelope: entry.envelope.clone(),
            });
        }
        Ok(out)
    }

    async fn mark_published(&self, seq: i64) -> Result<(), OutboxError> {
        let mut state = self.state.lock();
        if state.pending.remove(&seq).is_some() {
            state.published += 1;
        }
        Ok(())
    }

    async fn release(&self, seqs: &[i64]) -> Result<(), OutboxError> {
        let mut state = self.state.lock();
        for seq in seqs {
            if let Some(entry) = state.pending.get_mut(seq) {
                entry.claimed_until_ms = None;
            }
        }
        Ok(())
    }
}
