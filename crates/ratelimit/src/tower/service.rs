//! [`RateLimit`]: the service that checks each request before passing it on.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower::Service;
use tracing::Instrument;

use super::backend::LimitCheck;
use super::future::ResponseFuture;
use super::headers::Outcome;
use super::layer::Shared;
use super::rule::Resolved;

/// Limits the requests to an inner service (made by [`RateLimitLayer`](super::RateLimitLayer)).
///
/// Rules that apply to a request are checked together by the backend; if any denies, the inner
/// service is not called and the response is `429`. Otherwise the inner response gets the
/// `RateLimit` headers. Requests no rule applies to pass untouched.
#[derive(Clone)]
pub struct RateLimit<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for RateLimit<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("rules", &self.shared.rules.len())
            .finish_non_exhaustive()
    }
}

impl<S> RateLimit<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for RateLimit<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Clone + Send + 'static,
    ReqB: Send + 'static,
    ResB: From<String>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S, ReqB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        // The clone takes our place; the service that was polled ready serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (parts, body) = request.into_parts();
        let mut resolved: Vec<Resolved> = Vec::new();
        let mut classes: Vec<&'static str> = Vec::new();
        for rule in &self.shared.rules {
            let before = resolved.len();
            rule.resolve(&parts, &mut resolved);
            if resolved.len() > before {
                classes.push(rule.key.class());
            }
        }
        let request = Request::from_parts(parts, body);
        if resolved.is_empty() {
            return ResponseFuture::calling(inner.call(request), None);
        }
        let policies: Vec<&str> = resolved.iter().map(|r| r.policy.as_str()).collect();
        // The key class, never the key: keys may be personal data.
        let span = tracing::debug_span!(
            "ratelimit.check",
            policies = %policies.join(","),
            key_classes = %classes.join(","),
            denied = tracing::field::Empty,
        );
        let shared = Arc::clone(&self.shared);
        let check = async move {
            let checks: Vec<LimitCheck<'_>> = resolved
                .iter()
                .map(|r| LimitCheck {
                    policy: &r.policy,
                    quota: r.quota,
                    key: &r.key,
                })
                .collect();
            let decisions = shared.backend.check(&checks).await;
            let outcomes: Vec<Outcome> = resolved
                .iter()
                .zip(decisions)
                .map(|(Resolved { policy, quota, .. }, decision)| {
                    let outcome = if decision.allowed {
                        "admitted"
                    } else {
                        "denied"
                    };
                    metrics::counter!(
                        "keel_ratelimit_requests_total",
                        "policy" => policy.clone(),
                        "outcome" => outcome
                    )
                    .increment(1);
                    Outcome {
                        policy: policy.clone(),
                        quota: *quota,
                        decision,
                    }
                })
                .collect();
            let denied = outcomes.iter().any(|o| !o.decision.allowed);
            tracing::Span::current().record("denied", denied);
            (outcomes, shared.legacy_headers)
        }
        .instrument(span);
        ResponseFuture::checking(Box::pin(check), inner, request)
    }
}
