//! A tower layer that rate-limits HTTP requests (feature `tower`), for axum or any tower stack.
//!
//! ```
//! use keel_ratelimit::tower::{ClientIp, InProcess, RateLimitLayer, Rule, User};
//! use keel_ratelimit::ManualClock;
//! use tower::{Layer, Service, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = RateLimitLayer::builder()
//!     .backend(InProcess::with_clock(ManualClock::starting_now()))
//!     .rule(Rule::new("per-ip", "2/m".parse()?, ClientIp::new())?)
//!     .rule(Rule::new("per-user", "1000/h".parse()?, User::<u64>::new())?)
//!     .build()?;
//! let app = tower::service_fn(|_req: http::Request<String>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hello")))
//! });
//! let mut svc = layer.layer(app);
//! let request = || {
//!     let mut r = http::Request::new(String::new());
//!     r.extensions_mut().insert("203.0.113.7:5000".parse::<std::net::SocketAddr>().unwrap());
//!     r
//! };
//! let ok = svc.ready().await?.call(request()).await?;
//! assert_eq!(ok.headers()["ratelimit"], "\"per-ip\";r=1;t=30");
//! svc.ready().await?.call(request()).await?;
//! let denied = svc.ready().await?.call(request()).await?;
//! assert_eq!(denied.status(), 429);
//! assert_eq!(denied.headers()["retry-after"], "30");
//! # Ok(()) }
//! ```
//!
//! # Layout (tower's)
//! - `layer`: [`RateLimitLayer`] and its builder; `Clone`, shares one backend.
//! - `service`: [`RateLimit`], the service; `future`: [`ResponseFuture`].
//! - `error`: [`LayerError`], configuration mistakes (serving never fails because of the
//!   limiter).
//! - `rule`: [`Rule`], a named limit per route (`route_prefix`, `when`), per tier
//!   (`Rule::tiered`), or by the core's composable policies (`Rule::from_policy`: a
//!   [`PolicyBuilder`](crate::PolicyBuilder)'s scopes, several quotas each); every rule that
//!   applies must admit.
//! - `key` and `ip`: [`KeyExtractor`] and the extractors [`ClientIp`] (trusted proxies, IPv6
//!   by prefix), [`User`], [`ApiKey`], [`Route`], and closures.
//! - `backend`: [`Backend`], [`InProcess`] (clock injectable), `RedisBackend` (feature `redis`).
//! - `headers`: the header names and values.
//!
//! # Headers
//! Every limited response carries the IETF draft's structured fields (draft
//! `draft-ietf-httpapi-ratelimit-headers`, the form introduced by draft -08), one list member
//! per rule:
//! `RateLimit-Policy: "per-ip";q=100;w=60` and `RateLimit: "per-ip";r=50;t=30`. A denied request
//! gets `429 Too Many Requests`, `Retry-After` (seconds) and an RFC 9457
//! `application/problem+json` body; the legacy `X-RateLimit-*` trio is opt-in
//! ([`RateLimitLayerBuilder::legacy_headers`]).
//!
//! # Observability
//! `keel_ratelimit_requests_total{policy, outcome}` counts admitted and denied requests per
//! rule through the `metrics` facade; each check runs in a `ratelimit.check` tracing span with
//! the rules and key classes (`ip`, `user`, ...), never the raw key.
//!
//! # Untrusted input
//! Keys come from the request: they are never parsed beyond the IP forms above, and keys over
//! 128 bytes are cut and suffixed with a hash. Forwarding headers are read only from trusted
//! proxies and only their last 32 entries. A client cannot pick its IP key (the rightmost
//! untrusted hop wins) and IPv6 clients cannot rotate addresses within their /64.

mod backend;
mod error;
mod future;
mod headers;
mod ip;
mod key;
mod layer;
mod rule;
mod service;

#[cfg(feature = "redis")]
pub use backend::RedisBackend;
pub use backend::{Backend, BoxFuture, InProcess, LimitCheck};
pub use error::LayerError;
pub use future::ResponseFuture;
pub use headers::{
    RATELIMIT, RATELIMIT_POLICY, X_RATELIMIT_LIMIT, X_RATELIMIT_REMAINING, X_RATELIMIT_RESET,
};
pub use ip::{ClientIp, ForwardedHeader, IpNet};
pub use key::{ApiKey, KeyExtractor, MAX_KEY_LEN, Route, User};
pub use layer::{RateLimitLayer, RateLimitLayerBuilder};
pub use rule::Rule;
pub use service::RateLimit;
