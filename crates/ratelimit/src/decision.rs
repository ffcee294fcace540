//! The answer to one request, whatever the algorithm.

use std::time::Duration;

/// The outcome of a check: admitted or denied, with everything needed for the IETF `RateLimit`,
/// `RateLimit-Policy` and `Retry-After` headers.
///
/// A denial is a value, not an error: the caller decides whether to reject, queue or wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// Whether the request was admitted (and its cost consumed).
    pub allowed: bool,
    /// The most the limit admits at once (the burst, or the window's count).
    pub limit: u64,
    /// How many more unit-cost requests would be admitted right now, after this one.
    pub remaining: u64,
    /// How long until the allowance is whole again (the bucket full, the window over).
    pub reset_after: Duration,
    /// How long until this request would be admitted; zero when it was.
    pub retry_after: Duration,
}

impl Decision {
    /// An admitted decision.
    #[inline]
    pub(crate) fn allow(limit: u64, remaining: u64, reset_after_ns: u64) -> Self {
        Self {
            allowed: true,
            limit,
            remaining,
            reset_after: Duration::from_nanos(reset_after_ns),
            retry_after: Duration::ZERO,
        }
    }

    /// A denied decision.
    #[inline]
    pub(crate) fn deny(limit: u64, remaining: u64, reset_after_ns: u64, retry_ns: u64) -> Self {
        Self {
            allowed: false,
            limit,
            remaining,
            reset_after: Duration::from_nanos(reset_after_ns),
            retry_after: Duration::from_nanos(retry_ns.max(1)),
        }
    }

    /// Whether the request was admitted.
    #[inline]
    pub fn is_allowed(&self) -> bool {
        self.allowed
    }

    /// The `Retry-After` header value in whole seconds, rounded up; `None` when admitted.
    pub fn retry_after_secs(&self) -> Option<u64> {
        (!self.allowed).then(|| ceil_secs(self.retry_after))
    }

    /// The IETF `RateLimit` header value (draft-ietf-httpapi-ratelimit-headers), e.g.
    /// `"default";r=4;t=10` for policy `default`.
    pub fn ratelimit_header(&self, policy: &str) -> String {
        format!(
            "\"{policy}\";r={};t={}",
            self.remaining,
            ceil_secs(self.reset_after)
        )
    }

    /// Combines two decisions on one request into the most restrictive: denied if either is,
    /// the smaller remaining, the longer waits.
    pub fn most_restrictive(self, other: Self) -> Self {
        let primary = match (self.allowed, other.allowed) {
            (false, true) => self,
            (true, false) => other,
            _ if other.remaining < self.remaining => other,
            _ => self,
        };
        Self {
            allowed: self.allowed && other.allowed,
            limit: primary.limit,
            remaining: self.remaining.min(other.remaining),
            reset_after: self.reset_after.max(other.reset_after),
            retry_after: self.retry_after.max(other.retry_after),
        }
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let d = Decision::deny(10, 0, 1_500_000_000, 200_000_000);
        assert_eq!(d.retry_after_secs(), Some(1));
        assert_eq!(d.ratelimit_header("api"), "\"api\";r=0;t=2");
        let a = Decision::allow(10, 4, 0);
        assert_eq!(a.retry_after_secs(), None);
        let m = a.most_restrictive(d);
        assert!(!m.allowed);
        assert_eq!(m.remaining, 0);
    }
}
