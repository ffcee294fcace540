//! The NATS JetStream bus: a stream per event family, durable pull consumers with explicit
//! acknowledgement, redelivery after the ack deadline, de-duplication by `Nats-Msg-Id`, and a
//! dead-letter stream per family that an operator can list and replay.
//!
//! # Subjects and streams
//! With prefix `keel`, family `posts` is stream `KEEL_POSTS` on subjects `keel.posts.>` (an event
//! of type `PostCreated` is published on `keel.posts.PostCreated`), and its dead letters are
//! stream `KEEL_DLQ_POSTS` on `keel.dlq.posts.>`.
//!
//! # Durability
//! Streams use file storage. JetStream acknowledges a publish once the message is in the
//! server's write buffer and flushes to disk periodically (`sync_interval`, two minutes by
//! default): a machine crash (not a process crash) can lose acknowledged messages of that
//! interval, which Jepsen showed for NATS 2.12. Newer servers (2.10+) accept
//! `jetstream { sync_interval: always }` in the *server* configuration, which fsyncs every write;
//! it is a server setting, not a stream setting, so this crate cannot set it. The nats-server in
//! Debian 12 (2.9.10, the one on our CI machines) rejects `sync_interval` as an unknown field, so
//! there the guarantee is: no loss on a process crash or restart; on an OS crash or power loss,
//! up to the last flush interval may be lost. With replicas (`num_replicas: 3`) a message is
//! acknowledged once a majority holds it, which covers single-machine loss. The outbox keeps
//! nothing after marking, so end-to-end the broker's guarantee is the bound.

use std::collections::HashSet;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, message::PublishMessage as Publish, stream};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use parking_lot::Mutex;
use uuid::Uuid;

use crate::bus::{
    DeadLetter, Delivery, EventBus, PublishReceipt, Settle, Subscription, SubscriptionSpec,
};
use crate::envelope::{Envelope, validate_family};
use crate::error::BusError;

const HEADER_CONSUMER: &str = "Keel-Consumer";
const HEADER_REASON: &str = "Keel-Reason";
const HEADER_ATTEMPTS: &str = "Keel-Attempts";

/// Options of the JetStream bus.
#[derive(Debug, Clone, PartialEq)]
pub struct JetStreamOptions {
    /// First subject token and stream-name prefix (letters, digits, `_`, `-`). Default `keel`.
    pub prefix: String,
    /// Replicas per stream (1 on a single server; 3 in a cluster for durability).
    pub replicas: usize,
    /// How long the server remembers message ids to drop duplicates (default 2 minutes): make it
    /// longer than a relay's lease, so a relay retry after a crash is dropped.
    pub duplicate_window: Duration,
    /// How long events are kept (default 7 days).
    pub max_age: Duration,
    /// Deliveries a consumer may have unacknowledged at once (default 256).
    pub max_ack_pending: i64,
    /// How long a request to the server may take before it counts as unavailable (default 5 s).
    pub timeout: Duration,
}

impl Default for JetStreamOptions {
    fn default() -> Self {
        Self {
            prefix: "keel".to_owned(),
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            max_age: Duration::from_secs(7 * 24 * 3600),
            max_ack_pending: 256,
            timeout: Duration::from_secs(5),
        }
    }
}

/// An [`EventBus`] on NATS JetStream.
#[derive(Debug)]
pub struct JetStreamBus {
    context: jetstream::Context,
    options: JetStreamOptions,
    ensured: Mutex<HashSet<String>>,
}

