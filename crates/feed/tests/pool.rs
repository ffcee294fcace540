//! The asynchronous fan-out pool: returns at once, backpressure, clean stop, background
//! rebuilds, metrics.

use std::collections::HashMap;
use std::sync::Arc;

use keel_feed::{FanoutPool, ReadRequest, Strategy, Submit, UserId};
use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use parking_lot::Mutex;

use crate::common::{Fx, config, memory, post};

async fn world() -> Fx {
    let fx = Fx::new(memory().await.unwrap(), config(Strategy::Push, 100));
    for f in 2..=6 {
        fx.graph.add(UserId(f), UserId(1));
        fx.page(f, 10).await;
    }
    fx
}

#[tokio::test]
async fn submit_returns_at_once_and_shutdown_drains() {
    let fx = world().await;
    let pool = FanoutPool::start(fx.engine.clone(), 2, 16).unwrap();
    for i in 0..10 {
        let p = post(100 + i, 1, i);
        fx.posts.insert(p);
        pool.submit(p).await.unwrap();
    }
    pool.shutdown().await;
    for f in 2..=6 {
        assert_eq!(fx.stored(f).await.unwrap().len(), 10);
    }
}

#[tokio::test]
async fn a_full_queue_pushes_back() {
    let fx = world().await;
    // On this single-threaded runtime the worker cannot run until the test awaits.
    let pool = FanoutPool::start(fx.engine.clone(), 1, 1).unwrap();
    assert_eq!(pool.try_submit(post(1, 1, 1)).unwrap(), Submit::Queued);
    assert_eq!(pool.queue_depth(), 1);
    assert_eq!(pool.try_submit(post(2, 1, 2)).unwrap(), Submit::Full);
    // `submit` waits for room instead.
    pool.submit(post(3, 1, 3)).await.unwrap();
    pool.shutdown().await;
    assert_eq!(fx.stored(2).await, Some(vec![3, 1]));
}

#[tokio::test]
async fn dropping_the_pool_stops_its_workers() {
    let fx = world().await;
    let pool = FanoutPool::start(fx.engine.clone(), 3, 8).unwrap();
    assert!(Arc::strong_count(&fx.engine) > 1);
    drop(pool);
    for _ in 0..100 {
        if Arc::strong_count(&fx.engine) == 1 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        Arc::strong_count(&fx.engine),
        1,
        "workers still hold the engine"
    );
}

#[tokio::test]
async fn missing_timelines_are_rebuilt_in_the_background() {
    let fx = world().await;
    fx.graph.add(UserId(9), UserId(1));
    fx.publish(post(10, 1, 1)).await;
    let pool = FanoutPool::start(fx.engine.clone(), 1, 8).unwrap();
    let page = fx
        .engine
        .read(&ReadRequest::first(UserId(9), 10))
        .await
        .unwrap();
    assert!(page.regenerating);
    assert_eq!(page.entries.len(), 1);
    assert!(fx.engine.is_regenerating(UserId(9)));
    pool.shutdown().await;
    assert!(!fx.engine.is_regenerating(UserId(9)));
    assert_eq!(fx.stored(9).await, Some(vec![10]));
}

#[tokio::test]
async fn start_refuses_an_empty_pool() {
    let fx = world().await;
    assert!(FanoutPool::start(fx.engine.clone(), 0, 8).is_err());
    assert!(FanoutPool::start(fx.engine, 1, 0).is_err());
}

/// Records the last value of every metric by name.
#[derive(Debug, Default, Clone)]
struct Capture(Arc<Mutex<HashMap<String, Vec<f64>>>>);

#[derive(Debug)]
struct Handle(String, Capture);

impl CounterFn for Handle {
    fn increment(&self, v: u64) {
        #[allow(clippy::cast_precision_loss)]
        self.1
            .0
            .lock()
            .entry(self.0.clone())
            .or_default()
            .push(v as f64);
    }
    fn absolute(&self, v: u64) {
        CounterFn::increment(self, v);
    }
}
impl GaugeFn for Handle {
    fn increment(&self, v: f64) {
        self.set(v);
    }
    fn decrement(&self, v: f64) {
        self.set(-v);
    }
    fn set(&self, v: f64) {
        self.1.0.lock().entry(self.0.clone()).or_default().push(v);
    }
}
impl HistogramFn for Handle {
    fn record(&self, v: f64) {
        self.set(v);
    }
}

impl Recorder for Capture {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Handle(key.name().to_owned(), self.clone())))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Arc::new(Handle(key.name().to_owned(), self.clone())))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Handle(key.name().to_owned(), self.clone())))
    }
}

#[tokio::test]
async fn queue_depth_lag_and_delivery_time_are_observable() {
    let capture = Capture::default();
    let _guard = metrics::set_default_local_recorder(&capture);
    let fx = world().await;
    let pool = FanoutPool::start(fx.engine.clone(), 1, 8).unwrap();
    pool.try_submit(post(1, 1, 1)).unwrap();
    pool.try_submit(post(2, 1, 2)).unwrap();
    fx.clock.advance(250); // the jobs wait 250 ms in the queue
    pool.shutdown().await;
    let seen = capture.0.lock().clone();
    assert_eq!(
        seen.get(keel_feed::metrics::QUEUE_DEPTH),
        Some(&vec![1.0, 2.0, 1.0, 0.0])
    );
    assert_eq!(
        seen.get(keel_feed::metrics::FANOUT_LAG_SECONDS),
        Some(&vec![0.25, 0.25])
    );
    assert_eq!(
        seen.get(keel_feed::metrics::DELIVERY_SECONDS),
        Some(&vec![0.25, 0.25])
    );
    let delivered: f64 = seen[keel_feed::metrics::DELIVERIES].iter().sum();
    assert_eq!(delivered, 10.0);
}
