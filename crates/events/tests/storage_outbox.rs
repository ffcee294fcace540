//! keel-storage's PostgreSQL outbox -> two concurrent relays -> JetStream -> a consumer.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use keel_events::*;
use keel_storage::{NewUser, PgStore, UserRepo};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_postgres_outbox_events_reach_a_jetstream_consumer_exactly_once_in_effect() {
    let Some(db_url) = keel_testkit::require(Service::Postgres).await else {
        return;
    };
    let Some(nats_url) = keel_testkit::require(Service::Nats).await else {
        return;
    };
    let schema = keel_testkit::unique_schema("events_outbox");
    let admin = sqlx::PgPool::connect(&db_url).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let store = Arc::new(
        PgStore::connect(&keel_testkit::pg_url_with_schema(&db_url, &schema))
            .await
            .unwrap(),
    );

    // 10,000 changes, each writing its event in the same transaction.
    let mut writers = Vec::new();
    for w in 0..10 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..1_000 {
                let name = format!("u{w}_{i}");
                store
                    .create_user(NewUser::new(&name, format!("{name}@example.com"), "hash"))
                    .await
                    .unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }

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

    // Two relays at once: SKIP LOCKED and leases give them disjoint batches.
    let source: Arc<dyn OutboxSource> = Arc::new(StorageOutbox::new(store.clone()));
    let mut relays = Vec::new();
    for _ in 0..2 {
        let relay = OutboxRelay::new(source.clone(), bus.clone()).batch_size(500);
        let store = store.clone();
        relays.push(tokio::spawn(async move {
            let mut published = 0;
            loop {
                let round = relay.run_once().await.unwrap();
                published += round.published;
                if round.published + round.duplicates == 0 {
                    use keel_storage::OutboxRepo;
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

    let stats = consumer.stats();
    for _ in 0..600 {
        if stats.processed() >= 10_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    consumer.shutdown().await;
    assert_eq!(effects.distinct(), 10_000);
    assert_eq!(effects.duplicate_effects.load(Ordering::SeqCst), 0);

    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_between_publish_and_mark_on_postgres_loses_nothing_and_repeats_nothing() {
    let Some(db_url) = keel_testkit::require(Service::Postgres).await else {
        return;
    };
    let Some(nats_url) = keel_testkit::require(Service::Nats).await else {
        return;
    };
    let schema = keel_testkit::unique_schema("events_relay_crash");
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
    for i in 0..300 {
        let name = format!("crash{i}");
        store
            .create_user(NewUser::new(&name, format!("{name}@example.com"), "hash"))
            .await
            .unwrap();
    }
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

    let source: Arc<dyn OutboxSource> = Arc::new(StorageOutbox::new(store.clone()));
    // This relay publishes 101 events, marks 100, and dies.
    let dying = OutboxRelay::new(
        Arc::new(crate::support::CrashingOutbox::new(source.clone(), 100)),
        bus.clone(),
    )
    .batch_size(300);
    assert!(dying.run_once().await.is_err());
    // Its lease runs out (on the store's clock); a healthy relay takes over.
    clock.advance_micros(60_000_000);
    let relay = OutboxRelay::new(source, bus.clone()).batch_size(300);
    let round = relay.run_once().await.unwrap();
    // The dead relay's wave was published but only 100 marks landed: the broker drops the
    // re-published rest as duplicates (Nats-Msg-Id), so nothing is stored twice.
    assert!(round.duplicates >= 1);
    assert_eq!(round.published + round.duplicates, 200);
    use keel_storage::OutboxRepo;
    assert_eq!(store.pending_outbox().await.unwrap(), 0);

    let stats = consumer.stats();
    for _ in 0..600 {
        if stats.processed() >= 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    consumer.shutdown().await;
    assert_eq!(effects.distinct(), 300);
    assert_eq!(effects.duplicate_effects.load(Ordering::SeqCst), 0);
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}