fn unavailable(error: impl std::fmt::Display) -> BusError {
    BusError::Unavailable {
        reason: error.to_string(),
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

impl JetStreamBus {
    /// Connects to the NATS server at `url`.
    ///
    /// # Errors
    /// [`BusError::Unavailable`] when the server cannot be reached;
    /// [`BusError::InvalidName`] for a bad prefix.
    pub async fn connect(url: &str, options: JetStreamOptions) -> Result<Self, BusError> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(options.timeout)
            .connect(url)
            .await
            .map_err(unavailable)?;
        Self::with_client(client, options)
    }

    /// A bus over an existing client.
    ///
    /// # Errors
    /// [`BusError::InvalidName`] for a bad prefix.
    pub fn with_client(
        client: async_nats::Client,
        options: JetStreamOptions,
    ) -> Result<Self, BusError> {
        let valid = !options.prefix.is_empty()
            && options.prefix.len() <= 32
            && options
                .prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(BusError::InvalidName {
                name: options.prefix.chars().take(80).collect(),
                rule: "a prefix is 1 to 32 ASCII letters, digits, '_' or '-'",
            });
        }
        let context = jetstream::ContextBuilder::new()
            .timeout(options.timeout)
            .build(client);
        Ok(Self {
            context,
            options,
            ensured: Mutex::new(HashSet::new()),
        })
    }

    fn stream_name(&self, family: &str) -> String {
        format!("{}_{}", sanitize(&self.options.prefix), sanitize(family))
    }

    fn dlq_stream_name(&self, family: &str) -> String {
        format!(
            "{}_DLQ_{}",
            sanitize(&self.options.prefix),
            sanitize(family)
        )
    }

    fn subject(&self, envelope: &Envelope) -> String {
        format!(
            "{}.{}.{}",
            self.options.prefix,
            envelope.family,
            sanitize_token(&envelope.event_type)
        )
    }

    fn dlq_subject(&self, family: &str, consumer: &str) -> String {
        format!("{}.dlq.{family}.{consumer}", self.options.prefix)
    }

    /// Creates (or finds) the family's stream and dead-letter stream.
    ///
    /// # Errors
    /// [`BusError::Unavailable`] when the server refuses or does not answer.
    pub async fn ensure_family(&self, family: &str) -> Result<(), BusError> {
        validate_family(family)?;
        if self.ensured.lock().contains(family) {
            return Ok(());
        }
        let base = stream::Config {
            storage: stream::StorageType::File,
            num_replicas: self.options.replicas,
            duplicate_window: self.options.duplicate_window,
            max_age: self.options.max_age,
            ..Default::default()
        };
        self.context
            .get_or_create_stream(stream::Config {
                name: self.stream_name(family),
                subjects: vec![format!("{}.{family}.>", self.options.prefix)],
                ..base.clone()
            })
            .await
            .map_err(unavailable)?;
        self.context
            .get_or_create_stream(stream::Config {
                name: self.dlq_stream_name(family),
                subjects: vec![format!("{}.dlq.{family}.>", self.options.prefix)],
                ..base
            })
            .await
            .map_err(unavailable)?;
        self.ensured.lock().insert(family.to_owned());
        Ok(())
    }

    async fn publish_raw(&self, subject: String, publish: Publish) -> Result<bool, BusError> {
        let ack = self
            .context
            .send_publish(subject, publish)
            .await
            .map_err(unavailable)?
            .await
            .map_err(unavailable)?;
        Ok(ack.duplicate)
    }
}

