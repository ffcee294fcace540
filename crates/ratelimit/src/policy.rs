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
    rules: HashMap<S, Scoped<K, C>>,
    default: Option<Scoped<K, C>>,
}

/// One scope's quotas and the keyed limiter that enforces them.
struct Scoped<K, C: Clock> {
    quotas: Vec<Quota>,
    limiter: KeyedLimiter<K, AllOf<Gcra>, C>,
}

/// Builder for a [`Policy`], and the plain description of one: scopes and their quotas.
///
/// The same builder can build an in-process [`Policy`] and, with the `tower` feature, a tower
/// rule ([`Rule::from_policy`](crate::tower::Rule::from_policy)) that enforces the same limits
/// in process or in Redis.
#[derive(Clone)]
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

    /// The quotas for `scope`: its rule's, else the default rule's; `None` when neither.
    pub fn quotas(&self, scope: &S) -> Option<&[Quota]> {
        self.rules
            .iter()
            .find(|(s, _)| s == scope)
            .map(|(_, q)| q.as_slice())
            .or(self.default.as_deref())
    }

    /// The most quotas any scope has (0 with no rule and no default).
    #[cfg(feature = "tower")]
    pub(crate) fn max_quotas(&self) -> usize {
        self.rules
            .iter()
            .map(|(_, q)| q.len())
            .chain(self.default.as_ref().map(Vec::len))
            .max()
            .unwrap_or(0)
    }

    /// Settings (key cap, shards) for each scope's keyed limiter.
    pub fn keyed(mut self, keyed: KeyedBuilder) -> Self {
        self.keyed = keyed;
        self
    }

    /// Builds the policy on `clock`.
    pub fn build<K: Hash + Eq + Clone, C: Clock + Clone>(self, clock: C) -> Policy<S, K, C> {
        let keyed = self.keyed;
        let make = |quotas: Vec<Quota>| Scoped {
            limiter: keyed
                .clone()
                .build_with(&AllOf::<Gcra>::from_quotas(&quotas), clock.clone()),
            quotas,
        };
        Policy {
            rules: self
                .rules
                .into_iter()
                .map(|(scope, quotas)| (scope, make(quotas)))
                .collect(),
            default: self.default.map(make),
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
        Ok(self.scoped(scope)?.limiter.check_n(key, cost)?)
    }

    /// The quotas that apply in `scope` (for `RateLimit-Policy` headers or documentation).
    ///
    /// # Errors
    /// [`PolicyError::UnknownScope`] as for [`Policy::check`].
    pub fn quotas(&self, scope: &S) -> Result<&[Quota], PolicyError> {
        Ok(&self.scoped(scope)?.quotas)
    }

    fn scoped(&self, scope: &S) -> Result<&Scoped<K, C>, PolicyError> {
        self.rules
            .get(scope)
            .or(self.default.as_ref())
            .ok_or_else(|| PolicyError::UnknownScope {
                scope: format!("{scope:?}"),
            })
    }

    /// What a unit request would get, consuming nothing.
    ///
    /// # Errors
    /// [`PolicyError::UnknownScope`] as for [`Policy::check`].
    pub fn peek(&self, scope: &S, key: &K) -> Result<Decision, PolicyError> {
        Ok(self.scoped(scope)?.limiter.peek(key))
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
