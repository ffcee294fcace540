//! What the layer and the Redis backend report through the `metrics` facade.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

/// Counters by `name|label=value|...` (labels sorted).
#[derive(Default)]
struct Counters(Mutex<HashMap<String, Arc<AtomicU64>>>);

fn id(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    format!("{}|{}", key.name(), labels.join("|"))
}

impl Recorder for Counters {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let c = Arc::clone(self.0.lock().unwrap().entry(id(key)).or_default());
        Counter::from_arc(c)
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

/// The process-wide recorder of this test binary (installed once).
fn counters() -> &'static Counters {
    static COUNTERS: OnceLock<&'static Counters> = OnceLock::new();
    COUNTERS.get_or_init(|| {
        let c: &'static Counters = Box::leak(Box::default());
        let _ = metrics::set_global_recorder(c);
        c
    })
}

fn count(name: &str) -> u64 {
    counters()
        .0
        .lock()
        .unwrap()
        .get(name)
        .map_or(0, |c| c.load(Ordering::Relaxed))
}

#[cfg(feature = "tower")]
#[tokio::test]
async fn the_layer_counts_admitted_and_denied_per_policy() {
    use keel_ratelimit::ManualClock;
    use keel_ratelimit::tower::{InProcess, RateLimitLayer, Route, Rule};
    use tower::{Layer, ServiceExt};
    counters();
    let layer = RateLimitLayer::builder()
        .backend(InProcess::with_clock(ManualClock::starting_now()))
        .rule(Rule::new("metrics-route", "1/m".parse().unwrap(), Route).unwrap())
        .build()
        .unwrap();
    let svc = layer.layer(tower::service_fn(|_req: http::Request<String>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    }));
    for _ in 0..3 {
        let _ = svc.clone().oneshot(http::Request::new(String::new())).await;
    }
    let name = "keel_ratelimit_requests_total|outcome";
    assert_eq!(count(&format!("{name}=admitted|policy=metrics-route")), 1);
    assert_eq!(count(&format!("{name}=denied|policy=metrics-route")), 2);
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_failures_are_counted() {
    use keel_ratelimit::Quota;
    use keel_ratelimit::redis::{FailurePolicy, RedisAlgorithm, RedisConfig, RedisLimiter};
    counters();
    let before = count("keel_ratelimit_redis_failures_total|reason=error")
        + count("keel_ratelimit_redis_failures_total|reason=timeout");
    // Nothing listens on port 1: every call fails, the policy answers, nothing panics.
    let config = RedisConfig::new("m:")
        .timeout(std::time::Duration::from_millis(200))
        .failure_policy(FailurePolicy::Open);
    let limiter = RedisLimiter::new("redis://127.0.0.1:1", config).unwrap();
    for _ in 0..3 {
        let d = limiter
            .check(RedisAlgorithm::Gcra, Quota::per_second(1).unwrap(), "k", 1)
            .await
            .unwrap();
        assert!(d.allowed);
    }
    let after = count("keel_ratelimit_redis_failures_total|reason=error")
        + count("keel_ratelimit_redis_failures_total|reason=timeout");
    assert!(after - before >= 3, "{before} -> {after}");
    assert_eq!(limiter.stats().failures, 3);
}
