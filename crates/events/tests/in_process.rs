//! The in-process bus, the runner and the relay, end to end.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use keel_events::*;

use crate::support::{CrashingOutbox, EffectStore, PostCreated, assert_ordered_per_author, post};

struct Fixture {
    clock: ManualClock,
    bus: Arc<InProcessBus>,
    outbox: Arc<MemoryOutbox>,
    store: Arc<EffectStore>,
}

fn fixture(capacity: usize) -> Fixture {
    let clock = ManualClock::new(1_700_000_000_000);
    Fixture {
        bus: Arc::new(InProcessBus::new(capacity)),
        outbox: Arc::new(MemoryOutbox::new(Arc::new(clock.clone()))),
        store: Arc::new(EffectStore::default()),
        clock,
    }
}

impl Fixture {
    async fn consumer(&self, options: RunnerOptions) -> ConsumerHandle {
        ConsumerRunner::spawn(
            self.bus.clone(),
            SubscriptionSpec::new("feed", "posts").unwrap(),
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

    async fn relay_all(&self) {
        let relay = OutboxRelay::new(self.outbox.clone(), self.bus.clone()).batch_size(500);
        while self.outbox.pending() > 0 {
            relay.run_once().await.unwrap();
        }
    }
}

async fn wait_until(mut done: impl FnMut() -> bool) {
    for _ in 0..20_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("condition not reached");
}

#[tokio::test]
async fn ten_thousand_events_through_outbox_relay_and_bus_take_effect_exactly_once() {
    let f = fixture(256);
    let consumer = f.consumer(RunnerOptions::default()).await;
    f.append(1..=10_000);
    f.relay_all().await;
    let stats = consumer.stats();
    wait_until(|| stats.processed() == 10_000).await;
    consumer.shutdown().await;
    assert_eq!(f.store.distinct(), 10_000);
    assert_eq!(f.store.duplicate_effects.load(Ordering::SeqCst), 0);
    assert_eq!(f.outbox.pending(), 0);
    assert_eq!(f.outbox.published(), 10_000);
    assert_ordered_per_author(&f.store);
}

/// A handler slow enough that a kill lands mid-stream.
struct Slow(Arc<EffectStore>);

#[async_trait]
impl Handler for Slow {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        tokio::task::yield_now().await;
        self.0.handle(envelope).await
    }
}

#[tokio::test]
async fn a_consumer_killed_mid_stream_and_restarted_loses_nothing_and_repeats_nothing() {
    let f = fixture(20_000);
    let spawn = |f: &Fixture| {
        ConsumerRunner::spawn(
            f.bus.clone(),
            SubscriptionSpec::new("feed", "posts").unwrap(),
            Arc::new(Slow(f.store.clone())),
            f.store.clone(),
            Arc::new(f.clock.clone()),
            RunnerOptions::default(),
        )
    };
    let first = spawn(&f).await.unwrap();
    f.append(1..=2_000);
    f.relay_all().await;
    let stats = first.stats();
    wait_until(|| stats.processed() >= 500).await;
    first.kill();
    let done_before_restart = f.store.distinct();
    assert!(done_before_restart < 2_000, "the kill must land mid-stream");

    let second = spawn(&f).await.unwrap();
    wait_until(|| f.store.distinct() == 2_000).await;
    second.shutdown().await;
    assert_eq!(f.store.duplicate_effects.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_relay_killed_between_publish_and_mark_republishes_and_the_consumer_drops_the_copy() {
    let f = fixture(1_000);
    let consumer = f.consumer(RunnerOptions::default()).await;
    f.append(1..=300);
    let crashing = Arc::new(CrashingOutbox::new(f.outbox.clone(), 100));
    let dying = OutboxRelay::new(crashing, f.bus.clone()).batch_size(300);
    assert!(dying.run_once().await.is_err(), "the 101st mark fails");
    // Event 101 was published but not marked; 102..300 were never published and stay claimed.
    assert_eq!(f.outbox.pending(), 200);
    // The lease of the dead relay expires; a new relay takes over.
    f.clock.advance(31_000);
    f.relay_all().await;
    let stats = consumer.stats();
    wait_until(|| stats.processed() == 300).await;
    wait_until(|| stats.duplicates() >= 1).await;
    consumer.shutdown().await;
    assert_eq!(f.store.distinct(), 300);
    assert_eq!(f.store.duplicate_effects.load(Ordering::SeqCst), 0);
    assert_ordered_per_author(&f.store);
}

#[tokio::test(start_paused = true)]
async fn a_poison_event_is_dead_lettered_after_max_attempts_and_the_rest_keep_flowing() {
    let f = fixture(1_000);
    let options = RunnerOptions {
        max_attempts: 3,
        backoff: Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_secs(1),
            multiplier: 2,
        },
    };
    let consumer = f.consumer(options).await;
    f.append(1..=50);
    let poison = Envelope::new(
        &PostCreated {
            post_id: 999,
            author_id: 1_000,
            poison: true,
        },
        &f.clock,
    )
    .unwrap();
    f.outbox.append(poison.clone());
    f.append(51..=100);
    f.relay_all().await;

    let stats = consumer.stats();
    wait_until(|| stats.processed() == 100 && stats.dead_lettered() == 1).await;
    assert_eq!(stats.retries(), 2);
    let dead = f.bus.dead_letters("posts", 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].envelope.id, poison.id);
    assert_eq!(dead[0].consumer, "feed");
    assert_eq!(dead[0].attempts, 3);
    assert!(dead[0].reason.contains("poison"));

    // An operator replays it: it is delivered again from attempt 1 (and fails again here).
    f.bus.replay_dead_letter("posts", poison.id).await.unwrap();
    assert!(
        f.bus.dead_letters("posts", 10).await.unwrap().is_empty() || stats.dead_lettered() == 2
    );
    wait_until(|| stats.dead_lettered() == 2).await;
    consumer.shutdown().await;
    assert!(matches!(
        f.bus.replay_dead_letter("posts", uuid::Uuid::nil()).await,
        Err(BusError::DeadLetterNotFound(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn a_full_consumer_queue_holds_publishers_back() {
    let f = fixture(2);
    let _subscription = f
        .bus
        .subscribe(&SubscriptionSpec::new("slow", "posts").unwrap())
        .await
        .unwrap();
    for i in 1..=2 {
        f.bus
            .publish(&Envelope::new(&post(i), &f.clock).unwrap())
            .await
            .unwrap();
    }
    assert_eq!(f.bus.queue_depths("posts"), vec![("slow".to_owned(), 2)]);
    let third = Envelope::new(&post(3), &f.clock).unwrap();
    let blocked = tokio::time::timeout(Duration::from_secs(5), f.bus.publish(&third)).await;
    assert!(
        blocked.is_err(),
        "the publish waits while the queue is full"
    );
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_with_backoff_then_succeed() {
    let f = fixture(100);
    f.store.failing.store(true, Ordering::SeqCst);
    let consumer = f.consumer(RunnerOptions::default()).await;
    f.append(1..=1);
    f.relay_all().await;
    let stats = consumer.stats();
    wait_until(|| stats.retries() >= 2).await;
    f.store.failing.store(false, Ordering::SeqCst);
    wait_until(|| stats.processed() == 1).await;
    assert_eq!(stats.dead_lettered(), 0);
    consumer.shutdown().await;
}

#[tokio::test]
async fn lag_is_measured_on_the_injected_clock() {
    let f = fixture(10);
    let consumer = f.consumer(RunnerOptions::default()).await;
    f.append(1..=1);
    f.clock.advance(1_500);
    f.relay_all().await;
    let stats = consumer.stats();
    wait_until(|| stats.processed() == 1).await;
    assert_eq!(stats.last_lag_ms(), 1_500);
    consumer.shutdown().await;
}

#[tokio::test]
async fn a_closed_bus_ends_subscriptions_and_refuses_publishes() {
    let f = fixture(10);
    let mut sub = f
        .bus
        .subscribe(&SubscriptionSpec::new("c", "posts").unwrap())
        .await
        .unwrap();
    f.bus.close();
    assert!(sub.next().await.unwrap().is_none());
    assert!(matches!(
        f.bus
            .publish(&Envelope::new(&post(1), &f.clock).unwrap())
            .await,
        Err(BusError::Closed)
    ));
    assert!(SubscriptionSpec::new("bad name", "posts").is_err());
    assert!(SubscriptionSpec::new("ok", "Bad.Family").is_err());
}

/// A bus that refuses one event once, and records what it stored.
#[derive(Debug, Default)]
struct FlakyBus {
    refuse: parking_lot::Mutex<Option<uuid::Uuid>>,
    stored: parking_lot::Mutex<Vec<uuid::Uuid>>,
}

#[async_trait]
impl EventBus for FlakyBus {
    async fn publish(&self, envelope: &Envelope) -> Result<PublishReceipt, BusError> {
        if self
            .refuse
            .lock()
            .take_if(|id| *id == envelope.id)
            .is_some()
        {
            return Err(BusError::Unavailable {
                reason: "flaky".into(),
            });
        }
        self.stored.lock().push(envelope.id);
        Ok(PublishReceipt::new(false))
    }
    async fn subscribe(&self, _spec: &SubscriptionSpec) -> Result<Box<dyn Subscription>, BusError> {
        Err(BusError::Closed)
    }
    async fn dead_letters(
        &self,
        _family: &str,
        _limit: usize,
    ) -> Result<Vec<DeadLetter>, BusError> {
        Ok(Vec::new())
    }
    async fn replay_dead_letter(&self, _family: &str, id: uuid::Uuid) -> Result<(), BusError> {
        Err(BusError::DeadLetterNotFound(id))
    }
}

#[tokio::test]
async fn a_failed_publish_holds_back_the_rest_of_its_aggregate_but_not_others() {
    let clock = ManualClock::new(0);
    let outbox = Arc::new(MemoryOutbox::new(Arc::new(clock.clone())));
    let ev = |post_id, author_id| {
        Envelope::new(
            &PostCreated {
                post_id,
                author_id,
                poison: false,
            },
            &clock,
        )
        .unwrap()
    };
    let a1 = ev(1, 1);
    let b1 = ev(2, 2);
    let a2 = ev(3, 1);
    let b2 = ev(4, 2);
    for e in [&a1, &b1, &a2, &b2] {
        outbox.append(e.clone());
    }
    let bus = Arc::new(FlakyBus::default());
    *bus.refuse.lock() = Some(a1.id);
    let relay = OutboxRelay::new(outbox.clone(), bus.clone());
    let round = relay.run_once().await.unwrap();
    assert_eq!(round.published, 2);
    assert_eq!(round.deferred, 2);
    assert_eq!(*bus.stored.lock(), vec![b1.id, b2.id]);
    // Next round: author 1's events go out in order.
    let round = relay.run_once().await.unwrap();
    assert_eq!(round.published, 2);
    assert_eq!(*bus.stored.lock(), vec![b1.id, b2.id, a1.id, a2.id]);
    assert_eq!(outbox.pending(), 0);
}
