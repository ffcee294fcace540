//! Loom model check of the lock-free GCRA cell: under every interleaving, threads racing on one
//! state admit exactly what the quota allows.

use std::sync::Arc as StdArc;

use keel_ratelimit::algorithm::cas::{self, Word};
use keel_ratelimit::{Algorithm, Gcra, Quota, TokenBucket};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Loom's atomic behind the same trait as std's.
struct LoomWord(AtomicU64);

impl Word for LoomWord {
    fn load_acquire(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    fn cas_weak(&self, current: u64, new: u64) -> Result<u64, u64> {
        self.0
            .compare_exchange_weak(current, new, Ordering::AcqRel, Ordering::Acquire)
    }
}

const NOW: u64 = 1_750_000_000_000_000_000;

fn model<A: Algorithm<State = u64> + 'static>(algorithm: A, threads: usize, expected: usize) {
    let algorithm = StdArc::new(algorithm);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(move || {
        let word = Arc::new(LoomWord(AtomicU64::new(0)));
        let admitted = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (word, admitted, algorithm) = (
                    Arc::clone(&word),
                    Arc::clone(&admitted),
                    StdArc::clone(&algorithm),
                );
                loom::thread::spawn(move || {
                    let d = cas::update(&*word, |s| algorithm.check(s, NOW, 1));
                    if d.is_ok_and(|d| d.allowed) {
                        admitted.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(admitted.load(Ordering::Relaxed), expected);
    });
}

#[test]
fn gcra_cell_admits_exactly_the_burst() {
    model(Gcra::new(Quota::per_hour(1).unwrap()), 2, 1);
    model(Gcra::new(Quota::per_hour(2).unwrap()), 2, 2);
    model(Gcra::new(Quota::per_hour(2).unwrap()), 3, 2);
}

#[test]
fn token_bucket_cell_admits_exactly_the_burst() {
    model(TokenBucket::new(Quota::per_hour(1).unwrap()), 2, 1);
}
