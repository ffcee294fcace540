//! `until_ready`: exact waits, first come first served, cancellation-safe (paused tokio time).

use std::sync::Arc;
use std::time::Duration;

use keel_ratelimit::{Gcra, Jitter, KeyedLimiter, Quota, TokioClock, Waiter};
use tokio::time::Instant;

fn waiter() -> Arc<Waiter<u32, Gcra, TokioClock>> {
    let limiter = KeyedLimiter::with_clock(Quota::per_second(1).unwrap(), TokioClock::new());
    Arc::new(Waiter::new(Arc::new(limiter)))
}

#[tokio::test(start_paused = true)]
async fn waiters_are_served_in_order_after_exact_waits() {
    let w = waiter();
    let start = Instant::now();
    assert!(w.until_ready(&1).await.unwrap().allowed);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..4 {
        let (w, tx) = (Arc::clone(&w), tx.clone());
        tokio::spawn(async move {
            w.until_ready(&1).await.unwrap();
            tx.send((i, start.elapsed())).unwrap();
        });
        tokio::task::yield_now().await;
    }
    drop(tx);
    let mut got = Vec::new();
    while let Some(x) = rx.recv().await {
        got.push(x);
    }
    let expected: Vec<_> = (0..4)
        .map(|i| (i, Duration::from_secs(i as u64 + 1)))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test(start_paused = true)]
async fn cancelled_waits_consume_nothing() {
    let w = waiter();
    assert!(w.until_ready(&9).await.unwrap().allowed);
    // Cancel a waiter half-way through its wait.
    let r = tokio::time::timeout(Duration::from_millis(500), w.until_ready(&9)).await;
    assert!(r.is_err());
    let start = Instant::now();
    assert!(w.until_ready(&9).await.unwrap().allowed);
    // Admitted at the original retry point (1 s after the first), not later.
    assert_eq!(start.elapsed(), Duration::from_millis(500));
    assert!(!w.limiter().peek(&9).allowed);
    // Impossible costs fail at once.
    assert!(w.until_ready_n(&9, 2).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn jitter_only_adds_delay() {
    let limiter: KeyedLimiter<u32, Gcra, _> =
        KeyedLimiter::with_clock(Quota::per_second(1).unwrap(), TokioClock::new());
    let w = Waiter::new(Arc::new(limiter)).with_jitter(Jitter::up_to(Duration::from_millis(100)));
    w.until_ready(&1).await.unwrap();
    let start = Instant::now();
    w.until_ready(&1).await.unwrap();
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_millis(1_100),
        "{waited:?}"
    );
}
