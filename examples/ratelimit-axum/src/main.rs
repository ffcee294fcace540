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

/// The app: `/me` and `/search`, authenticated, then limited.
fn app(limits: RateLimitLayer) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/search", get(me))
        // Layers run outside-in from the last added: authenticate, then limit.
        .layer(limits)
        .layer(middleware::from_fn(authenticate))
}

/// Serves `app` on `listener`, with the peer address available to the limiter.
async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    announce(&addr);
    serve(listener, app(layer()?)).await?;
    Ok(())
}

#[allow(clippy::print_stderr)]
fn announce(addr: &str) {
    eprintln!(
        "listening on http://{addr} (try /me and /search with 'authorization: Bearer alice')"
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One HTTP/1.1 request over a real socket; the raw response.
    async fn get(addr: SocketAddr, path: &str, user: Option<&str>) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let auth = user.map_or(String::new(), |u| format!("authorization: Bearer {u}\r\n"));
        let request =
            format!("GET {path} HTTP/1.1\r\nhost: test\r\n{auth}connection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn limited_per_user_and_per_ip_over_a_real_socket() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = RateLimitLayer::builder()
            .backend(InProcess::new())
            .rule(
                Rule::new(
                    "per-ip",
                    "8/m".parse().unwrap(),
                    ClientIp::new().peer(|parts| {
                        parts
                            .extensions
                            .get::<ConnectInfo<SocketAddr>>()
                            .map(|c| c.0.ip())
                    }),
                )
                .unwrap(),
            )
            .rule(Rule::new("per-user", "5/m".parse().unwrap(), User::<UserId>::new()).unwrap())
            .build()
            .unwrap();
        let server = tokio::spawn(serve(listener, app(limits)));
        for _ in 0..5 {
            let ok = get(addr, "/me", Some("bob")).await;
            assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
            assert!(ok.contains("ratelimit: \"per-ip\";r="), "{ok}");
        }
        let denied = get(addr, "/me", Some("bob")).await;
        assert!(denied.starts_with("HTTP/1.1 429"), "{denied}");
        assert!(denied.contains("retry-after: "), "{denied}");
        assert!(denied.contains("application/problem+json"), "{denied}");
        // Another user from the same IP: 3 more fit the per-IP limit of 8, then it denies.
        for i in 0..4 {
            let r = get(addr, "/me", Some("carol")).await;
            assert_eq!(r.starts_with("HTTP/1.1 200"), i < 3, "{r}");
        }
        server.abort();
    }
}
