//! Bytes per stored key: keel's keyed store against governor's default keyed store.
//!
//! Run (one process per side, so neither sees the other's freed memory):
//! `cargo run --release -p keel-ratelimit --example memory -- keel 1000000 [active|idle]`
//! `cargo run --release -p keel-ratelimit --example memory -- governor 1000000 [active|idle]`
//!
//! Both sides are measured the same two ways, after inserting `n` distinct `u64` keys:
//! - **live heap bytes** (exact): bytes allocated minus bytes freed through the global
//!   allocator (`stats_alloc`) while the keys went in, divided by `n`. This is what the store
//!   holds, independent of the allocator's caching;
//! - **resident bytes**: resident memory (`/proc/self/statm`) after minus before, divided by
//!   `n`. It also counts freed memory the allocator kept (old tables of a store that grew).

use std::alloc::System;
use std::num::NonZeroU32;

use keel_ratelimit::{Gcra, KeyedBuilder, KeyedLimiter, Quota, SystemClock};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Live heap bytes and resident bytes gained while `fill` ran, per key.
struct Measure {
    region: Region<'static, System>,
    resident_before: u64,
}

impl Measure {
    fn start() -> Self {
        Self {
            resident_before: resident_bytes(),
            region: Region::new(GLOBAL),
        }
    }

    fn per_key(&self, n: u64) -> (f64, f64) {
        let stats = self.region.change();
        let live = stats.bytes_allocated as f64 - stats.bytes_deallocated as f64
            + stats.bytes_reallocated as f64;
        let resident = resident_bytes().saturating_sub(self.resident_before) as f64;
        (live / n as f64, resident / n as f64)
    }
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
    let (stored, (live, resident)) = match side.as_str() {
        "keel" => {
            let measure = Measure::start();
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
            (limiter.len(), measure.per_key(n))
        }
        "governor" => {
            let rate = NonZeroU32::new(u32::try_from(rate)?).ok_or("zero")?;
            let quota = if mode == "idle" {
                governor::Quota::per_second(rate)
            } else {
                governor::Quota::per_hour(rate)
            };
            let measure = Measure::start();
            let limiter = governor::RateLimiter::keyed(quota);
            for k in &keys {
                let _ = limiter.check_key(k);
            }
            (limiter.len(), measure.per_key(n))
        }
        other => return Err(format!("unknown side {other:?}: use keel or governor").into()),
    };
    eprintln!(
        "{side} ({mode}): {stored} keys stored, {live:.4} live heap bytes/key, \
         {resident:.2} resident bytes/key"
    );
    Ok(())
}
