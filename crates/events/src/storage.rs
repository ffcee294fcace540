//! keel-storage's transactional outbox as an [`OutboxSource`] (feature `storage`).
//!
//! Every keel-storage backend (memory, PostgreSQL) writes a change's [`keel_storage::Event`] in the
//! same transaction as the change. [`StorageOutbox`] lets an [`OutboxRelay`](crate::OutboxRelay)
//! claim those records (on PostgreSQL with `FOR UPDATE SKIP LOCKED` and leases, so several relays
//! can run), turns each into an [`Envelope`] with the record's id as event id, and marks each
//! one published individually.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use keel_storage::{OutboxRecord, OutboxRepo, StorageError};

use crate::envelope::Envelope;
use crate::error::OutboxError;
use crate::outbox::{OutboxEntry, OutboxSource};

/// An [`OutboxSource`] over any keel-storage [`OutboxRepo`].
#[derive(Clone)]
pub struct StorageOutbox {
    repo: Arc<dyn OutboxRepo>,
}

impl std::fmt::Debug for StorageOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageOutbox").finish_non_exhaustive()
    }
}

impl StorageOutbox {
    /// Reads the outbox of `repo`.
    pub fn new(repo: Arc<dyn OutboxRepo>) -> Self {
        Self { repo }
    }
}

/// The envelope of a stored outbox record: its id, family, type, version, aggregate, time and
/// the event as JSON payload.
///
/// # Errors
/// [`OutboxError::Unavailable`] if the event cannot be serialized (it was deserialized from the
/// same type, so this does not happen in practice).
pub fn envelope_of(record: &OutboxRecord) -> Result<Envelope, OutboxError> {
    let payload = serde_json::to_value(&record.event).map_err(|e| OutboxError::Unavailable {
        reason: format!("cannot encode outbox record {}: {e}", record.seq),
    })?;
    Ok(Envelope {
        id: record.id,
        family: record.event.family().to_owned(),
        event_type: record.event.kind().to_owned(),
        version: keel_storage::Event::VERSION,
        aggregate_id: record.event.aggregate_id(),
        occurred_at_ms: record.created_at.as_millis(),
        payload,
    })
}

fn unavailable(error: &StorageError) -> OutboxError {
    OutboxError::Unavailable {
        reason: error.to_string(),
    }
}

#[async_trait]
impl OutboxSource for StorageOutbox {
    async fn claim(&self, limit: usize, lease_ms: i64) -> Result<Vec<OutboxEntry>, OutboxError> {
        // keel-storage claims at most 1,000 records at a time.
        let limit = u32::try_from(limit.clamp(1, 1_000)).unwrap_or(1_000);
        let lease = Duration::from_millis(lease_ms.max(1).unsigned_abs());
        let records = self
            .repo
            .claim_outbox(limit, lease)
            .await
            .map_err(|e| unavailable(&e))?;
        records
            .iter()
            .map(|r| {
                Ok(OutboxEntry {
                    seq: r.seq,
                    envelope: envelope_of(r)?,
                })
            })
            .collect()
    }

    async fn mark_published(&self, seq: i64) -> Result<(), OutboxError> {
        match self.repo.mark_published(seq).await {
            // Already published by another relay, or gone: nothing left to do.
            Ok(_) | Err(StorageError::NotFound { .. }) => Ok(()),
            Err(e) => Err(unavailable(&e)),
        }
    }

    async fn mark_published_batch(&self, seqs: &[i64]) -> Result<(), OutboxError> {
        self.repo
            .mark_published_many(seqs)
            .await
            .map(|_| ())
            .map_err(|e| unavailable(&e))
    }

    async fn release(&self, seqs: &[i64]) -> Result<(), OutboxError> {
        self.repo
            .release_outbox(seqs)
            .await
            .map_err(|e| unavailable(&e))
    }
}
