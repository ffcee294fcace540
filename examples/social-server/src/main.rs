//! The Keel social server.
//!
//! Run it with `cargo run --release -p keel-social-server`; it prints the address it serves.
//! `--help` lists every option and its environment variable.

use std::net::SocketAddr;

use clap::Parser;
use keel_social_server::{App, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Config::parse();
    let demo = config.load_demo();
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let app = App::build(config).await?;
    let addr: SocketAddr = listener.local_addr()?;
    #[allow(clippy::print_stdout)]
    {
        println!("keel-social-server listening on http://{addr}");
        if demo {
            println!(
                "demo data loaded: log in as ferris / {} and GET /feed; API at http://{addr}/docs",
                keel_social_server::demo::PASSWORD
            );
        }
    }
    app.serve(listener, shutdown_signal()).await?;
    Ok(())
}

/// Resolves on Ctrl-C (and SIGTERM on Unix), which starts a graceful shutdown.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
