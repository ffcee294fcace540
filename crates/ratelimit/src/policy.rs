//! Policies that compose: quotas looked up by scope (tier, endpoint, anonymous IP), several
//! limits per scope.

use std::collections::HashMap;
use std::fmt::{self, Debug};
use std::hash::Hash;

use crate::algorithm::Gcra;
use crate::clock::{Clock, SystemClock};
use crate::composite::AllOf;
use crate::keyed::{KeyedBuilder, KeyedLimiter};
use crate::{Decision, PolicyError, Quota};

/// Rate-limit rules by scope, each a set of quotas that must all admit.
///
/// The scope is whatever the caller classifies a request by: a tier (free, premium,
/// enterprise), a `(tier, endpoint class)` pair so expensive endpoints get lower limits and reads
/// and writes separate ones, or an "anonymous" scope whose keys are IP addresses. Each scope has its
/// own bounded [`KeyedLimiter`], so counts never mix across scopes.
///
/// ```
/// use keel_ratelimit::{ManualClock, Policy, PolicyBuilder, Quota};
///
/// #[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// enum Tier { Free, Premium, Anonymous }
/// #[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// enum Endpoint { Read, Write, Search }
/// #[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// enum Subject { User(u64), Ip(std::net::IpAddr) }
///
/// let policy: Policy<(Tier, Endpoint), Subject, _> = PolicyBuilder::new()
///     .rule((Tier::Free, Endpoint::Read), &["10/s".parse()?, "1000/h".parse()?])
///     .rule((Tier::Free, Endpoint::Search), &["1/s".parse()?])
///     .rule((Tier::Premium, Endpoint::Read), &["100/s".parse()?])
///     .rule((Tier::Anonymous, Endpoint::Read), &["2/s".parse()?])
///     .build(ManualClock::starting_now());
///
/// let alice = Subject::User(1);
/// assert!(policy.check(&(Tier::Free, Endpoint::Search), &alice, 1)?.allowed);
/// assert!(!policy.check(&(Tier::Free, Endpoint::Search), &alice, 1)?.allowed);
/// // Other endpoints keep their own allowance.
/// assert!(policy.check(&(Tier::Free, Endpoint::Read), &alice, 1)?.allowed);
/// // No rule and no default: a typed error, not a silent pass.
/// assert!(policy.check(&(Tier::Premium, Endpoint::Write), &alice, 1).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Policy<S, K, C: Clock + Clone = SystemClock> {
    rules: HashMap<S, KeyedLimiter<K, AllOf<Gcra>, C>>,
    default: Option<KeyedLimiter<K, AllOf<Gcra>, C>>,
}

/// Builder for a [`Policy`].
pub struct PolicyBuilder<S> {
    rules: Vec<(S, Vec<Quota>)>,
    default: Option<Vec<Quota>>,
    keyed: KeyedBuilder,
}

impl<S: Debug> Debug for PolicyBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyBuilder")
            .field("rules", &self.rules)
            .field("default", &self.default)
            .finish_non_exhaustive()
    }
}

impl<S: Hash + Eq> Default for PolicyBuilder<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Hash + Eq> PolicyBuilder<S> {
    /// A builder with no rule.
    pub fn new() -> Self {
        Self {
            rules: Vec::new(),
            default: None,
            keyed: KeyedBuilder::default(),
        }
    }

    /// Adds (or replaces) the quotas for `scope`; all must admit.
    pub fn rule(mut self, scope: S, quotas: &[Quota]) -> Self {
        self.rules.retain(|(s, _)| *s != scope);
        self.rules.push((scope, quotas.to_vec()));
        self
    }

    /// Quotas for scopes without a rule (otherwise they get [`PolicyError::UnknownScope`]).
    pub fn default_rule(mut self, quotas: &[Quota]) -> Self {
        self.default = Some(quotas.to_vec());
        self
    }

    /// Settings (key cap, shards) for each scope's keyed limiter.
    pub fn keyed(mut self, keyed: KeyedBuilder) -> Self {
        self.keyed = keyed;
        self
    }

    /// Builds the policy on `clock`.
    pub fn build<K: Hash + Eq + Clone, C: Clock + Clone>(self, clock: C) -> Policy<S, K, C> {
        let keyed = self.keyed;
        let make = |quotas: &[Quota]| {
            keyed
                .clone()
                .build_with(&AllOf::<Gcra>::from_quotas(quotas), clock.clone())
        };
        Policy {
            rules: self
                .rules
                .into_iter()
                .map(|(scope, quotas)| {
                    let limiter = make(&quotas);
                    (scope, limiter)
                })
                .collect(),
            default: self.default.as_deref().map(make),
        }
    }
}

impl<S: Hash + Eq + Debug, K: Hash + Eq + Clone, C: Clock + Clone> Policy<S, K, C> {
    /// Checks a request of `cost` by `key` in `scope` against every quota of the scope.
    ///
    /// # Errors
    /// [`PolicyError::UnknownScope`] when no rule (and no default) covers `scope`;
    /// [`PolicyError::InsufficientCapacity`] when `cost` exceeds one of its limits.
    pub fn check(&self, scope: &S, key: &K, cost: u64) -> Result<Decision, PolicyError> {
        let limiter = self
            .rules
            .get(scope)
            .or(self.default.as_ref())
            .ok_or_else(|| PolicyError::UnknownScope {
                scope: format!("{scope:?}"),
            })?;
        Ok(limiter.check_n(key, cost)?)
    }

    /// What a unit request would get, consuming nothing.
    ///
    /// # Errors
    /// [`PolicyError::UnknownScope`] as for [`Policy::check`].
    pub fn peek(&self, scope: &S, key: &K) -> Result<Decision, PolicyError> {
        let limiter = self
            .rules
            .get(scope)
            .or(self.default.as_ref())
            .ok_or_else(|| PolicyError::UnknownScope {
                scope: format!("{scope:?}"),
            })?;
        Ok(limiter.peek(key))
    }
}

impl<S, K, C: Clock + Clone> Debug for Policy<S, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("rules", &self.rules.len())
            .field("default", &self.default.is_some())
            .finish()
    }
}
