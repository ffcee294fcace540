//! The metrics this crate emits through the `metrics` facade.
//!
//! | name | kind | meaning |
//! |---|---|---|
//! | `keel_feed_deliveries_total` | counter | timeline writes made by fan-out |
//! | `keel_feed_delivery_seconds` | histogram | per post: from publish (or enqueue) to fan-out complete |
//! | `keel_feed_fanout_cancelled_total` | counter | fan-outs stopped because the post was deleted |
//! | `keel_feed_fanout_queue_depth` | gauge | jobs waiting in the fan-out pool |
//! | `keel_feed_fanout_lag_seconds` | histogram | from enqueue to a worker starting the job |
//! | `keel_feed_regenerations_total` | counter | timelines rebuilt from the follow graph |
//! | `keel_feed_fanout_errors_total` | counter | pool jobs that failed (re-publish to retry) |

/// Counter: timeline writes made by fan-out.
pub const DELIVERIES: &str = "keel_feed_deliveries_total";
/// Histogram: seconds from publish (or enqueue) to fan-out complete, per post.
pub const DELIVERY_SECONDS: &str = "keel_feed_delivery_seconds";
/// Counter: fan-outs cancelled by a delete.
pub const FANOUT_CANCELLED: &str = "keel_feed_fanout_cancelled_total";
/// Gauge: jobs waiting in the fan-out pool.
pub const QUEUE_DEPTH: &str = "keel_feed_fanout_queue_depth";
/// Histogram: seconds from enqueue to a worker starting the job.
pub const FANOUT_LAG_SECONDS: &str = "keel_feed_fanout_lag_seconds";
/// Counter: pool jobs that failed.
pub const FANOUT_ERRORS: &str = "keel_feed_fanout_errors_total";
/// Counter: timelines regenerated.
pub const REGENERATIONS: &str = "keel_feed_regenerations_total";

#[allow(clippy::cast_precision_loss)]
fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

pub(crate) fn delivered(n: usize) {
    metrics::counter!(DELIVERIES).increment(n as u64);
}

pub(crate) fn delivery_completed(ms: u64) {
    metrics::histogram!(DELIVERY_SECONDS).record(secs(ms));
}

pub(crate) fn fanout_cancelled() {
    metrics::counter!(FANOUT_CANCELLED).increment(1);
}

pub(crate) fn regenerated() {
    metrics::counter!(REGENERATIONS).increment(1);
}

#[cfg(feature = "tokio")]
pub(crate) fn queue_depth(depth: usize) {
    #[allow(clippy::cast_precision_loss)]
    metrics::gauge!(QUEUE_DEPTH).set(depth as f64);
}

#[cfg(feature = "tokio")]
pub(crate) fn fanout_lag(ms: u64) {
    metrics::histogram!(FANOUT_LAG_SECONDS).record(secs(ms));
}

#[cfg(feature = "tokio")]
pub(crate) fn fanout_failed() {
    metrics::counter!(FANOUT_ERRORS).increment(1);
}
