//! [`RateLimitLayer`]: the layer and its builder.

use std::fmt;
use std::sync::Arc;

use tower::Layer;

use super::backend::{Backend, InProcess};
use super::service::RateLimit;
use super::{LayerError, Rule};

/// What the layer shares with every service it makes.
pub(crate) struct Shared {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) legacy_headers: bool,
}

/// A tower layer that limits requests by its [`Rule`]s and answers `429 Too Many Requests`
/// with `Retry-After`, `RateLimit`, `RateLimit-Policy` and a problem details body.
///
/// Cloning is cheap: clones share the rules and the backend (one limiter for every route and
/// every clone of the service).
///
/// ```
/// use keel_ratelimit::tower::{ClientIp, InProcess, RateLimitLayer, Rule};
/// let layer = RateLimitLayer::builder()
///     .backend(InProcess::new())
///     .rule(Rule::new("per-ip", "100/m".parse()?, ClientIp::new())?)
///     .build()?;
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RateLimitLayer {
    shared: Arc<Shared>,
}

impl fmt::Debug for RateLimitLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("rules", &self.shared.rules)
            .field("legacy_headers", &self.shared.legacy_headers)
            .finish_non_exhaustive()
    }
}

impl RateLimitLayer {
    /// A builder: in-process backend, no rule, no legacy headers.
    pub fn builder() -> RateLimitLayerBuilder {
        RateLimitLayerBuilder {
            backend: None,
            rules: Vec::new(),
            legacy_headers: false,
        }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> RateLimit<S> {
        RateLimit::new(inner, Arc::clone(&self.shared))
    }
}

/// Builder for a [`RateLimitLayer`].
pub struct RateLimitLayerBuilder {
    backend: Option<Arc<dyn Backend>>,
    rules: Vec<Rule>,
    legacy_headers: bool,
}

impl fmt::Debug for RateLimitLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitLayerBuilder")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl RateLimitLayerBuilder {
    /// Where the limits live: [`InProcess`] (default, on the system clock; use
    /// [`InProcess::with_clock`] to inject one) or a Redis backend.
    pub fn backend(mut self, backend: impl Backend) -> Self {
        self.backend = Some(Arc::new(backend));
        self
    }

    /// Adds a rule; every rule that applies to a request must admit it.
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Also sends the legacy `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
    /// `X-RateLimit-Reset` headers (of the most restrictive rule).
    pub fn legacy_headers(mut self, on: bool) -> Self {
        self.legacy_headers = on;
        self
    }

    /// The layer.
    ///
    /// # Errors
    /// [`LayerError::DuplicatePolicy`] when two rules share a name.
    pub fn build(self) -> Result<RateLimitLayer, LayerError> {
        for (i, rule) in self.rules.iter().enumerate() {
            if self.rules.iter().skip(i + 1).any(|r| r.name == rule.name) {
                return Err(LayerError::DuplicatePolicy(rule.name.clone()));
            }
        }
        Ok(RateLimitLayer {
            shared: Arc::new(Shared {
                backend: self.backend.unwrap_or_else(|| Arc::new(InProcess::new())),
                rules: self.rules,
                legacy_headers: self.legacy_headers,
            }),
        })
    }
}
