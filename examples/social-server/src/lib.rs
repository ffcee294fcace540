//! # keel-social-server
//!
//! The Keel social REST service: keel-storage (memory or PostgreSQL), keel-pagination (signed
//! cursors and `Link` headers on every list), keel-feed (hybrid home timelines, memory or
//! Redis), keel-events (outbox relay, in-process bus or NATS JetStream, consumers) and
//! keel-ratelimit (per-IP, per-user and per-endpoint limits) assembled behind one axum router.
//!
//! ```
//! use keel_social_server::{App, Config};
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let mut config = Config::memory();
//! config.argon2_memory_kib = 1024; // fast hashes for the example; keep the default in production
//! let app = App::build(config).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(app.serve(listener, async { let _ = stopped.await; }));
//! let _ = stop.send(());
//! server.await??;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Run it with `cargo run --release -p keel-social-server` (memory backends and the demo
//! dataset; log in as `ferris` with password `keel-demo-password`), and read the API at
//! `/docs`.
//!
//! # Layout
//! - [`config`]: [`Config`], every option with its environment variable.
//! - [`state`]: [`AppState`], the backends and services built from the configuration.
//! - [`server`]: the router, its middleware stack, and the hyper accept loop (header-read
//!   timeout, graceful drain).
//! - [`routes`]: one module per resource (users, auth, posts, social, comments, feed, ops).
//! - [`auth`]: argon2id with a concurrency cap, strict HS256 JWTs, refresh tokens, API keys.
//! - [`error`]: [`ApiError`], the one JSON error shape.
//! - [`extract`]: JSON, path and query extractors that reject in that shape.
//! - [`paging`]: page parameters to keel-pagination seeks, pages with `Link` headers.
//! - [`events`]: the outbox relay and the consumers (timelines, notifications, analytics).
//! - [`timeline`]: keel-feed's engine over the store (keel-feed's `storage` bridge).
//! - [`limits`]: keel-ratelimit's tower layer (in process or Redis): per IP, per user by tier,
//!   per endpoint class; IETF headers, 429.
//! - [`cache`]: read-through profile and post caches (memory or Redis) with hit counters.
//! - [`notify`]: notifications. [`trending`]: engagement counters and ranking.
//! - [`metrics`]: Prometheus recorder and per-route request metrics. [`request_id`]: ids.
//! - [`openapi`]: `/openapi.json` (utoipa) and the offline `/docs` page.
//! - [`time`]: RFC 3339 formatting and parsing. [`demo`]: the demo dataset.
//!
//! # Untrusted input
//! - Bodies: at most `--body-limit` bytes (413), JSON with unknown fields rejected (400); every
//!   field checked with keel-storage's rules, all invalid fields reported at once (422).
//! - Headers: read within `--header-timeout-ms` or the connection is closed; a whole request
//!   within `--request-timeout-ms` (408). Client request ids kept only if short and plain.
//! - Credentials: access tokens over 4 KiB, or with any `alg` but HS256, rejected before the
//!   signature check; refresh tokens and API keys stored in keel-storage as SHA-256 only
//!   (shared by every instance on one database, kept across restarts; expired refresh tokens
//!   purged hourly);
//!   password hashing capped at `--hash-concurrency` at once (503 when saturated).
//! - Cursors: signed (HMAC) and bound to their list and filters (400 otherwise); page sizes
//!   clamped to 100; search text 1 to 200 characters.
//! - Rate-limit keys: client IP (IPv6 by /64) or the authenticated user id, never a header the
//!   client picks.
//!
//! # Features
//! | feature | enables | default |
//! |---|---|---|
//! | (none) | the server always links every backend; which one runs is configuration | - |

pub mod auth;
pub mod cache;
pub mod config;
pub mod demo;
pub mod error;
pub mod events;
pub mod extract;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod paging;
pub mod request_id;
pub mod routes;
pub mod server;
pub mod state;
pub mod time;
pub mod timeline;
pub mod trending;

use std::future::Future;

pub use config::Config;
pub use error::{ApiError, ApiResult};
pub use state::{AppState, StartError};

/// A built server: its state and its running event pipeline, ready to serve.
#[derive(Debug)]
pub struct App {
    state: AppState,
    events: events::EventPipeline,
    jobs: jobs::Jobs,
}

impl App {
    /// Builds the state from `config`, starts the event consumers and relay, and loads the demo
    /// dataset when [`Config::load_demo`] says so.
    ///
    /// # Errors
    /// A [`StartError`] naming the backend or option at fault.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let _ = metrics::handle();
        let demo = config.load_demo();
        let state = state::build(config).await?;
        let events = events::start(&state)
            .await
            .map_err(|e| StartError::Nats(e.to_string()))?;
        if demo && let Err(e) = demo::load(&state).await {
            tracing::warn!(error = %e, "demo dataset not loaded");
        }
        let jobs = jobs::Jobs::start(&state, jobs::PURGE_EVERY);
        Ok(Self {
            state,
            events,
            jobs,
        })
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves on `listener` until `shutdown` resolves, then drains requests and consumers.
    ///
    /// # Errors
    /// The I/O error that stopped the server.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let served = server::run(listener, self.state, self.events, shutdown).await;
        self.jobs.shutdown().await;
        served
    }
}

/// Serves the memory-backed server (no demo data) on `listener` until `shutdown` resolves.
///
/// # Errors
/// The I/O error that stopped the server, or a start-up error as I/O.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = App::build(Config::memory())
        .await
        .map_err(std::io::Error::other)?;
    app.serve(listener, shutdown).await
}
