//! The response headers and the `429` body.
//!
//! Headers follow the IETF draft *RateLimit header fields for HTTP*,
//! draft-ietf-httpapi-ratelimit-headers, in the structured-field form introduced by draft -08
//! (this crate follows -08; the field syntax is unchanged in later drafts up to this writing):
//!
//! ```text
//! RateLimit-Policy: "per-ip";q=100;w=60, "per-user";q=1000;w=3600
//! RateLimit: "per-ip";r=42;t=18, "per-user";r=990;t=3
//! ```
//!
//! `q` is the quota, `w` its window in seconds, `r` the remaining allowance and `t` the seconds
//! until it is whole again. Denied requests also get `Retry-After` (seconds) and an RFC 9457
//! problem details body. The legacy `X-RateLimit-Limit/-Remaining/-Reset` trio is optional.

use http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use crate::{Decision, Quota};

/// `RateLimit`.
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
/// `RateLimit-Policy`.
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `X-RateLimit-Limit` (legacy).
pub const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// `X-RateLimit-Remaining` (legacy).
pub const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// `X-RateLimit-Reset` (legacy, seconds).
pub const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The outcome of one rule on one request.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) policy: String,
    pub(crate) quota: Quota,
    pub(crate) decision: Decision,
}

fn value(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(s).ok()
}

/// The headers for `outcomes` (at least one).
pub(crate) fn headers(outcomes: &[Outcome], legacy: bool) -> HeaderMap {
    let mut map = HeaderMap::new();
    if outcomes.is_empty() {
        return map;
    }
    let policy: Vec<String> = outcomes
        .iter()
        .map(|o| o.quota.policy_header(&o.policy))
        .collect();
    let limit: Vec<String> = outcomes
        .iter()
        .map(|o| o.decision.ratelimit_header(&o.policy))
        .collect();
    if let Some(v) = value(&policy.join(", ")) {
        map.insert(RATELIMIT_POLICY, v);
    }
    if let Some(v) = value(&limit.join(", ")) {
        map.insert(RATELIMIT, v);
    }
    let combined = outcomes
        .iter()
        .map(|o| o.decision)
        .reduce(Decision::most_restrictive);
    if let Some(d) = combined {
        if let Some(secs) = d.retry_after_secs() {
            map.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        if legacy {
            map.insert(X_RATELIMIT_LIMIT, HeaderValue::from(d.limit));
            map.insert(X_RATELIMIT_REMAINING, HeaderValue::from(d.remaining));
            let reset = d.reset_after.as_secs() + u64::from(d.reset_after.subsec_nanos() > 0);
            map.insert(X_RATELIMIT_RESET, HeaderValue::from(reset));
        }
    }
    map
}

/// The RFC 9457 problem details body of a `429`. Policy names are plain tokens (checked when
/// the rule is built), so they need no JSON escaping.
pub(crate) fn problem(outcomes: &[Outcome]) -> String {
    let denied: Vec<&Outcome> = outcomes.iter().filter(|o| !o.decision.allowed).collect();
    let names: Vec<String> = denied.iter().map(|o| format!("\"{}\"", o.policy)).collect();
    let retry = denied
        .iter()
        .filter_map(|o| o.decision.retry_after_secs())
        .max()
        .unwrap_or(1);
    format!(
        "{{\"type\":\"about:blank\",\"title\":\"Too Many Requests\",\"status\":429,\
         \"detail\":\"Rate limit exceeded; retry in {retry} s.\",\"policies\":[{}],\"retry_after\":{retry}}}",
        names.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_fields() {
        let q: Quota = "100/m".parse().unwrap();
        let a = Outcome {
            policy: "per-ip".into(),
            quota: q,
            decision: Decision::allow(100, 42, 18_000_000_000),
        };
        let b = Outcome {
            policy: "per-user".into(),
            quota: "1000/h".parse().unwrap(),
            decision: Decision::deny(1000, 0, 3_500_000_000, 2_100_000_000),
        };
        let h = headers(&[a.clone(), b.clone()], true);
        assert_eq!(
            h[&RATELIMIT_POLICY],
            "\"per-ip\";q=100;w=60, \"per-user\";q=1000;w=3600"
        );
        assert_eq!(h[&RATELIMIT], "\"per-ip\";r=42;t=18, \"per-user\";r=0;t=4");
        assert_eq!(h[&RETRY_AFTER], "3");
        assert_eq!(h[&X_RATELIMIT_REMAINING], "0");
        let only_a = headers(std::slice::from_ref(&a), false);
        assert!(only_a.get(RETRY_AFTER).is_none());
        assert!(only_a.get(X_RATELIMIT_LIMIT).is_none());
        let body = problem(&[a, b]);
        assert!(
            body.contains("\"status\":429") && body.contains("[\"per-user\"]"),
            "{body}"
        );
    }
}
