//! The in-process bus: the embedded default. One bounded queue per durable consumer; a publish
//! waits while a consumer's queue is full (backpressure), so a slow consumer slows producers
//! rather than growing memory without bound.
//!
//! Routing: an event goes to every consumer subscribed to its family *at publish time*. The bus
//! keeps no history, so subscribe every consumer before producers start (the server does so at
//! start-up); events of a family with no consumer are counted in `keel_events_unrouted_total`
//! and logged. For durability across restarts use the outbox (events stay there until relayed)
//! and JetStream.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::bus::{
    DeadLetter, Delivery, EventBus, PublishReceipt, Settle, Subscription, SubscriptionSpec,
};
use crate::envelope::Envelope;
use crate::error::BusError;

/// Default capacity of each consumer's queue.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;

#[derive(Debug)]
struct Queued {
    envelope: Envelope,
    attempt: u32,
}

#[derive(Debug)]
struct Group {
    consumer: String,
    tx: mpsc::Sender<Queued>,
    rx: tokio::sync::Mutex<mpsc::Receiver<Queued>>,
}

#[derive(Debug)]
struct Inner {
    capacity: usize,
    /// family -> consumer -> queue
    groups: Mutex<HashMap<String, HashMap<String, Arc<Group>>>>,
    /// family -> dead letters, oldest first
    dead: Mutex<HashMap<String, Vec<DeadLetter>>>,
    closed: watch::Sender<bool>,
}

/// An in-process [`EventBus`] on tokio. Clones share the same bus.
#[derive(Debug, Clone)]
pub struct InProcessBus {
    inner: Arc<Inner>,
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new(DEFAULT_QUEUE_CAPACITY)
    }
}

impl InProcessBus {
    /// A bus whose consumer queues hold `capacity` events each (at least 1).
    pub fn new(capacity: usize) -> Self {
        let (closed, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                capacity: capacity.max(1),
                groups: Mutex::new(HashMap::new()),
                dead: Mutex::new(HashMap::new()),
                closed,
            }),
        }
    }

    /// Shuts the bus down: subscriptions end (`next` returns `Ok(None)`), publishes fail.
    pub fn close(&self) {
        self.inner.closed.send_replace(true);
    }

    /// Events waiting in each consumer's queue of `family` (consumer name, depth).
    pub fn queue_depths(&self, family: &str) -> Vec<(String, usize)> {
        let groups = self.inner.groups.lock();
        groups
            .get(family)
            .map(|g| {
                g.values()
                    .map(|q| (q.consumer.clone(), self.inner.capacity - q.tx.capacity()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn group(&self, family: &str, consumer: &str) -> Arc<Group> {
        let mut groups = self.inner.groups.lock();
        let by_consumer = groups.entry(family.to_owned()).or_default();
        Arc::clone(by_consumer.entry(consumer.to_owned()).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(self.inner.capacity);
            Arc::new(Group {
                consumer: consumer.to_owned(),
                tx,
                rx: tokio::sync::Mutex::new(rx),
            })
        }))
    }

    fn is_closed(&self) -> bool {
        *self.inner.closed.borrow()
    }
}

async fn send(group: &Group, queued: Queued) -> Result<(), BusError> {
    group.tx.send(queued).await.map_err(|_| BusError::Closed)
}

#[async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, envelope: &Envelope) -> Result<PublishReceipt, BusError> {
        if self.is_closed() {
            return Err(BusError::Closed);
        }
        let targets: Vec<Arc<Group>> = {
            let groups = self.inner.groups.lock();
            groups
                .get(&envelope.family)
                .map(|g| g.values().cloned().collect())
                .unwrap_or_default()
        };
        if targets.is_empty() {
            metrics::counter!("keel_events_unrouted_total", "family" => envelope.family.clone())
                .increment(1);
            tracing::warn!(family = %envelope.family, event_type = %envelope.event_type,
                "event published to a family with no consumer");
        }
        for group in targets {
            let queued = Queued {
                envelope: envelope.clone(),
                attempt: 1,
            };
            send(&group, queued).await?;
        }
        Ok(PublishReceipt::new(false))
    }

    async fn subscribe(&self, spec: &SubscriptionSpec) -> Result<Box<dyn Subscription>, BusError> {
        if self.is_closed() {
            return Err(BusError::Closed);
        }
        Ok(Box::new(InProcessSubscription {
            bus: self.clone(),
            group: self.group(&spec.family, &spec.consumer),
            family: spec.family.clone(),
            closed: self.inner.closed.subscribe(),
        }))
    }

    async fn dead_letters(&self, family: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        let dead = self.inner.dead.lock();
        Ok(dead
            .get(family)
            .map(|d| d.iter().take(limit).cloned().collect())
            .unwrap_or_default())
    }

    async fn replay_dead_letter(&self, family: &str, event_id: Uuid) -> Result<(), BusError> {
        let letter = {
            let mut dead = self.inner.dead.lock();
            let list = dead
                .get_mut(family)
                .ok_or(BusError::DeadLetterNotFound(event_id))?;
            let pos = list
                .iter()
                .position(|d| d.envelope.id == event_id)
                .ok_or(BusError::DeadLetterNotFound(event_id))?;
            list.remove(pos)
        };
        let group = self.group(family, &letter.consumer);
        send(
            &group,
            Queued {
                envelope: letter.envelope,
                attempt: 1,
            },
        )
        .await
    }
}

