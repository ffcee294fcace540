//! Rate limits: a thin axum middleware over keel-ratelimit's [`Policy`] (the crate's tower
//! layer was not ready when the server was assembled).
//!
//! Every API call is checked against its caller's general scope (per client IP when
//! anonymous, per user by tier when authenticated) and, for register, log in, post creation
//! and search, a stricter class keyed the same way. The most restrictive decision fills the
//! IETF `RateLimit-Policy` / `RateLimit` headers; a denial answers 429 with `Retry-After`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use keel_ratelimit::{Decision, Policy, PolicyBuilder, Quota, SystemClock};

use crate::auth::Tier;
use crate::error::ApiError;
use crate::state::AppState;

/// What a request is limited as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Anonymous calls, keyed by client IP.
    Anonymous,
    /// A free-tier user.
    Free,
    /// A verified user.
    Verified,
    /// `POST /users`, keyed by IP.
    Register,
    /// `POST /auth/login`, keyed by IP.
    Login,
    /// `POST /posts`, keyed by user.
    Post,
    /// Search, keyed by user or IP.
    Search,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Anonymous => "anonymous",
            Scope::Free => "free",
            Scope::Verified => "verified",
            Scope::Register => "register",
            Scope::Login => "login",
            Scope::Post => "post",
            Scope::Search => "search",
        }
    }
}

/// The server's rate-limit policy.
pub struct RateLimits {
    policy: Policy<Scope, String, SystemClock>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

fn quota(field: &str, text: &str) -> Result<Quota, String> {
    text.parse().map_err(|e| {
        format!("--{field} {text:?} is not a quota ({e}); write e.g. \"60/min burst 10\"")
    })
}

impl RateLimits {
    /// The policy from the configured quotas.
    ///
    /// # Errors
    /// A quota that does not parse, naming the option.
    pub fn from_config(c: &crate::Config) -> Result<Self, String> {
        let policy = PolicyBuilder::new()
            .rule(
                Scope::Anonymous,
                &[quota("limit-anonymous", &c.limit_anonymous)?],
            )
            .rule(Scope::Free, &[quota("limit-user", &c.limit_user)?])
            .rule(
                Scope::Verified,
                &[quota("limit-verified", &c.limit_verified)?],
            )
            .rule(
                Scope::Register,
                &[quota("limit-register", &c.limit_register)?],
            )
            .rule(Scope::Login, &[quota("limit-login", &c.limit_login)?])
            .rule(Scope::Post, &[quota("limit-post", &c.limit_post)?])
            .rule(Scope::Search, &[quota("limit-search", &c.limit_search)?])
            .build(SystemClock::new());
        Ok(Self { policy })
    }

    fn check(&self, scope: Scope, key: &str) -> Option<(Scope, Decision)> {
        let d = match self.policy.check(&scope, &key.to_owned(), 1) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "rate-limit policy error; request allowed");
                return None;
            }
        };
        let outcome = if d.allowed { "allowed" } else { "denied" };
        metrics::counter!("keel_ratelimit_decisions_total", "scope" => scope.name(), "outcome" => outcome)
            .increment(1);
        Some((scope, d))
    }
}

fn class(method: &Method, path: &str) -> Option<Scope> {
    match (method, path) {
        (&Method::POST, "/users") => Some(Scope::Register),
        (&Method::POST, "/auth/login") => Some(Scope::Login),
        (&Method::POST, "/posts") => Some(Scope::Post),
        (_, "/posts/search" | "/users/search") => Some(Scope::Search),
        _ => None,
    }
}

/// Middleware: checks the request's scopes, answers 429 or adds the headers.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    let caller = crate::auth::extract::identify(&state, request.headers());
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let (general, key) = match &caller {
        Some(c) => (
            match c.tier {
                Tier::Free => Scope::Free,
                Tier::Verified => Scope::Verified,
            },
            c.user.0.to_string(),
        ),
        None => (Scope::Anonymous, ip.clone()),
    };
    let mut decisions = Vec::with_capacity(2);
    decisions.extend(state.limits.check(general, &key));
    if let Some(class) = class(request.method(), &path) {
        let class_key = if matches!(class, Scope::Register | Scope::Login) {
            &ip
        } else {
            &key
        };
        decisions.extend(state.limits.check(class, class_key));
    }
    let Some((scope, decision)) = decisions.into_iter().reduce(|a, b| {
        let d = a.1.most_restrictive(b.1);
        let s = if d == b.1 || !b.1.allowed { b.0 } else { a.0 };
        (s, d)
    }) else {
        return next.run(request).await;
    };
    let mut response = match decision.retry_after_secs() {
        Some(secs) => ApiError::too_many_requests(secs).into_response(),
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\";q={}", scope.name(), decision.limit)) {
        headers.insert("ratelimit-policy", v);
    }
    if let Ok(v) = HeaderValue::from_str(&decision.ratelimit_header(scope.name())) {
        headers.insert("ratelimit", v);
    }
    response
}
