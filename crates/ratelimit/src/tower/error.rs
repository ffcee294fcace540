//! Errors configuring the layer. (Serving never fails because of the limiter: a denial is a
//! `429` response, and a backend failure follows the backend's failure policy.)

/// A rule or extractor could not be configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayerError {
    /// A policy name that is not a plain token; it appears quoted in the `RateLimit` headers.
    #[error(
        "invalid policy name {0:?}: use 1 to 64 ASCII letters, digits, '-', '_' or '.' (it is sent in RateLimit headers)"
    )]
    InvalidPolicyName(String),
    /// A trusted-proxy network or prefix that does not parse.
    #[error(
        "invalid network {0:?}: expected an address or address/prefix such as 10.0.0.0/8 or 2001:db8::/32"
    )]
    InvalidNetwork(String),
    /// Two rules share a name, so their headers could not be told apart.
    #[error("two rules are named {0:?}; give each rule its own name")]
    DuplicatePolicy(String),
    /// A tiered rule with no tier, or a policy rule with no scope and no default.
    #[error(
        "rule {0:?} has no tier or scope; give it at least one (tier, quota) pair or policy rule"
    )]
    NoTier(String),
}
