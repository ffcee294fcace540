//! The consumer runner: one task per consumer, with retries and backoff, de-duplication by event
//! id, dead letters after a maximum number of attempts, lag metrics, and a clean shutdown that
//! finishes the event in hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::bus::{Delivery, EventBus, SubscriptionSpec};
use crate::clock::Clock;
use crate::dedup::Deduplicator;
use crate::envelope::Envelope;
use crate::error::BusError;

/// Why a handler could not process an event.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct HandlerError {
    /// What went wrong (kept with the dead letter).
    pub message: String,
    /// `true` when retrying cannot help (a malformed payload): dead-letter at once.
    pub permanent: bool,
}

impl HandlerError {
    /// A failure that may pass on retry (a backend briefly down).
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }

    /// A failure that retrying cannot fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }
}

/// What a consumer does with each event.
#[async_trait]
pub trait Handler: Send + Sync {
    /// Processes one event. Must be safe to call again for the same event if the process dies
    /// before the event is recorded as processed (see [`Deduplicator`]).
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError>;
}

/// Exponential backoff between attempts: `initial * multiplier^(attempt-1)`, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay before the second attempt.
    pub initial: Duration,
    /// Upper bound of any delay.
    pub max: Duration,
    /// Growth factor per attempt (at least 1).
    pub multiplier: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
            multiplier: 2,
        }
    }
}

impl Backoff {
    /// The delay after failed attempt number `attempt` (from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = self
            .multiplier
            .max(1)
            .checked_pow(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// How the runner treats failures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunnerOptions {
    /// Deliveries tried before an event goes to the dead letters (at least 1).
    pub max_attempts: u32,
    /// Delay between attempts.
    pub backoff: Backoff,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            backoff: Backoff::default(),
        }
    }
}

/// Counters of one consumer, readable while it runs.
#[derive(Debug, Default)]
pub struct ConsumerStats {
    processed: AtomicU64,
    duplicates: AtomicU64,
    retries: AtomicU64,
    dead_lettered: AtomicU64,
    last_lag_ms: AtomicI64,
}

impl ConsumerStats {
    /// Events the handler processed successfully.
    pub fn processed(&self) -> u64 {
        self.processed.load(Ordering::Relaxed)
    }
    /// Redeliveries skipped because the event was already processed.
    pub fn duplicates(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }
    /// Failed attempts that were scheduled again.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
    /// Events given up on.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered.load(Ordering::Relaxed)
    }
    /// Lag of the last event taken: its age, in milliseconds, when the consumer got it.
    pub fn last_lag_ms(&self) -> i64 {
        self.last_lag_ms.load(Ordering::Relaxed)
    }
}

/// A running consumer. [`shutdown`](ConsumerHandle::shutdown) stops it after the event in hand;
/// dropping the handle asks it to stop the same way without waiting.
#[derive(Debug)]
pub struct ConsumerHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    stats: Arc<ConsumerStats>,
}

impl ConsumerHandle {
    /// The consumer's counters.
    pub fn stats(&self) -> Arc<ConsumerStats> {
        Arc::clone(&self.stats)
    }

    /// Stops taking new events, finishes (and settles) the one in hand, and waits for the task.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Stops the task at once, like a crash: the event in hand is left unsettled (the bus
    /// delivers it again). For tests of crash recovery.
    pub fn kill(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for ConsumerHandle {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// Spawns consumers.
#[derive(Debug)]
pub struct ConsumerRunner;

impl ConsumerRunner {
    /// Subscribes `spec.consumer` to `spec.family` on `bus` and runs `handler` on every event,
    /// in a task on the current tokio runtime.
    ///
    /// # Errors
    /// [`BusError`] when the subscription cannot be opened.
    pub async fn spawn(
        bus: Arc<dyn EventBus>,
        spec: SubscriptionSpec,
        handler: Arc<dyn Handler>,
        dedup: Arc<dyn Deduplicator>,
        clock: Arc<dyn Clock>,
        options: RunnerOptions,
    ) -> Result<ConsumerHandle, BusError> {
        let mut subscription = bus.subscribe(&spec).await?;
        let (stop, mut stopped) = watch::channel(false);
        let stats = Arc::new(ConsumerStats::default());
        let worker = Worker {
            consumer: spec.consumer,
            handler,
            dedup,
            clock,
            options,
            stats: Arc::clone(&stats),
        };
        let task = tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    biased;
                    _ = stopped.wait_for(|s| *s) => break,
                    next = subscription.next() => next,
                };
                match next {
                    Ok(Some(delivery)) => worker.process(delivery).await,
                    Ok(None) => break,
                    Err(error) => {
                        tracing::warn!(consumer = %worker.consumer, %error, "subscription error; retrying");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        Ok(ConsumerHandle {
            stop,
            task: Some(task),
            stats,
        })
    }
}

struct Worker {
    consumer: String,
    handler: Arc<dyn Handler>,
    dedup: Arc<dyn Deduplicator>,
    clock: Arc<dyn Clock>,
    options: RunnerOptions,
    stats: Arc<ConsumerStats>,
}

impl Worker {
    async fn process(&self, delivery: Delivery) {
        let id = delivery.envelope.id;
        let lag_ms = self
            .clock
            .now_ms()
            .saturating_sub(delivery.envelope.occurred_at_ms)
            .max(0);
        self.stats.last_lag_ms.store(lag_ms, Ordering::Relaxed);
        #[allow(clippy::cast_precision_loss)]
        metrics::histogram!("keel_events_consumer_lag_seconds", "consumer" => self.consumer.clone())
            .record(lag_ms as f64 / 1000.0);

        if self.dedup.seen(&self.consumer, id).await {
            self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("keel_events_duplicates_total", "consumer" => self.consumer.clone())
                .increment(1);
            self.settle(delivery.ack().await);
            return;
        }
        let max_attempts = self.options.max_attempts.max(1);
        if delivery.attempt > max_attempts {
            // Delivered more often than allowed without being settled (the consumer kept dying
            // on it): a poison event. Park it instead of crashing again.
            self.dead_letter(
                delivery,
                "delivered more often than max_attempts without settling",
            )
            .await;
            return;
        }
        match self.handler.handle(&delivery.envelope).await {
            Ok(()) => {
                self.dedup.record(&self.consumer, id).await;
                self.stats.processed.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("keel_events_processed_total", "consumer" => self.consumer.clone())
                    .increment(1);
                self.settle(delivery.ack().await);
            }
            Err(error) if error.permanent || delivery.attempt >= max_attempts => {
                tracing::warn!(consumer = %self.consumer, event_id = %id, attempt = delivery.attempt,
                    %error, "giving up on event: dead-lettered");
                self.dead_letter(delivery, &error.message).await;
            }
            Err(error) => {
                let delay = self.options.backoff.delay(delivery.attempt);
                tracing::debug!(consumer = %self.consumer, event_id = %id, attempt = delivery.attempt,
                    %error, ?delay, "handler failed; retrying");
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("keel_events_retries_total", "consumer" => self.consumer.clone())
                    .increment(1);
                self.settle(delivery.retry(delay).await);
            }
        }
    }

    async fn dead_letter(&self, delivery: Delivery, reason: &str) {
        self.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("keel_events_dead_lettered_total", "consumer" => self.consumer.clone())
            .increment(1);
        self.settle(delivery.dead_letter(reason).await);
    }

    fn settle(&self, result: Result<(), BusError>) {
        if let Err(error) = result {
            // The broker will deliver the event again; dedup makes that harmless.
            tracing::warn!(consumer = %self.consumer, %error, "could not settle a delivery");
        }
    }
}