#[derive(Debug)]
struct InProcessSubscription {
    bus: InProcessBus,
    group: Arc<Group>,
    family: String,
    closed: watch::Receiver<bool>,
}

#[async_trait]
impl Subscription for InProcessSubscription {
    async fn next(&mut self) -> Result<Option<Delivery>, BusError> {
        if *self.closed.borrow() {
            return Ok(None);
        }
        let mut rx = tokio::select! {
            rx = self.group.rx.lock() => rx,
            _ = self.closed.wait_for(|c| *c) => return Ok(None),
        };
        let queued = tokio::select! {
            q = rx.recv() => q,
            _ = self.closed.wait_for(|c| *c) => return Ok(None),
        };
        drop(rx);
        let Some(queued) = queued else {
            return Ok(None);
        };
        let settle = InProcessSettle {
            bus: self.bus.clone(),
            group: Arc::clone(&self.group),
            family: self.family.clone(),
            envelope: queued.envelope.clone(),
            attempt: queued.attempt,
        };
        Ok(Some(Delivery::new(
            queued.envelope,
            queued.attempt,
            Box::new(settle),
        )))
    }
}

#[derive(Debug)]
struct InProcessSettle {
    bus: InProcessBus,
    group: Arc<Group>,
    family: String,
    envelope: Envelope,
    attempt: u32,
}

impl InProcessSettle {
    fn again(&self) -> Queued {
        Queued {
            envelope: self.envelope.clone(),
            attempt: self.attempt.saturating_add(1),
        }
    }
}

#[async_trait]
impl Settle for InProcessSettle {
    async fn ack(&self) -> Result<(), BusError> {
        Ok(())
    }

    async fn retry(&self, delay: Duration) -> Result<(), BusError> {
        let group = Arc::clone(&self.group);
        let queued = self.again();
        if delay.is_zero() {
            return send(&group, queued).await;
        }
        // Redeliver later without holding the consumer up. The timer is tokio's, so tests can
        // pause and advance time instead of sleeping.
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = send(&group, queued).await;
        });
        Ok(())
    }

    async fn dead_letter(&self, reason: &str, attempts: u32) -> Result<(), BusError> {
        let mut dead = self.bus.inner.dead.lock();
        dead.entry(self.family.clone())
            .or_default()
            .push(DeadLetter {
                envelope: self.envelope.clone(),
                consumer: self.group.consumer.clone(),
                reason: reason.to_owned(),
                attempts,
            });
        Ok(())
    }

    fn abandoned(&self) {
        let queued = self.again();
        match self.group.tx.try_send(queued) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(queued)) => {
                let group = Arc::clone(&self.group);
                if let Ok(handle) = tokio::runtime::Handle::try_current() {
                    handle.spawn(async move {
                        let _ = send(&group, queued).await;
                    });
                } else {
                    tracing::error!(event_id = %queued.envelope.id,
                        "delivery dropped outside a tokio runtime with a full queue: not requeued");
                }
            }
        }
    }
}
