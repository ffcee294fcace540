//! Shared test pieces: a typed event and an effect store whose effect and dedup record are one
//! atomic step (the pattern the crate documents for exactly-once effects).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use keel_events::*;
use parking_lot::Mutex;
use uuid::Uuid;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct PostCreated {
    pub post_id: u64,
    pub author_id: u64,
    pub poison: bool,
}

impl Event for PostCreated {
    const FAMILY: &'static str = "posts";
    const TYPE: &'static str = "PostCreated";
    fn aggregate_id(&self) -> String {
        self.author_id.to_string()
    }
}

pub fn post(n: u64) -> PostCreated {
    PostCreated {
        post_id: n,
        author_id: n % 97,
        poison: false,
    }
}

/// Applies each event's effect once: the effect (a count per event id) and the "processed"
/// record are the same map entry, written under one lock.
#[derive(Debug, Default)]
pub struct EffectStore {
    pub applied: Mutex<HashMap<Uuid, u32>>,
    /// Order of post ids seen per author, to check per-aggregate order.
    pub order: Mutex<HashMap<u64, Vec<u64>>>,
    pub duplicate_effects: AtomicU64,
    pub calls: AtomicU64,
    /// When set, the handler fails transiently (a backend down).
    pub failing: AtomicBool,
}

impl EffectStore {
    pub fn distinct(&self) -> usize {
        self.applied.lock().len()
    }
}

#[async_trait]
impl Handler for EffectStore {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let event: PostCreated = envelope
            .decode()
            .map_err(|e| HandlerError::permanent(e.to_string()))?;
        if event.poison {
            return Err(HandlerError::transient("poison event always fails"));
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(HandlerError::transient("backend down"));
        }
        let mut applied = self.applied.lock();
        let count = applied.entry(envelope.id).or_insert(0);
        *count += 1;
        if *count > 1 {
            self.duplicate_effects.fetch_add(1, Ordering::SeqCst);
        } else {
            self.order
                .lock()
                .entry(event.author_id)
                .or_default()
                .push(event.post_id);
        }
        Ok(())
    }
}

#[async_trait]
impl Deduplicator for EffectStore {
    async fn seen(&self, _consumer: &str, event_id: Uuid) -> bool {
        self.applied.lock().contains_key(&event_id)
    }
    async fn record(&self, _consumer: &str, _event_id: Uuid) {
        // Recorded by the effect itself, atomically.
    }
}

/// Checks that every author's posts were applied in increasing post id order.
pub fn assert_ordered_per_author(store: &EffectStore) {
    for (author, posts) in store.order.lock().iter() {
        assert!(
            posts.windows(2).all(|w| w[0] < w[1]),
            "author {author} out of order: {posts:?}"
        );
    }
}

/// An outbox whose marks fail after `ok_marks`: the relay "dies" between publish and mark.
#[derive(Debug)]
pub struct CrashingOutbox {
    inner: std::sync::Arc<dyn OutboxSource>,
    ok_marks: std::sync::atomic::AtomicI64,
}

impl CrashingOutbox {
    pub fn new(inner: std::sync::Arc<dyn OutboxSource>, ok_marks: i64) -> Self {
        Self {
            inner,
            ok_marks: ok_marks.into(),
        }
    }
}

#[async_trait]
impl OutboxSource for CrashingOutbox {
    async fn claim(&self, limit: usize, lease_ms: i64) -> Result<Vec<OutboxEntry>, OutboxError> {
        self.inner.claim(limit, lease_ms).await
    }
    async fn mark_published(&self, seq: i64) -> Result<(), OutboxError> {
        if self.ok_marks.fetch_sub(1, Ordering::SeqCst) <= 0 {
            return Err(OutboxError::Unavailable {
                reason: "relay killed".into(),
            });
        }
        self.inner.mark_published(seq).await
    }
    async fn release(&self, seqs: &[i64]) -> Result<(), OutboxError> {
        self.inner.release(seqs).await
    }
}
