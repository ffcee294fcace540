//! Where the layer's limits live: in process, or in Redis (feature `redis`).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::clock::{Clock, SystemClock};
use crate::{Decision, Gcra, KeyedLimiter, Quota};

/// A boxed future of a backend.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One limit to check for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitCheck<'a> {
    /// The rule's name (the `RateLimit` policy name); limits of different rules never mix.
    pub policy: &'a str,
    /// The quota.
    pub quota: Quota,
    /// The request's key under this rule.
    pub key: &'a str,
}

/// Decides unit-cost requests under several limits at once.
///
/// Implementations return one decision per check, in order, and should consume nothing when
/// any check denies. They never fail: a store that cannot be reached answers by its own
/// failure policy.
pub trait Backend: Send + Sync + 'static {
    /// Checks a request against `checks`.
    fn check<'a>(&'a self, checks: &'a [LimitCheck<'a>]) -> BoxFuture<'a, Vec<Decision>>;
}

/// One rule's keyed GCRA store.
type Keyed<C> = KeyedLimiter<String, Gcra, C>;
/// The stores by (rule, quota).
type Stores<C> = HashMap<(String, Quota), Arc<Keyed<C>>>;

/// Limits kept in this process: GCRA per (rule, quota), bounded keyed stores, on an injected
/// clock.
///
/// A request is first *peeked* under every limit and consumed only when all admit, so a denial
/// by one rule costs nothing under the others. Two concurrent requests on the same keys may
/// both pass the peek; the second is then still decided correctly by each limit, but may have
/// consumed under one limit before being denied by another.
pub struct InProcess<C: Clock + Clone = SystemClock> {
    clock: C,
    limiters: Mutex<Stores<C>>,
}

impl<C: Clock + Clone> fmt::Debug for InProcess<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcess")
            .field("limits", &self.limiters.lock().len())
            .finish_non_exhaustive()
    }
}

impl InProcess {
    /// In-process limits on the system clock.
    pub fn new() -> Self {
        Self::with_clock(SystemClock::new())
    }
}

impl Default for InProcess {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Clock + Clone + 'static> InProcess<C> {
    /// In-process limits on `clock` (a [`ManualClock`](crate::ManualClock) in tests).
    pub fn with_clock(clock: C) -> Self {
        Self {
            clock,
            limiters: Mutex::new(HashMap::new()),
        }
    }

    fn limiter(&self, policy: &str, quota: Quota) -> Arc<Keyed<C>> {
        let mut limiters = self.limiters.lock();
        if let Some(l) = limiters.get(&(policy.to_owned(), quota)) {
            return Arc::clone(l);
        }
        let l = Arc::new(KeyedLimiter::with_clock(quota, self.clock.clone()));
        limiters.insert((policy.to_owned(), quota), Arc::clone(&l));
        l
    }
}

impl<C: Clock + Clone + 'static> Backend for InProcess<C> {
    fn check<'a>(&'a self, checks: &'a [LimitCheck<'a>]) -> BoxFuture<'a, Vec<Decision>> {
        let limiters: Vec<_> = checks
            .iter()
            .map(|c| self.limiter(c.policy, c.quota))
            .collect();
        let peeks: Vec<Decision> = limiters
            .iter()
            .zip(checks)
            .map(|(l, c)| l.peek(c.key))
            .collect();
        let decisions = if peeks.iter().all(|d| d.allowed) {
            limiters
                .iter()
                .zip(checks)
                .map(|(l, c)| l.check(c.key))
                .collect()
        } else {
            peeks
        };
        Box::pin(std::future::ready(decisions))
    }
}

/// Limits in Redis, shared by every instance: all of a request's limits in one atomic script
/// run ([`RedisLimiter::check_all`](crate::redis::RedisLimiter::check_all)), with the
/// limiter's failure policy.
///
/// Each rule's key is `{rule}:{key}` inside its own hash tag. On a Redis Cluster
/// ([`RedisLimiter::cluster`](crate::redis::RedisLimiter::cluster)) one request's keys usually
/// live in different slots, which no single script can see: such a request is checked with
/// one pipelined round trip per slot
/// ([`check_batch`](crate::redis::RedisLimiter::check_batch)), each limit deciding on its own,
/// so a denial by one rule may still have consumed under another (all-or-none holds on one
/// node, or when every key shares a slot). A rejected call (a misconfiguration) is logged at
/// error level and the request admitted.
#[cfg(feature = "redis")]
#[derive(Debug, Clone)]
pub struct RedisBackend {
    limiter: crate::redis::RedisLimiter,
    algorithm: crate::redis::RedisAlgorithm,
}

#[cfg(feature = "redis")]
impl RedisBackend {
    /// Limits in `limiter`, run by `algorithm`.
    pub fn new(
        limiter: crate::redis::RedisLimiter,
        algorithm: crate::redis::RedisAlgorithm,
    ) -> Self {
        Self { limiter, algorithm }
    }
}

#[cfg(feature = "redis")]
impl Backend for RedisBackend {
    fn check<'a>(&'a self, checks: &'a [LimitCheck<'a>]) -> BoxFuture<'a, Vec<Decision>> {
        Box::pin(async move {
            let keys: Vec<String> = checks
                .iter()
                .map(|c| format!("{}:{}", c.policy, c.key))
                .collect();
            let redis_checks: Vec<crate::redis::Check<'_>> = checks
                .iter()
                .zip(&keys)
                .map(|(c, k)| crate::redis::Check::new(self.algorithm, c.quota, k))
                .collect();
            let result = match self.limiter.check_all(&redis_checks).await {
                Err(crate::redis::RedisLimitError::CrossSlot(_)) => {
                    self.limiter.check_batch(&redis_checks).await
                }
                other => other,
            };
            match result {
                Ok(decisions) => decisions,
                Err(error) => {
                    // Unit costs always fit and the layer sends at most one check per rule, so
                    // this is a misconfiguration; admit rather than fail the request.
                    tracing::error!(target: "keel_ratelimit::tower", %error, "rate-limit check rejected; admitting");
                    checks
                        .iter()
                        .map(|c| Decision::allow(c.quota.max_burst(), 0, 0))
                        .collect()
                }
            }
        })
    }
}
