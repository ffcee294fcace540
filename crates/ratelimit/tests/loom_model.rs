//! Loom model checks of the lock-free GCRA cell and of the count-min sketch's update: under
//! every interleaving, threads racing on one state admit exactly what the quota allows.

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

    fn raise(&self, value: u64) {
        self.0.fetch_max(value, Ordering::AcqRel);
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

/// Threads racing on one key of a sketch (its state: the minimum of `cells` words), while
/// `intruders` other keys, sharing one of those words, push it up: the key admits exactly its
/// burst when alone, and never more with intruders.
fn sketch_model(burst: u64, threads: usize, intruders: usize) {
    let gcra = StdArc::new(Gcra::new(Quota::per_hour(burst).unwrap()));
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(move || {
        let words: Arc<[LoomWord; 2]> =
            Arc::new([LoomWord(AtomicU64::new(0)), LoomWord(AtomicU64::new(0))]);
        let admitted = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for _ in 0..threads {
            let (words, admitted, gcra) = (
                Arc::clone(&words),
                Arc::clone(&admitted),
                StdArc::clone(&gcra),
            );
            handles.push(loom::thread::spawn(move || {
                let cells = [&words[0], &words[1]];
                let d = cas::update_min(&cells, |s| gcra.check(s, NOW, 1));
                if d.is_ok_and(|d| d.allowed) {
                    admitted.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for _ in 0..intruders {
            let (words, gcra) = (Arc::clone(&words), StdArc::clone(&gcra));
            handles.push(loom::thread::spawn(move || {
                // Another key whose only cell here is word 0 (its other cell is its own).
                let own = LoomWord(AtomicU64::new(0));
                let cells = [&words[0], &own];
                let _ = cas::update_min(&cells, |s| gcra.check(s, NOW, 1));
            }));
        }
        for h in handles {
            h.join().unwrap();
        }
        let n = admitted.load(Ordering::Relaxed) as u64;
        if intruders == 0 {
            assert_eq!(n, burst);
        } else {
            assert!(n <= burst, "{n} admitted over a burst of {burst}");
        }
    });
}

#[test]
fn sketch_update_admits_exactly_the_burst() {
    sketch_model(1, 2, 0);
    sketch_model(2, 3, 0);
}

#[test]
fn sketch_update_never_over_admits_under_collisions() {
    sketch_model(1, 2, 1);
}
