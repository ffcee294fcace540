//! # keel-events
//!
//! An outbox relay and an event bus that lose nothing: a change and its event are written in one
//! transaction (the outbox), a relay publishes the event, and each consumer (feed, search,
//! notifications, analytics) processes it on its own, at least once, with duplicates made
//! harmless by event id.
//!
//! ```
//! # #[cfg(feature = "tokio")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use keel_events::*;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct PostCreated { post_id: u64, author_id: u64 }
//! impl Event for PostCreated {
//!     const FAMILY: &'static str = "posts";
//!     const TYPE: &'static str = "PostCreated";
//!     fn aggregate_id(&self) -> String { self.author_id.to_string() }
//! }
//!
//! struct CountPosts(std::sync::atomic::AtomicU64);
//! #[async_trait::async_trait]
//! impl Handler for CountPosts {
//!     async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
//!         let event: PostCreated = envelope.decode().map_err(|e| HandlerError::permanent(e.to_string()))?;
//!         assert!(event.post_id > 0);
//!         self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
//!         Ok(())
//!     }
//! }
//!
//! let clock: Arc<dyn Clock> = Arc::new(SystemClock);
//! let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::default());
//! let counter = Arc::new(CountPosts(Default::default()));
//! let consumer = ConsumerRunner::spawn(
//!     bus.clone(),
//!     SubscriptionSpec::new("feed", "posts")?,
//!     counter.clone(),
//!     Arc::new(MemoryDeduplicator::default()),
//!     clock.clone(),
//!     RunnerOptions::default(),
//! ).await?;
//!
//! // The service writes the event into its outbox with the change; the relay publishes it.
//! let outbox = Arc::new(MemoryOutbox::new(clock.clone()));
//! outbox.append(Envelope::new(&PostCreated { post_id: 1, author_id: 7 }, clock.as_ref())?);
//! let round = OutboxRelay::new(outbox.clone(), bus.clone()).run_once().await?;
//! assert_eq!(round.published, 1);
//!
//! while consumer.stats().processed() < 1 { tokio::task::yield_now().await; }
//! consumer.shutdown().await;
//! assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "tokio"))]
//! # fn main() {}
//! ```
//!
//! # Layout
//! - [`envelope`]: the versioned [`Envelope`] (id, family, type, version, aggregate, time,
//!   payload) and the [`Event`] trait for typed payloads.
//! - [`bus`]: the [`EventBus`] and [`Subscription`] traits, [`Delivery`] (ack, retry,
//!   dead-letter; dropped unsettled means redelivered), [`DeadLetter`].
//! - [`memory`] (feature `tokio`): [`InProcessBus`], bounded queues with backpressure.
//! - [`nats`] (feature `nats`): [`JetStreamBus`], streams per family, durable consumers,
//!   `Nats-Msg-Id` de-duplication, dead-letter streams; its docs state the durability guarantee.
//! - [`outbox`]: the [`OutboxSource`] trait the relay reads, with leases and per-aggregate
//!   order, and [`MemoryOutbox`].
//! - [`relay`]: [`OutboxRelay`], publish then mark each event individually.
//! - `storage` (feature `storage`): `StorageOutbox`, keel-storage's outbox (memory or
//!   PostgreSQL with `FOR UPDATE SKIP LOCKED`) as a relay source.
//! - [`dedup`]: [`Deduplicator`] by event id and the bounded [`MemoryDeduplicator`].
//! - [`runner`] (feature `tokio`): [`ConsumerRunner`], retries with backoff, dead letters after
//!   `max_attempts`, lag metrics, clean shutdown.
//! - [`clock`]: the injected [`Clock`].
//!
//! # Guarantees
//! - At least once from outbox to consumer; exactly once *in effect* when the consumer's
//!   effect and its dedup record commit together (see [`dedup`]).
//! - Order per aggregate from the relay: an aggregate's events are claimed and published in
//!   outbox order; a failed publish holds back that aggregate's later events. A consumer retry
//!   lets later events pass the failed one.
//! - A poison event is dead-lettered after `max_attempts` and the others keep flowing.
//!
//! # Metrics
//! `keel_events_processed_total`, `keel_events_duplicates_total`, `keel_events_retries_total`,
//! `keel_events_dead_lettered_total` (label `consumer`), `keel_events_consumer_lag_seconds`
//! (histogram), `keel_events_relayed_total`, `keel_events_unrouted_total` (label `family`).
//!
//! # Features
//! | feature | enables | default |
//! |---|---|---|
//! | `tokio` | the in-process bus, the consumer runner and the relay loop | no |
//! | `nats` | the NATS JetStream bus (async-nats) | no |
//! | `storage` | keel-storage's outbox as a relay source | no |

pub mod bus;
pub mod clock;
pub mod dedup;
pub mod envelope;
pub mod error;
#[cfg(feature = "tokio")]
pub mod memory;
#[cfg(feature = "nats")]
pub mod nats;
pub mod outbox;
pub mod relay;
#[cfg(feature = "tokio")]
pub mod runner;
#[cfg(feature = "storage")]
pub mod storage;

pub use bus::{
    DeadLetter, Delivery, EventBus, PublishReceipt, Settle, Subscription, SubscriptionSpec,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use dedup::{Deduplicator, MemoryDeduplicator};
pub use envelope::{Envelope, Event};
pub use error::{BusError, EnvelopeError, OutboxError, RelayError};
#[cfg(feature = "tokio")]
pub use memory::InProcessBus;
#[cfg(feature = "nats")]
pub use nats::{JetStreamBus, JetStreamOptions};
pub use outbox::{MemoryOutbox, OutboxEntry, OutboxSource};
pub use relay::{OutboxRelay, RelayRound};
#[cfg(feature = "tokio")]
pub use runner::{
    Backoff, ConsumerHandle, ConsumerRunner, ConsumerStats, Handler, HandlerError, RunnerOptions,
};
#[cfg(feature = "storage")]
pub use storage::{StorageOutbox, envelope_of};
