//! The in-process limiter used while Redis is unavailable ([`FailurePolicy::Local`]).
//!
//! [`FailurePolicy::Local`]: super::FailurePolicy::Local

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::RedisAlgorithm;
use crate::clock::Clock;
use crate::{
    Decision, Gcra, InsufficientCapacity, KeyedLimiter, Quota, SlidingWindowCounter,
    SlidingWindowLog, TokenBucket,
};

type Keyed<A> = KeyedLimiter<String, A, Arc<dyn Clock>>;

/// One keyed limiter of the algorithm a check asked for.
enum Local {
    Gcra(Keyed<Gcra>),
    TokenBucket(Keyed<TokenBucket>),
    Counter(Keyed<SlidingWindowCounter>),
    Log(Keyed<SlidingWindowLog>),
}

impl Local {
    fn check(&self, key: &str, cost: u64) -> Result<Decision, InsufficientCapacity> {
        match self {
            Self::Gcra(l) => l.check_n(key, cost),
            Self::TokenBucket(l) => l.check_n(key, cost),
            Self::Counter(l) => l.check_n(key, cost),
            Self::Log(l) => l.check_n(key, cost),
        }
    }
}

/// Keyed in-process limiters, one per (algorithm, quota), each on the quota divided by the
/// instance count.
pub(crate) struct Fallback {
    instances: u64,
    clock: Arc<dyn Clock>,
    limiters: Mutex<HashMap<(RedisAlgorithm, Quota), Arc<Local>>>,
}

impl Fallback {
    pub(crate) fn new(instances: u32, clock: Arc<dyn Clock>) -> Self {
        Self {
            instances: u64::from(instances.max(1)),
            clock,
            limiters: Mutex::new(HashMap::new()),
        }
    }

    /// `quota` divided by the instance count (count and burst at least 1, same period).
    pub(crate) fn share(&self, quota: Quota) -> Quota {
        let count = (quota.count() / self.instances).max(1);
        let burst = (quota.max_burst() / self.instances).max(1);
        Quota::new(count, quota.period())
            .and_then(|q| q.burst(burst))
            .unwrap_or(quota)
    }

    pub(crate) fn check(
        &self,
        algorithm: RedisAlgorithm,
        quota: Quota,
        key: &str,
        cost: u64,
    ) -> Decision {
        let local = {
            let mut limiters = self.limiters.lock();
            Arc::clone(limiters.entry((algorithm, quota)).or_insert_with(|| {
                let share = self.share(quota);
                let clock = Arc::clone(&self.clock);
                Arc::new(match algorithm {
                    RedisAlgorithm::Gcra => Local::Gcra(KeyedLimiter::with_clock(share, clock)),
                    RedisAlgorithm::TokenBucket => {
                        Local::TokenBucket(KeyedLimiter::with_clock(share, clock))
                    }
                    RedisAlgorithm::SlidingWindowCounter => {
                        Local::Counter(KeyedLimiter::with_clock(share, clock))
                    }
                    RedisAlgorithm::SlidingWindowLog => {
                        Local::Log(KeyedLimiter::with_clock(share, clock))
                    }
                })
            }))
        };
        // A cost over the divided limit but within the shared one: deny, never error (the caller
        // asked a valid question of the shared quota).
        local.check(key, cost).unwrap_or_else(|e| Decision {
            allowed: false,
            limit: e.limit,
            remaining: 0,
            reset_after: Duration::ZERO,
            retry_after: quota.period(),
        })
    }
}
