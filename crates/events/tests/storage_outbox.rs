//! keel-storage's PostgreSQL outbox -> two concurrent relays -> JetStream -> a consumer.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use keel_events::*;
use keel_storage::{NewUser, OutboxRepo, PgStore, UserRepo};
use keel_testkit::Service;

use crate::support::EffectStore;

/// Counts each storage event once per event id (the effect and the dedup record are one step).
struct CountEvents(Arc<EffectStore>);

#[async_trait]
impl Handler for CountEvents {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        let event: keel_storage::Event = serde_json::from_value(envelope.payload.clone())
            .map_err(|e| HandlerError::permanent(e.to_string()))?;
        if !matches!(event, keel_storage::Event::UserCreated { .. }) {
            return Err(HandlerError::permanent("unexpected event"));
        }
        let mut applied = self.0.applied.lock();
        let n = applied.entry(envelope.id).or_insert(0);
        *n += 1;
        if *n > 1 {
            self.0.duplicate_effects.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// A PostgreSQL store in its own schema, a JetStream bus under its own prefix, and a consumer
/// counting `users` events into an effect store.
struct Fixture {
    admin: sqlx::PgPool,
    schema: String,
    clock: Arc<keel_storage::ManualClock>,
    store: Arc<PgStore>,
    bus: Arc<dyn EventBus>,
    effects: Arc<EffectStore>,
    consumer: ConsumerHandle,
}

impl Fixture {
    async fn new(label: &str) -> Option<Self> {
        let db_url = keel_testkit::require(Service::Postgres).await?;
        let nats_url = keel_testkit::require(Service::Nats).await?;
        let schema = keel_testkit::unique_schema(label);
        let admin = sqlx::PgPool::connect(&db_url).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap();
        let clock = Arc::new(keel_storage::ManualClock::new(
            keel_storage::Timestamp::from_millis(1_700_000_000_000),
        ));
        let options = keel_storage::PgOptions {
            clock: clock.clone(),
            ..keel_storage::PgOptions::default()
        };
        let store = Arc::new(
            PgStore::connect_with(&keel_testkit::pg_url_with_schema(&db_url, &schema), options)
                .await
                .unwrap(),
        );
        let id = uuid::Uuid::now_v7().simple().to_string();
        let bus: Arc<dyn EventBus> = Arc::new(
            JetStreamBus::connect(
                &nats_url,
                JetStreamOptions {
                    prefix: format!("t{}", &id[12..]),
                    ..JetStreamOptions::default()
                },
            )
            .await
            .unwrap(),
        );
        let effects = Arc::new(EffectStore::default());
        let consumer = ConsumerRunner::spawn(
            bus.clone(),
            SubscriptionSpec::new("analytics", "users").unwrap(),
            Arc::new(CountEvents(effects.clone())),
            effects.clone(),
            Arc::new(SystemClock),
            RunnerOptions::default(),
        )
        .await
        .unwrap();
        Some(Self {
            admin,
            schema,
            clock,
            store,
            bus,
            effects,
            consumer,
        })
    }

    /// `writers` tasks each sign up `per_writer` users: one outbox event per transaction.
    async fn sign_up(&self, writers: usize, per_writer: usize) {
        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = self.store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..per_writer {
                    let name = format!("u{w}_{i}");
                    store
                        .create_user(NewUser::new(&name, format!("{name}@example.com"), "hash"))
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }

    fn source(&self) -> Arc<dyn OutboxSource> {
        Arc::new(StorageOutbox::new(self.store.clone()))
    }

    /// Waits for `n` processed events, stops the consumer, and checks exactly-once effects.
    async fn finish(self, n: usize) {
        let stats = self.consumer.stats();
        for _ in 0..600 {
            if stats.processed() >= n as u64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.consumer.shutdown().await;
        assert_eq!(self.effects.distinct(), n);
        assert_eq!(self.effects.duplicate_effects.load(Ordering::SeqCst), 0);
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .execute(&self.admin)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_postgres_outbox_events_reach_a_jetstream_consumer_exactly_once_in_effect() {
    let Some(f) = Fixture::new("events_outbox").await else {
        return;
    };
    f.sign_up(10, 1_000).await;

    // Two relays at once: SKIP LOCKED and leases give them disjoint batches.
    let mut relays = Vec::new();
    for _ in 0..2 {
        let relay = OutboxRelay::new(f.source(), f.bus.clone()).batch_size(500);
        let store = f.store.clone();
        relays.push(tokio::spawn(async move {
            let mut published = 0;
            loop {
                let round = relay.run_once().await.unwrap();
                published += round.published;
                if round.published + round.duplicates == 0 {
                    if store.pending_outbox().await.unwrap() == 0 {
                        return published;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    let mut published = 0;
    for r in relays {
        published += r.await.unwrap();
    }
    assert_eq!(
        published, 10_000,
        "each event published once by one of the relays"
    );
    f.finish(10_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_between_publish_and_mark_on_postgres_loses_nothing_and_repeats_nothing() {
    let Some(f) = Fixture::new("events_relay_crash").await else {
        return;
    };
    f.sign_up(1, 300).await;
    // This relay publishes its batch, marks 100, and dies.
    let dying = OutboxRelay::new(
        Arc::new(crate::support::CrashingOutbox::new(f.source(), 100)),
        f.bus.clone(),
    )
    .batch_size(300);
    assert!(dying.run_once().await.is_err());
    // Its lease runs out (on the store's clock); a healthy relay takes over.
    f.clock.advance_micros(60_000_000);
    let round = OutboxRelay::new(f.source(), f.bus.clone())
        .batch_size(300)
        .run_once()
        .await
        .unwrap();
    // The dead relay published its wave but only 100 marks landed: the broker drops the
    // re-published rest as duplicates (Nats-Msg-Id), so nothing is stored twice.
    assert!(round.duplicates >= 1);
    assert_eq!(round.published + round.duplicates, 200);
    assert_eq!(f.store.pending_outbox().await.unwrap(), 0);
    f.finish(300).await;
}
