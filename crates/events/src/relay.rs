//! The outbox relay: claims unpublished events, publishes them with their event id as the
//! broker's de-duplication id, and marks each one published individually.
//!
//! Delivery is at least once: a relay that dies after publishing and before marking publishes
//! again after its lease expires, and the broker (JetStream's `Nats-Msg-Id` window) or the
//! consumer's [`Deduplicator`](crate::Deduplicator) drops the copy. Rows are marked one by one,
//! never by a growing id high-water mark, which would skip rows whose transactions commit out of
//! order. When a publish fails, the rest of that aggregate's events in the batch are released
//! unpublished, so an aggregate's order is kept.

use std::collections::HashSet;
use std::sync::Arc;

use crate::bus::EventBus;
use crate::error::RelayError;
use crate::outbox::OutboxSource;

/// What one relay round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayRound {
    /// Events the broker stored (new).
    pub published: usize,
    /// Events the broker already had (a retry after a crash between publish and mark).
    pub duplicates: usize,
    /// Events left for a later round because a publish failed.
    pub deferred: usize,
}

/// Moves events from an outbox to a bus.
#[derive(Debug, Clone)]
pub struct OutboxRelay {
    source: Arc<dyn OutboxSource>,
    bus: Arc<dyn EventBus>,
    batch_size: usize,
    lease_ms: i64,
}

impl OutboxRelay {
    /// A relay with batches of 256 and a 30 s lease.
    pub fn new(source: Arc<dyn OutboxSource>, bus: Arc<dyn EventBus>) -> Self {
        Self {
            source,
            bus,
            batch_size: 256,
            lease_ms: 30_000,
        }
    }

    /// Sets how many events one round claims (at least 1).
    #[must_use]
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Sets how long a claim lasts; make it longer than a round takes.
    #[must_use]
    pub fn lease_ms(mut self, lease_ms: i64) -> Self {
        self.lease_ms = lease_ms.max(1);
        self
    }

    /// Claims one batch, publishes it in order and marks each event published.
    ///
    /// # Errors
    /// [`RelayError::Outbox`] when claiming fails or a mark fails (the event was published:
    /// it is published again after the lease and dropped as a duplicate).
    pub async fn run_once(&self) -> Result<RelayRound, RelayError> {
        let batch = self.source.claim(self.batch_size, self.lease_ms).await?;
        let mut round = RelayRound::default();
        let mut failed_aggregates: HashSet<String> = HashSet::new();
        let mut deferred = Vec::new();
        let mut remaining = batch;
        // Publish in waves holding at most one event per aggregate: a wave is pipelined (one
        // round trip on JetStream), and an aggregate's next event waits for the previous one's
        // acknowledgement, so a failure can never let a later event of the aggregate pass it.
        while !remaining.is_empty() {
            let mut in_wave: HashSet<&str> = HashSet::new();
            let mut wave = Vec::new();
            let mut later = Vec::new();
            for entry in &remaining {
                let aggregate = entry.envelope.aggregate_id.as_str();
                if failed_aggregates.contains(aggregate) {
                    deferred.push(entry.seq);
                } else if in_wave.insert(aggregate) {
                    wave.push(entry);
                } else {
                    later.push(entry.clone());
                }
            }
            let envelopes: Vec<_> = wave.iter().map(|e| e.envelope.clone()).collect();
            let results = self.bus.publish_batch(&envelopes).await;
            // A backend returning fewer results than events leaves the rest for a later round.
            deferred.extend(wave.iter().skip(results.len()).map(|e| e.seq));
            let mut published = Vec::with_capacity(wave.len());
            for (entry, result) in wave.iter().zip(results) {
                match result {
                    Ok(receipt) => {
                        published.push(entry.seq);
                        if receipt.duplicate {
                            round.duplicates += 1;
                        } else {
                            round.published += 1;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(event_id = %entry.envelope.id, %error,
                            "publish failed; the event stays in the outbox");
                        failed_aggregates.insert(entry.envelope.aggregate_id.clone());
                        deferred.push(entry.seq);
                    }
                }
            }
            // One call marks the wave, before the next wave publishes any later event of
            // these aggregates.
            if !published.is_empty() {
                self.source.mark_published_batch(&published).await?;
            }
            remaining = later;
        }
        round.deferred = deferred.len();
        if !deferred.is_empty() {
            self.source.release(&deferred).await?;
        }
        metrics::counter!("keel_events_relayed_total").increment(round.published as u64);
        Ok(round)
    }

    /// Runs rounds until `shutdown` resolves: at once while batches come back full, otherwise
    /// every `idle` interval. Errors are logged and retried next round.
    #[cfg(feature = "tokio")]
    pub async fn run(self, idle: std::time::Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            // A round cancelled by shutdown loses nothing: its claims expire and the events
            // are published again (and de-duplicated) by the next relay.
            let round = tokio::select! {
                biased;
                () = &mut shutdown => break,
                round = self.run_once() => round,
            };
            let busy = match round {
                Ok(round) => round.published + round.duplicates >= self.batch_size,
                Err(error) => {
                    tracing::warn!(%error, "relay round failed");
                    false
                }
            };
            if busy {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(idle) => {}
            }
        }
    }
}
