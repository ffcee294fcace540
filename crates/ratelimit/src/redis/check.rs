//! [`Check`]: one limit to check, and how it is encoded for the scripts and decoded back.

use std::collections::HashMap;

use super::{RedisAlgorithm, RedisLimitError};
use crate::{Decision, InsufficientCapacity, Quota};

/// The most checks one batch or multi-limit call may carry.
const MAX_BATCH: usize = 1000;

/// One check: a key under a quota, run by an algorithm, at a cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check<'a> {
    /// The algorithm.
    pub algorithm: RedisAlgorithm,
    /// The quota.
    pub quota: Quota,
    /// The caller's key (user id, IP class, API key, ...). Stored inside a hash tag.
    pub key: &'a str,
    /// The cost (usually 1).
    pub cost: u64,
}

impl<'a> Check<'a> {
    /// A unit-cost check of `key` under `quota` with `algorithm`.
    pub fn new(algorithm: RedisAlgorithm, quota: Quota, key: &'a str) -> Self {
        Self {
            algorithm,
            quota,
            key,
            cost: 1,
        }
    }

    /// The same check at `cost`.
    pub fn cost(mut self, cost: u64) -> Self {
        self.cost = cost;
        self
    }

    pub(crate) fn limit(&self) -> u64 {
        match self.algorithm {
            RedisAlgorithm::Gcra | RedisAlgorithm::TokenBucket => self.quota.max_burst(),
            RedisAlgorithm::SlidingWindowCounter | RedisAlgorithm::SlidingWindowLog => {
                self.quota.count()
            }
        }
    }

    pub(crate) fn validate(&self) -> Result<(), InsufficientCapacity> {
        let limit = self.limit();
        if self.cost > limit {
            return Err(InsufficientCapacity {
                cost: self.cost,
                limit,
            });
        }
        Ok(())
    }
}

pub(crate) fn validate_batch(checks: &[Check<'_>]) -> Result<(), RedisLimitError> {
    if checks.is_empty() || checks.len() > MAX_BATCH {
        return Err(RedisLimitError::BatchSize(checks.len()));
    }
    for c in checks {
        c.validate()?;
    }
    Ok(())
}

/// The two script parameters of a check, in microseconds or counts.
pub(crate) fn params(check: &Check<'_>) -> (String, u64) {
    let q = check.quota;
    match check.algorithm {
        RedisAlgorithm::Gcra | RedisAlgorithm::TokenBucket => {
            (micros(q.emission_interval_nanos()), q.max_burst())
        }
        RedisAlgorithm::SlidingWindowCounter | RedisAlgorithm::SlidingWindowLog => {
            (micros(q.period_nanos()), q.count())
        }
    }
}

/// One check as the multi script takes it: algorithm letter, two parameters, cost.
pub(crate) type ScriptCheck<'a> = (&'static str, &'a str, u64, u64);

/// Pushes the multi script's arguments (see `script.rs`): the mode, each distinct quota once,
/// then each check's quota index and cost. The keys are pushed by the caller, in check order.
pub(crate) fn push_multi_args(
    invocation: &mut redis::ScriptInvocation<'_>,
    mode: &str,
    checks: &[ScriptCheck<'_>],
) {
    let mut quotas: Vec<(&str, &str, u64)> = Vec::new();
    let mut index: HashMap<(&str, &str, u64), usize> = HashMap::new();
    let mut refs = Vec::with_capacity(checks.len());
    for &(letter, a, b, cost) in checks {
        let q = *index.entry((letter, a, b)).or_insert_with(|| {
            quotas.push((letter, a, b));
            quotas.len()
        });
        refs.push((q, cost));
    }
    invocation.arg(mode).arg(quotas.len());
    for (letter, a, b) in quotas {
        invocation.arg(letter).arg(a).arg(b);
    }
    for (q, cost) in refs {
        invocation.arg(q).arg(cost);
    }
}

/// Nanoseconds as a decimal count of microseconds (exact: `123.456`).
fn micros(nanos: u64) -> String {
    let frac = nanos % 1000;
    if frac == 0 {
        (nanos / 1000).to_string()
    } else {
        format!("{}.{frac:03}", nanos / 1000)
    }
}

/// Decodes the scripts' reply, three integers per check (see `script.rs`), for checks whose
/// limits are `limits`, in order.
pub(crate) fn decode(values: &[i64], limits: &[u64]) -> Result<Vec<Decision>, RedisLimitError> {
    if limits.is_empty() || values.len() != limits.len() * 3 {
        return Err(RedisLimitError::Reply(format!(
            "{} integers for {} checks, expected three per check",
            values.len(),
            limits.len()
        )));
    }
    let nonneg = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(values
        .chunks_exact(3)
        .zip(limits)
        .map(|(c, &limit)| match *c {
            [remaining, reset, retry] => {
                let reset = nonneg(reset).saturating_mul(1000);
                if remaining >= 0 {
                    Decision::allow(limit, nonneg(remaining), reset)
                } else {
                    Decision::deny(
                        limit,
                        nonneg(-1 - remaining),
                        reset,
                        nonneg(retry).saturating_mul(1000),
                    )
                }
            }
            _ => Decision::deny(limit, 0, 0, 1),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn micros_are_exact() {
        assert_eq!(micros(1_000_000), "1000");
        assert_eq!(micros(333_333_333), "333333.333");
        assert_eq!(micros(1_005), "1.005");
    }

    #[test]
    fn decode_rejects_bad_shapes() {
        assert!(decode(&[], &[]).is_err());
        assert!(decode(&[1, 2, 3], &[10, 10]).is_err());
        assert!(decode(&[1, 2, 3, 4, 5], &[10]).is_err());
        let d = decode(&[-1, 1_500_000, 200_000, 7, 2_000, 0], &[10, 20]).unwrap();
        assert!(!d[0].allowed);
        assert_eq!((d[0].limit, d[0].remaining), (10, 0));
        assert_eq!(d[0].retry_after, Duration::from_millis(200));
        assert_eq!(d[0].reset_after, Duration::from_millis(1500));
        assert!(d[1].allowed);
        assert_eq!((d[1].limit, d[1].remaining), (20, 7));
        assert_eq!(d[1].reset_after, Duration::from_millis(2));
    }
}
