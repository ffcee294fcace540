//! The outbox in the memory backend.

use std::collections::HashSet;
use std::time::Duration;

use super::state::State;
use crate::clock::Timestamp;
use crate::error::{Entity, Result, StorageError};
use crate::event::OutboxRecord;

impl State {
    pub(super) fn claim_outbox(
        &mut self,
        now: Timestamp,
        limit: usize,
        lease: Duration,
    ) -> Vec<OutboxRecord> {
        let until = now.plus_micros(i64::try_from(lease.as_micros()).unwrap_or(i64::MAX));
        let mut out = Vec::new();
        let mut blocked: HashSet<String> = HashSet::new();
        for entry in self.outbox.values_mut() {
            if out.len() >= limit {
                break;
            }
            let aggregate = entry.record.event.aggregate_id();
            if entry.leased_until.is_some_and(|t| t > now) {
                blocked.insert(aggregate);
                continue;
            }
            if blocked.contains(&aggregate) {
                continue;
            }
            entry.leased_until = Some(until);
            entry.record.attempts = entry.record.attempts.saturating_add(1);
            out.push(entry.record.clone());
        }
        out
    }

    /// Published records are dropped (memory keeps no history); a `seq` below the next one to
    /// be assigned but absent was therefore published already.
    pub(super) fn mark_published(&mut self, seq: i64) -> Result<bool> {
        if self.outbox.remove(&seq).is_some() {
            return Ok(true);
        }
        if seq >= 1 && seq < self.next_seq {
            return Ok(false);
        }
        Err(StorageError::not_found(Entity::OutboxEvent, seq))
    }

    pub(super) fn release_outbox(&mut self, seqs: &[i64]) {
        for seq in seqs {
            if let Some(e) = self.outbox.get_mut(seq) {
                e.leased_until = None;
            }
        }
    }

    pub(super) fn pending_outbox(&self) -> u64 {
        self.outbox.len() as u64
    }
}
