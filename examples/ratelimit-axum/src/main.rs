// Run: cargo run -p keel-ratelimit-axum-example   (set REDIS_URL to share limits through Redis)
// Then: for i in $(seq 12); do curl -si -H 'authorization: Bearer alice' localhost:3000/me | head -n 6; done
//! An axum app limited per client IP (10 a minute) and per authenticated user (5 a minute,
//! 2 a minute on `/search`), with the IETF `RateLimit` headers and a `429` problem details body.
//!
//! Limits live in this process, or in Redis when `REDIS_URL` is set (shared by every instance,
//! failing over to a local limiter with the quota divided by `INSTANCES`, default 2).

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use keel_ratelimit::redis::{FailurePolicy, RedisAlgorithm, RedisConfig, RedisLimiter};
use keel_ratelimit::tower::{ClientIp, InProcess, RateLimitLayer, RedisBackend, Rule, User};

/// The authenticated user, put in the request extensions by [`authenticate`].
#[derive(Debug, Clone)]
struct UserId(String);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stand-in for real authentication: `Authorization: Bearer <name>` makes you `<name>`.
async fn authenticate(mut request: Request, next: Next) -> Response {
    let user = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|name| !name.is_empty() && name.len() <= 64)
        .map(|name| UserId(name.to_owned()));
    if let Some(user) = user {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

async fn me(user: Option<Extension<UserId>>) -> String {
    match user {
        Some(Extension(user)) => format!("hello, {user}\n"),
        None => "hello, anonymous\n".to_owned(),
    }
}

fn layer() -> Result<RateLimitLayer, Box<dyn std::error::Error>> {
    // The peer address from axum's ConnectInfo; trust a proxy on localhost.
    let ip = ClientIp::new()
        .trust("127.0.0.1")?
        .trust("::1")?
        .peer(|parts| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        });
    let builder = RateLimitLayer::builder()
        .rule(Rule::new("per-ip", "10/m".parse()?, ip)?)
        .rule(Rule::new(
            "per-user",
            "5/m".parse()?,
            User::<UserId>::new(),
        )?)
        .rule(Rule::new("search", "2/m".parse()?, User::<UserId>::new())?.route_prefix("/search"));
    let builder = match std::env::var("REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => {
            let instances = std::env::var("INSTANCES")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(2);
            let config = RedisConfig::new("example:rl:")
                .timeout(Duration::from_millis(50))
                .failure_policy(FailurePolicy::Local { instances });
            let limiter = RedisLimiter::new(&url, config)?;
            builder.backend(RedisBackend::new(limiter, RedisAlgorithm::Gcra))
        }
        _ => builder.backend(InProcess::new()),
    };
    Ok(builder.build()?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let app = Router::new()
        .route("/me", get(me))
        .route("/search", get(me))
        // Layers run outside-in from the last added: authenticate, then limit.
        .layer(layer()?)
        .layer(middleware::from_fn(authenticate));
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing_subscriber_info(&addr);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

#[allow(clippy::print_stderr)]
fn tracing_subscriber_info(addr: &str) {
    eprintln!(
        "listening on http://{addr} (try /me and /search with 'authorization: Bearer alice')"
    );
}
