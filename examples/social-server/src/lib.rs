//! The Keel social server as a library, so tests can start it on a free port.
//!
//! # Layout
//! - [`Config`]: every option, from flags or environment variables.
//! - [`router`]: the axum router.
//! - [`serve`]: runs the router on a bound listener until a shutdown future resolves, then drains
//!   in-flight requests.

use std::future::Future;
use std::net::SocketAddr;

use axum::{Json, Router, routing::get};
use serde_json::json;

/// Server options. Each flag can also come from the environment variable named in `--help`.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "keel-social-server",
    version,
    about = "The Keel social REST service"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "KEEL_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
}

/// The HTTP routes.
pub fn router() -> Router {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Serves [`router`] on `listener` until `shutdown` resolves, then waits for in-flight requests.
///
/// # Errors
/// Returns the I/O error that stopped the server.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router())
        .with_graceful_shutdown(shutdown)
        .await
}
