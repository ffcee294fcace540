//! The bus traits: publish envelopes, subscribe as a named durable consumer, settle each
//! delivery (ack, retry later, dead-letter), and list or replay dead letters.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::{Envelope, validate_family};
use crate::error::BusError;

/// What the broker said about a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublishReceipt {
    /// The broker had already stored an event with this id (a relay retry): it kept one copy.
    pub duplicate: bool,
}

impl PublishReceipt {
    /// A receipt for a newly stored event (`duplicate: false`) or a dropped duplicate.
    pub fn new(duplicate: bool) -> Self {
        Self { duplicate }
    }
}

/// Who consumes what: a durable consumer name (its progress survives restarts) on one family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionSpec {
    /// Durable consumer name: 1 to 64 of ASCII letters, digits, `_` and `-`. Subscriptions with
    /// the same name share the work (competing consumers); different names each get every event.
    pub consumer: String,
    /// The event family to consume.
    pub family: String,
    /// How long a delivery may stay unsettled before the broker delivers it again.
    pub ack_wait: Duration,
}

impl SubscriptionSpec {
    /// A spec with a 30 s acknowledgement deadline.
    ///
    /// # Errors
    /// [`BusError::InvalidName`] for a bad consumer name, [`BusError::Envelope`] for a bad family.
    pub fn new(consumer: impl Into<String>, family: impl Into<String>) -> Result<Self, BusError> {
        let consumer = consumer.into();
        let family = family.into();
        validate_consumer(&consumer)?;
        validate_family(&family)?;
        Ok(Self {
            consumer,
            family,
            ack_wait: Duration::from_secs(30),
        })
    }

    /// Sets the acknowledgement deadline.
    #[must_use]
    pub fn ack_wait(mut self, ack_wait: Duration) -> Self {
        self.ack_wait = ack_wait;
        self
    }
}

fn validate_consumer(name: &str) -> Result<(), BusError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(BusError::InvalidName {
            name: name.chars().take(80).collect(),
            rule: "a consumer name is 1 to 64 ASCII letters, digits, '_' or '-'",
        })
    }
}

/// An event that a consumer gave up on, kept for an operator to inspect and replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The event.
    pub envelope: Envelope,
    /// The consumer that gave up.
    pub consumer: String,
    /// Why (the handler's last error).
    pub reason: String,
    /// How many deliveries were tried.
    pub attempts: u32,
}

/// A publisher and consumer of events.
#[async_trait]
pub trait EventBus: Send + Sync + std::fmt::Debug {
    /// Publishes one event; returns once the broker has stored it (or dropped it as a duplicate
    /// of an event with the same id).
    async fn publish(&self, envelope: &Envelope) -> Result<PublishReceipt, BusError>;

    /// Publishes several events and returns one result per event, in order. Backends that can
    /// pipeline (JetStream) send them all before waiting for acknowledgements; the default
    /// publishes one after another. Events of one aggregate must not appear twice in one call
    /// if their relative order matters: a failure of the first does not stop the second.
    async fn publish_batch(&self, envelopes: &[Envelope]) -> Vec<Result<PublishReceipt, BusError>> {
        let mut results = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            results.push(self.publish(envelope).await);
        }
        results
    }

    /// Opens a subscription for a durable consumer.
    async fn subscribe(&self, spec: &SubscriptionSpec) -> Result<Box<dyn Subscription>, BusError>;

    /// Up to `limit` dead letters of a family, oldest first.
    async fn dead_letters(&self, family: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError>;

    /// Sends a dead letter back to the consumer that gave up on it (attempts start again) and
    /// removes it from the dead letters.
    async fn replay_dead_letter(&self, family: &str, event_id: Uuid) -> Result<(), BusError>;
}

/// A stream of deliveries for one consumer.
#[async_trait]
pub trait Subscription: Send + std::fmt::Debug {
    /// The next delivery, waiting for one; `Ok(None)` once the bus is shut down.
    async fn next(&mut self) -> Result<Option<Delivery>, BusError>;
}

/// How a backend settles a delivery. Implemented by each bus; users call [`Delivery`]'s methods.
#[async_trait]
pub trait Settle: Send + Sync + std::fmt::Debug {
    /// The consumer processed it: never deliver it again to this consumer.
    async fn ack(&self) -> Result<(), BusError>;
    /// Deliver it again after `delay`.
    async fn retry(&self, delay: Duration) -> Result<(), BusError>;
    /// Stop delivering it; keep it as a dead letter with `reason`.
    async fn dead_letter(&self, reason: &str, attempts: u32) -> Result<(), BusError>;
    /// The delivery was dropped unsettled (the consumer crashed or was cancelled).
    fn abandoned(&self);
}

/// One event handed to a consumer, to be settled exactly once.
///
/// Dropping a delivery without settling it makes it due again (at once in process, after the
/// acknowledgement deadline on JetStream): a crashed or cancelled consumer loses nothing.
#[derive(Debug)]
pub struct Delivery {
    /// The event.
    pub envelope: Envelope,
    /// Which delivery of this event to this consumer this is, from 1.
    pub attempt: u32,
    settle: Option<Box<dyn Settle>>,
}

impl Delivery {
    /// A delivery settled through `settle` (for bus implementations).
    pub fn new(envelope: Envelope, attempt: u32, settle: Box<dyn Settle>) -> Self {
        Self {
            envelope,
            attempt,
            settle: Some(settle),
        }
    }

    /// Acknowledges the event.
    ///
    /// # Errors
    /// [`BusError`] if the broker could not be told; the event may then be delivered again.
    pub async fn ack(mut self) -> Result<(), BusError> {
        match self.settle.take() {
            Some(s) => s.ack().await,
            None => Ok(()),
        }
    }

    /// Asks for the event again after `delay`.
    ///
    /// # Errors
    /// [`BusError`] if the broker could not be told; it redelivers after the deadline anyway.
    pub async fn retry(mut self, delay: Duration) -> Result<(), BusError> {
        match self.settle.take() {
            Some(s) => s.retry(delay).await,
            None => Ok(()),
        }
    }

    /// Gives up on the event: it goes to the family's dead letters.
    ///
    /// # Errors
    /// [`BusError`] if the dead letter could not be stored; the event stays due.
    pub async fn dead_letter(mut self, reason: &str) -> Result<(), BusError> {
        let attempts = self.attempt;
        match self.settle.take() {
            Some(s) => s.dead_letter(reason, attempts).await,
            None => Ok(()),
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if let Some(settle) = self.settle.take() {
            settle.abandoned();
        }
    }
}
