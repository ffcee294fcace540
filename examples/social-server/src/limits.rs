//! Rate limits: keel-ratelimit's tower layer, in process or shared through Redis.
//!
//! Rules (every rule that applies must admit; each is one member of the IETF `RateLimit` and
//! `RateLimit-Policy` headers; a denial answers 429 with `Retry-After`):
//! - `anonymous`: per client IP, for calls without credentials;
//! - `user`: per user, quota by tier (`free`, `verified`);
//! - `register` and `login`: per client IP on `POST /users` and `POST /auth/login`;
//! - `post`: per user on `POST /posts`; `search`: per user (or IP) on the search routes.
//!
//! [`identify`] runs first and puts the authenticated [`Caller`] in the request extensions,
//! where the layer's [`User`] key extractor and tier classifier read it.

use std::fmt;
use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use keel_ratelimit::Quota;
use keel_ratelimit::tower::{
    ClientIp, InProcess, KeyExtractor, RateLimitLayer, RedisBackend, Rule, User,
};

use crate::auth::Tier;
use crate::config::Config;
use crate::state::AppState;

/// The authenticated caller, as the limiter sees it (its `Display` is the user id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The user.
    pub user: keel_storage::UserId,
    /// Their tier.
    pub tier: Tier,
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.user.0)
    }
}

fn quota(field: &str, text: &str) -> Result<Quota, String> {
    text.parse().map_err(|e| {
        format!("--{field} {text:?} is not a quota ({e}); write e.g. \"60/min burst 10\"")
    })
}

fn caller(parts: &Parts) -> Option<Caller> {
    parts.extensions.get::<Caller>().copied()
}

fn client_ip() -> ClientIp {
    ClientIp::new().peer(|parts: &Parts| parts.extensions.get::<SocketAddr>().map(SocketAddr::ip))
}

/// The user's id when authenticated, the client IP otherwise.
fn user_or_ip(parts: &Parts) -> Option<String> {
    match caller(parts) {
        Some(c) => Some(format!("u:{c}")),
        None => client_ip().extract(parts).map(|ip| format!("ip:{ip}")),
    }
}

fn is(method: Method, path: &'static str) -> impl Fn(&Parts) -> bool + Send + Sync + 'static {
    move |parts: &Parts| parts.method == method && parts.uri.path() == path
}

/// The layer for `config`: in process, or in Redis (shared by every instance) when
/// `redis_url` is set.
///
/// # Errors
/// A quota that does not parse (naming the option) or a layer configuration error.
pub fn layer(config: &Config) -> Result<RateLimitLayer, String> {
    let e = |e: keel_ratelimit::tower::LayerError| e.to_string();
    let rules = [
        Rule::new(
            "anonymous",
            quota("limit-anonymous", &config.limit_anonymous)?,
            client_ip(),
        )
        .map_err(e)?
        .when(|parts: &Parts| caller(parts).is_none()),
        Rule::tiered(
            "user",
            User::<Caller>::new(),
            |parts: &Parts| {
                caller(parts).map(|c| match c.tier {
                    Tier::Free => "free".to_owned(),
                    Tier::Verified => "verified".to_owned(),
                })
            },
            [
                ("free", quota("limit-user", &config.limit_user)?),
                ("verified", quota("limit-verified", &config.limit_verified)?),
            ],
        )
        .map_err(e)?,
        Rule::new(
            "register",
            quota("limit-register", &config.limit_register)?,
            client_ip(),
        )
        .map_err(e)?
        .when(is(Method::POST, "/users")),
        Rule::new(
            "login",
            quota("limit-login", &config.limit_login)?,
            client_ip(),
        )
        .map_err(e)?
        .when(is(Method::POST, "/auth/login")),
        Rule::new("post", quota("limit-post", &config.limit_post)?, user_or_ip)
            .map_err(e)?
            .when(is(Method::POST, "/posts")),
        Rule::new(
            "search",
            quota("limit-search", &config.limit_search)?,
            user_or_ip,
        )
        .map_err(e)?
        .when(|parts: &Parts| matches!(parts.uri.path(), "/posts/search" | "/users/search")),
    ];
    let mut builder = RateLimitLayer::builder();
    builder = match &config.redis_url {
        Some(url) => {
            let prefix = format!("{}:rl", config.redis_prefix);
            let limiter = keel_ratelimit::redis::RedisLimiter::new(
                url,
                keel_ratelimit::redis::RedisConfig::new(prefix),
            )
            .map_err(|e| e.to_string())?;
            builder.backend(RedisBackend::new(
                limiter,
                keel_ratelimit::redis::RedisAlgorithm::Gcra,
            ))
        }
        None => builder.backend(InProcess::new()),
    };
    for rule in rules {
        builder = builder.rule(rule);
    }
    builder.build().map_err(e)
}

/// Middleware: puts the authenticated [`Caller`] (bad credentials count as anonymous here; the
/// handler answers 401) in the extensions for the limiter.
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Some(c) = crate::auth::extract::identify(&state, request.headers()).await {
        request.extensions_mut().insert(Caller {
            user: c.user,
            tier: c.tier,
        });
    }
    next.run(request).await
}
