//! `events/throughput`: events per second from publish to consumer acknowledgement, in process
//! and on NATS JetStream (`NATS_URL`; skipped with a message when unreachable).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr
)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keel_events::*;

const BATCH: u64 = 1_000;

#[derive(serde::Serialize, serde::Deserialize)]
struct Ping {
    n: u64,
}

impl Event for Ping {
    const FAMILY: &'static str = "bench";
    const TYPE: &'static str = "Ping";
    fn aggregate_id(&self) -> String {
        (self.n % 64).to_string()
    }
}

struct Noop;

#[async_trait]
impl Handler for Noop {
    async fn handle(&self, _envelope: &Envelope) -> Result<(), HandlerError> {
        Ok(())
    }
}

async fn start(bus: Arc<dyn EventBus>) -> ConsumerHandle {
    ConsumerRunner::spawn(
        bus,
        SubscriptionSpec::new("bench", "bench").unwrap(),
        Arc::new(Noop),
        Arc::new(MemoryDeduplicator::default()),
        Arc::new(SystemClock),
        RunnerOptions::default(),
    )
    .await
    .unwrap()
}

async fn round(bus: &dyn EventBus, stats: &ConsumerStats) {
    let target = stats.processed() + BATCH;
    // Published as a relay does: pipelined batches of 100.
    let envelopes: Vec<Envelope> = (0..BATCH)
        .map(|n| Envelope::new(&Ping { n }, &SystemClock).unwrap())
        .collect();
    for chunk in envelopes.chunks(100) {
        for result in bus.publish_batch(chunk).await {
            result.unwrap();
        }
    }
    while stats.processed() < target {
        tokio::task::yield_now().await;
    }
}

fn throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("events/throughput");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));

    let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::new(4_096));
    let consumer = rt.block_on(start(bus.clone()));
    let stats = consumer.stats();
    group.bench_function("in_process", |b| {
        b.to_async(&rt).iter(|| round(bus.as_ref(), &stats));
    });
    rt.block_on(consumer.shutdown());

    let url = keel_testkit::Service::Nats.url();
    let prefix = format!("bench{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let options = JetStreamOptions {
        prefix,
        ..JetStreamOptions::default()
    };
    match rt.block_on(JetStreamBus::connect(&url, options)) {
        Ok(nats) => {
            let nats: Arc<dyn EventBus> = Arc::new(nats);
            let consumer = rt.block_on(start(nats.clone()));
            let stats = consumer.stats();
            group.bench_function("nats", |b| {
                b.to_async(&rt).iter(|| round(nats.as_ref(), &stats));
            });
            rt.block_on(consumer.shutdown());
        }
        Err(error) => eprintln!("skipped: events/throughput/nats: {error} (set NATS_URL)"),
    }
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
