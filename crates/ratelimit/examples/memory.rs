//! Bytes per idle key: keel's keyed store against governor's default keyed store.
//!
//! Run (one process per side, so neither sees the other's freed memory):
//! `cargo run --release -p keel-ratelimit --example memory -- keel 1000000 [active|idle]`
//! `cargo run --release -p keel-ratelimit --example memory -- governor 1000000 [active|idle]`
//!
//! Both sides are measured the same way: resident memory (`/proc/self/statm`) after inserting
//! `n` distinct `u64` keys, minus resident memory before, divided by `n`. Keel also reports the
//! exact bytes its tables allocated.

use std::num::NonZeroU32;

use keel_ratelimit::{Gcra, KeyedBuilder, KeyedLimiter, Quota, SystemClock};

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let side = args.next().unwrap_or_else(|| "keel".into());
    let n: u64 = args.next().map_or(Ok(1_000_000), |s| s.parse())?;
    // "active": keys stay limited for 36 s (100/h), so no store may drop them;
    // "idle": keys refill within 1 ms (1000/s), so a key is idle soon after its request.
    let mode = args.next().unwrap_or_else(|| "active".into());
    let rate = if mode == "idle" { 1000 } else { 100 };
    let keys: Vec<u64> = (0..n)
        .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .collect();
    let before = resident_bytes();
    let report = match side.as_str() {
        "keel" => {
            let limiter: KeyedLimiter<u64, Gcra, SystemClock> =
                KeyedBuilder::new().max_keys(usize::try_from(n)? * 2).build(
                    if mode == "idle" {
                        Quota::per_second(rate)?
                    } else {
                        Quota::per_hour(rate)?
                    },
                    SystemClock::new(),
                );
            for k in &keys {
                limiter.check(k);
            }
            let after = resident_bytes();
            format!(
                "keel ({mode}): {} keys stored, {:.1} resident bytes/key, {:.1} allocated bytes/key",
                limiter.len(),
                (after - before) as f64 / n as f64,
                limiter.allocated_bytes() as f64 / n as f64
            )
        }
        "governor" => {
            let rate = NonZeroU32::new(u32::try_from(rate)?).ok_or("zero")?;
            let quota = if mode == "idle" {
                governor::Quota::per_second(rate)
            } else {
                governor::Quota::per_hour(rate)
            };
            let limiter = governor::RateLimiter::keyed(quota);
            for k in &keys {
                let _ = limiter.check_key(k);
            }
            let after = resident_bytes();
            format!(
                "governor ({mode}): {} keys stored, {:.1} resident bytes/key",
                limiter.len(),
                (after - before) as f64 / n as f64
            )
        }
        other => return Err(format!("unknown side {other:?}: use keel or governor").into()),
    };
    eprintln!("{report}");
    Ok(())
}
