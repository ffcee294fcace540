//! The JetStream bus against the real NATS server (`NATS_URL`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use keel_events::*;
use keel_testkit::Service;

use crate::support::{CrashingOutbox, EffectStore, PostCreated, assert_ordered_per_author, post};

async fn bus() -> Option<Arc<JetStreamBus>> {
    let url = keel_testkit::require(Service::Nats).await?;
    // A prefix no other test uses: its own streams and consumers.
    let id = uuid::Uuid::now_v7().simple().to_string();
    let options = JetStreamOptions {
        prefix: format!("t{}", &id[12..]),
        ..JetStreamOptions::default()
    };
    Some(Arc::new(
        JetStreamBus::connect(&url, options).await.unwrap(),
    ))
}

struct Fixture {
    clock: ManualClock,
    bus: Arc<JetStreamBus>,
    outbox: Arc<MemoryOutbox>,
    store: Arc<EffectStore>,
}

impl Fixture {
    async fn new() -> Option<Self> {
        let clock = ManualClock::new(1_700_000_000_000);
        Some(Self {
            bus: bus().await?,
            outbox: Arc::new(MemoryOutbox::new(Arc::new(clock.clone()))),
            store: Arc::new(EffectStore::default()),
            clock,
        })
    }

    async fn consumer(&self, ack_wait: Duration, options: RunnerOptions) -> ConsumerHandle {
        ConsumerRunner::spawn(
            self.bus.clone(),
            SubscriptionSpec::new("feed", "posts")
                .unwrap()
                .ack_wait(ack_wait),
            self.store.clone(),
            self.store.clone(),
            Arc::new(self.clock.clone()),
            options,
        )
        .await
        .unwrap()
    }

    fn append(&self, range: std::ops::RangeInclusive<u64>) {
        for i in range {
            self.outbox
                .append(Envelope::new(&post(i), &self.clock).unwrap());
        }
    }

    async fn relay_all(&self) -> RelayRound {
        let relay = OutboxRelay::new(self.outbox.clone(), self.bus.clone()).batch_size(1_000);
        let mut total = RelayRound::default();
        while self.outbox.pending() > 0 {
            let round = relay.run_once().await.unwrap();
            total.published += round.published;
            total.duplicates += round.duplicates;
        }
        total
    }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_through_outbox_relay_and_jetstream_take_effect_exactly_once() {
    let Some(f) = Fixture::new().await else {
        return;
    };
    let consumer = f
        .consumer(Duration::from_secs(30), RunnerOptions::default())
        .await;
    f.append(1..=10_000);
    let round = f.relay_all().await;
    assert_eq!(round.published, 10_000);
    let stats = consumer.stats();
    wait_until("10,000 processed", || stats.processed() == 10_000).await;
    consumer.shutdown().await;
    assert_eq!(f.store.distinct(), 10_000);
    assert_eq!(f.store.duplicate_effects.load(Ordering::SeqCst), 0);
    assert_ordered_per_author(&f.store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_killed_mid_stream_resumes_from_the_durable_position_without_loss() {
    let Some(f) = Fixture::new().await else {
        return;
    };
    f.append(1..=3_000);
    f.relay_all().await;
    let first = f
        .consumer(Duration::from_secs(1), RunnerOptions::default())
        .await;
    let stats = first.stats();
    wait_until("some processed", || stats.processed() >= 300).await;
    first.kill();
    assert!(f.store.distinct() < 3_000, "the kill must land mid-stream");

    // Restarted under the same durable name: unacked deliveries come back after ack_wait.
    let second = f
        .consumer(Duration::from_secs(1), RunnerOptions::default())
        .await;
    wait_until("all 3,000 applied", || f.store.distinct() == 3_000).await;
    second.shutdown().await;
    assert_eq!(f.store.duplicate_effects.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_between_publish_and_mark_is_deduplicated_by_the_broker() {
    let Some(f) = Fixture::new().await else {
        return;
    };
    let consumer = f
        .consumer(Duration::from_secs(30), RunnerOptions::default())
        .await;
    f.append(1..=500);
    let dying = OutboxRelay::new(
        Arc::new(CrashingOutbox::new(f.outbox.clone(), 200)),
        f.bus.clone(),
    )
    .batch_size(500);
    assert!(dying.run_once().await.is_err());
    f.clock.advance(31_000);
    let round = f.relay_all().await;
    // The events published in the crashed wave but never marked were stored by the broker:
    // their retries are dropped by Nats-Msg-Id, the rest are new.
    assert!(round.duplicates >= 1);
    assert_eq!(round.published + round.duplicates, 300);
    let stats = consumer.stats();
    wait_until("500 processed", || stats.processed() == 500).await;
    consumer.shutdown().await;
    assert_eq!(f.store.distinct(), 500);
    assert_eq!(f.store.duplicate_effects.load(Ordering::SeqCst), 0);
    assert_ordered_per_author(&f.store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_event_lands_in_the_dead_letter_stream_and_can_be_replayed() {
    let Some(f) = Fixture::new().await else {
        return;
    };
    let options = RunnerOptions {
        max_attempts: 3,
        backoff: Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            multiplier: 2,
        },
    };
    let consumer = f.consumer(Duration::from_secs(30), options).await;
    f.append(1..=100);
    let poison = Envelope::new(
        &PostCreated {
            post_id: 999,
            author_id: 5_000,
            poison: true,
        },
        &f.clock,
    )
    .unwrap();
    f.outbox.append(poison.clone());
    f.append(101..=200);
    f.relay_all().await;

    let stats = consumer.stats();
    wait_until("others processed, poison dead", || {
        stats.processed() == 200 && stats.dead_lettered() == 1
    })
    .await;
    let dead = f.bus.dead_letters("posts", 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].envelope, poison);
    assert_eq!(dead[0].consumer, "feed");
    assert_eq!(dead[0].attempts, 3);
    assert!(dead[0].reason.contains("poison"));

    f.bus.replay_dead_letter("posts", poison.id).await.unwrap();
    wait_until("replayed and dead again", || stats.dead_lettered() == 2).await;
    consumer.shutdown().await;
    assert_eq!(f.store.distinct(), 200);
    let dead = f.bus.dead_letters("posts", 10).await.unwrap();
    assert_eq!(
        dead.len(),
        1,
        "the replayed letter was removed, the new one kept"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_unavailable_error() {
    let options = JetStreamOptions {
        timeout: Duration::from_millis(500),
        ..JetStreamOptions::default()
    };
    let result = JetStreamBus::connect("nats://127.0.0.1:1", options).await;
    assert!(matches!(result, Err(BusError::Unavailable { .. })));
    let bad = JetStreamOptions {
        prefix: "a.b".into(),
        ..JetStreamOptions::default()
    };
    if let Some(url) = keel_testkit::require(Service::Nats).await {
        assert!(matches!(
            JetStreamBus::connect(&url, bad).await,
            Err(BusError::InvalidName { .. })
        ));
    }
}
