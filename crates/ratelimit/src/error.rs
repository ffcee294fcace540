//! Errors: misuse of the API, never a denial (a denial is a [`Decision`](crate::Decision)).

/// A quota could not be built: zero, absurdly large or unparseable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuotaError {
    /// The request count per period was zero.
    #[error("a quota must allow at least one request per period; use a count of 1 or more")]
    ZeroCount,
    /// The period was zero.
    #[error("a quota period must be longer than zero; use per_second, per_minute or per_hour")]
    ZeroPeriod,
    /// The burst was zero.
    #[error("a burst of zero admits nothing; use a burst of 1 or more")]
    ZeroBurst,
    /// More than one request per nanosecond.
    #[error(
        "{count} requests per {period_nanos} ns is finer than one per nanosecond; use a longer period or a smaller count"
    )]
    TooFine {
        /// The requested count.
        count: u64,
        /// The requested period in nanoseconds.
        period_nanos: u64,
    },
    /// The period, the burst or their product does not fit the nanosecond arithmetic.
    #[error(
        "the quota is too large (period {period_nanos} ns, burst {burst}): periods are limited to 100 years and burst x interval to 2^62 ns; use a smaller burst or period"
    )]
    TooLarge {
        /// The requested period in nanoseconds.
        period_nanos: u64,
        /// The requested burst.
        burst: u64,
    },
    /// The text form could not be parsed.
    #[error(
        "cannot parse quota {input:?}: {reason}; expected forms like \"10/s\", \"1000/h burst 50\" or \"5/30s\""
    )]
    Parse {
        /// The text given.
        input: String,
        /// What was wrong with it.
        reason: &'static str,
    },
}

/// A request cost that can never be admitted, because it exceeds the limit (the burst, or the
/// window's count).
///
/// Waiting would not help; the caller must split the request or raise the quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a cost of {cost} can never be admitted: the limit holds at most {limit}; split the request or raise the quota's burst"
)]
pub struct InsufficientCapacity {
    /// The cost asked for.
    pub cost: u64,
    /// The most any single request may cost under this limit.
    pub limit: u64,
}

/// An error from a policy lookup or check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// No rule matches the scope and no default was configured.
    #[error("no rate-limit rule for scope {scope}; add a rule for it or set a default rule")]
    UnknownScope {
        /// The scope asked for, as debug text.
        scope: String,
    },
    /// The cost can never fit one of the scope's limits.
    #[error(transparent)]
    InsufficientCapacity(#[from] InsufficientCapacity),
}

/// An error configuring an adaptive limiter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AdaptiveError {
    /// The floor was above the ceiling, or either was zero.
    #[error(
        "adaptive limits need 0 < floor <= initial <= ceiling (got floor {floor}, initial {initial}, ceiling {ceiling}); fix the bounds"
    )]
    Bounds {
        /// The floor asked for.
        floor: u64,
        /// The starting limit asked for.
        initial: u64,
        /// The ceiling asked for.
        ceiling: u64,
    },
    /// The decrease factor was not strictly between 0 and 1.
    #[error("the multiplicative decrease must be in (0, 1), got {0}; 0.9 is a common choice")]
    Decrease(f64),
    /// A quota built from the adaptive limit was invalid.
    #[error(transparent)]
    Quota(#[from] QuotaError),
}