fn sanitize_token(token: &str) -> String {
    token
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[async_trait]
impl EventBus for JetStreamBus {
    async fn publish(&self, envelope: &Envelope) -> Result<PublishReceipt, BusError> {
        self.ensure_family(&envelope.family).await?;
        let payload = Bytes::from(envelope.to_bytes()?);
        let publish = Publish::build()
            .payload(payload)
            .message_id(envelope.id.to_string());
        let duplicate = self.publish_raw(self.subject(envelope), publish).await?;
        Ok(PublishReceipt::new(duplicate))
    }

    async fn publish_batch(&self, envelopes: &[Envelope]) -> Vec<Result<PublishReceipt, BusError>> {
        // Send every publish first, then collect the acknowledgements: one round trip for the
        // batch instead of one per event. JetStream stores messages from one connection in the
        // order they were sent.
        let mut pending = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let sent = async {
                self.ensure_family(&envelope.family).await?;
                let payload = Bytes::from(envelope.to_bytes()?);
                let publish = Publish::build()
                    .payload(payload)
                    .message_id(envelope.id.to_string());
                self.context
                    .send_publish(self.subject(envelope), publish)
                    .await
                    .map_err(unavailable)
            }
            .await;
            pending.push(sent);
        }
        let mut results = Vec::with_capacity(pending.len());
        for sent in pending {
            results.push(match sent {
                Ok(ack) => ack
                    .await
                    .map(|ack| PublishReceipt::new(ack.duplicate))
                    .map_err(unavailable),
                Err(error) => Err(error),
            });
        }
        results
    }

    async fn subscribe(&self, spec: &SubscriptionSpec) -> Result<Box<dyn Subscription>, BusError> {
        self.ensure_family(&spec.family).await?;
        let stream = self
            .context
            .get_stream(self.stream_name(&spec.family))
            .await
            .map_err(unavailable)?;
        let consumer = stream
            .get_or_create_consumer(
                &spec.consumer,
                consumer::pull::Config {
                    durable_name: Some(spec.consumer.clone()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: spec.ack_wait,
                    // Unlimited: the runner parks poison events in the dead-letter stream itself,
                    // so an event is never dropped silently by the server's own limit.
                    max_deliver: -1,
                    max_ack_pending: self.options.max_ack_pending,
                    ..Default::default()
                },
            )
            .await
            .map_err(unavailable)?;
        let messages = consumer.messages().await.map_err(unavailable)?;
        Ok(Box::new(JetStreamSubscription {
            messages,
            bus: JetStreamHandle {
                context: self.context.clone(),
                dlq_subject: self.dlq_subject(&spec.family, &spec.consumer),
                consumer: spec.consumer.clone(),
            },
        }))
    }

    async fn dead_letters(&self, family: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        Ok(self
            .dead_letter_messages(family, limit)
            .await?
            .into_iter()
            .map(|(_, letter)| letter)
            .collect())
    }

    async fn replay_dead_letter(&self, family: &str, event_id: Uuid) -> Result<(), BusError> {
        let letters = self.dead_letter_messages(family, usize::MAX).await?;
        let (sequence, letter) = letters
            .into_iter()
            .find(|(_, l)| l.envelope.id == event_id)
            .ok_or(BusError::DeadLetterNotFound(event_id))?;
        // A fresh message id: the original id may still be in the duplicate window. Consumers
        // that already processed the event skip it by its envelope id.
        let payload = Bytes::from(letter.envelope.to_bytes()?);
        let publish = Publish::build()
            .payload(payload)
            .message_id(format!("{}:replay:{sequence}", letter.envelope.id));
        self.publish_raw(self.subject(&letter.envelope), publish)
            .await?;
        let stream = self
            .context
            .get_stream(self.dlq_stream_name(family))
            .await
            .map_err(unavailable)?;
        stream.delete_message(sequence).await.map_err(unavailable)?;
        Ok(())
    }
}

impl JetStreamBus {
    async fn dead_letter_messages(
        &self,
        family: &str,
        limit: usize,
    ) -> Result<Vec<(u64, DeadLetter)>, BusError> {
        self.ensure_family(family).await?;
        let mut stream = self
            .context
            .get_stream(self.dlq_stream_name(family))
            .await
            .map_err(unavailable)?;
        let state = stream.info().await.map_err(unavailable)?.state.clone();
        let mut out = Vec::new();
        if state.messages == 0 {
            return Ok(out);
        }
        for sequence in state.first_sequence..=state.last_sequence {
            if out.len() >= limit {
                break;
            }
            // Deleted sequences (replayed letters) leave gaps: skip them.
            let Ok(message) = stream.get_raw_message(sequence).await else {
                continue;
            };
            let envelope = match Envelope::from_bytes(&message.payload) {
                Ok(envelope) => envelope,
                Err(error) => {
                    tracing::warn!(sequence, %error, "undecodable dead letter skipped");
                    continue;
                }
            };
            let header = |name: &str| {
                message
                    .headers
                    .get(name)
                    .map(|v| v.as_str().to_owned())
                    .unwrap_or_default()
            };
            out.push((
                sequence,
                DeadLetter {
                    envelope,
                    consumer: header(HEADER_CONSUMER),
                    reason: header(HEADER_REASON),
                    attempts: header(HEADER_ATTEMPTS).parse().unwrap_or(0),
                },
            ));
        }
        Ok(out)
    }
}

#[derive(Debug, Clone)]
struct JetStreamHandle {
    context: jetstream::Context,
    dlq_subject: String,
    consumer: String,
}

struct JetStreamSubscription {
    messages: consumer::pull::Stream,
    bus: JetStreamHandle,
}

impl std::fmt::Debug for JetStreamSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamSubscription")
            .field("consumer", &self.bus.consumer)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Subscription for JetStreamSubscription {
    async fn next(&mut self) -> Result<Option<Delivery>, BusError> {
        loop {
            let Some(message) = self.messages.next().await else {
                return Ok(None);
            };
            let message = message.map_err(unavailable)?;
            let attempt = message
                .info()
                .map(|i| u32::try_from(i.delivered).unwrap_or(u32::MAX))
                .unwrap_or(1);
            match Envelope::from_bytes(&message.payload) {
                Ok(envelope) => {
                    let settle = JetStreamSettle {
                        message,
                        handle: self.bus.clone(),
                        envelope: envelope.clone(),
                    };
                    return Ok(Some(Delivery::new(envelope, attempt, Box::new(settle))));
                }
                Err(error) => {
                    // Not an envelope: no consumer can ever read it. Keep the raw bytes in the
                    // dead-letter stream and stop its redelivery.
                    tracing::warn!(%error, "undecodable event moved to the dead-letter stream");
                    let publish = Publish::build()
                        .payload(message.payload.clone())
                        .header(HEADER_CONSUMER, self.bus.consumer.as_str())
                        .header(HEADER_REASON, error.to_string().as_str());
                    let subject = self.bus.dlq_subject.clone();
                    if let Ok(ack) = self.bus.context.send_publish(subject, publish).await
                        && ack.await.is_ok()
                    {
                        let _ = message.ack_with(jetstream::AckKind::Term).await;
                    }
                }
            }
        }
    }
}

struct JetStreamSettle {
    message: jetstream::Message,
    handle: JetStreamHandle,
    envelope: Envelope,
}

impl std::fmt::Debug for JetStreamSettle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamSettle")
            .field("event_id", &self.envelope.id)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Settle for JetStreamSettle {
    async fn ack(&self) -> Result<(), BusError> {
        self.message.ack().await.map_err(unavailable)
    }

    async fn retry(&self, delay: Duration) -> Result<(), BusError> {
        self.message
            .ack_with(jetstream::AckKind::Nak(Some(delay)))
            .await
            .map_err(unavailable)
    }

    async fn dead_letter(&self, reason: &str, attempts: u32) -> Result<(), BusError> {
        let payload = Bytes::from(self.envelope.to_bytes()?);
        let reason: String = reason
            .chars()
            .filter(|c| !c.is_control())
            .take(512)
            .collect();
        let publish = Publish::build()
            .payload(payload)
            // Unique per stored message (a replayed letter is a new message), so a retried
            // dead-lettering of the same delivery is dropped but a second one is kept.
            .message_id(format!(
                "{}:dlq:{}:{}",
                self.envelope.id,
                self.handle.consumer,
                self.message.info().map(|i| i.stream_sequence).unwrap_or(0)
            ))
            .header(HEADER_CONSUMER, self.handle.consumer.as_str())
            .header(HEADER_REASON, reason.as_str())
            .header(HEADER_ATTEMPTS, attempts.to_string().as_str());
        self.handle
            .context
            .send_publish(self.handle.dlq_subject.clone(), publish)
            .await
            .map_err(unavailable)?
            .await
            .map_err(unavailable)?;
        // Stored as a dead letter: stop redelivering it.
        self.message
            .ack_with(jetstream::AckKind::Term)
            .await
            .map_err(unavailable)
    }

    fn abandoned(&self) {
        // Nothing to do: JetStream delivers it again after the ack deadline.
    }
}
