//! Test support shared by every Keel crate that talks to a real service.
//!
//! ```no_run
//! # async fn demo() {
//! use keel_testkit::Service;
//! // In a test: get the URL, or skip (locally) / fail (under CI=true) when the service is down.
//! let Some(url) = keel_testkit::require(Service::Redis).await else { return };
//! let prefix = keel_testkit::unique_prefix("ratelimit");
//! # let _ = (url, prefix);
//! # }
//! ```
//!
//! # Layout
//! - [`Service`]: PostgreSQL, Redis and NATS, each with its environment variable and local default.
//! - [`require`]: the one rule for service tests: run when the service answers; when it does not,
//!   panic under `CI=true` (CI must never pass by skipping) and otherwise print one
//!   `skipped: ...` line and let the test return early.
//! - [`unique_prefix`] / [`unique_schema`]: names that isolate one test from every other, so
//!   service tests run in parallel (a Redis key prefix, a PostgreSQL schema name).
//! - [`pg_url_with_schema`]: a `DATABASE_URL` whose connections use a given schema as search path.

use std::time::Duration;

/// A service that some Keel tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// PostgreSQL, from `DATABASE_URL`.
    Postgres,
    /// Redis, from `REDIS_URL`.
    Redis,
    /// NATS with JetStream, from `NATS_URL`.
    Nats,
}

impl Service {
    /// The environment variable that holds this service's URL.
    pub fn env_var(self) -> &'static str {
        match self {
            Service::Postgres => "DATABASE_URL",
            Service::Redis => "REDIS_URL",
            Service::Nats => "NATS_URL",
        }
    }

    /// The URL used when the environment variable is not set: the service on this machine.
    pub fn default_url(self) -> &'static str {
        match self {
            Service::Postgres => "postgres://postgres@127.0.0.1:5432/test",
            Service::Redis => "redis://127.0.0.1:6379",
            Service::Nats => "nats://127.0.0.1:4222",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Service::Postgres => 5432,
            Service::Redis => 6379,
            Service::Nats => 4222,
        }
    }

    /// The configured URL: the environment variable, or the local default.
    pub fn url(self) -> String {
        std::env::var(self.env_var())
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| self.default_url().to_owned())
    }
}

/// `true` when running under CI (`CI` set to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"))
        .unwrap_or(false)
}

/// The host and port a service URL points at (`scheme://user:pass@host:port/path?query`).
pub fn host_port(url: &str, default_port: u16) -> (String, u16) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // [::1]:6379
    if let Some(stripped) = hostport.strip_prefix('[')
        && let Some((host, after)) = stripped.split_once(']')
    {
        let port = after
            .strip_prefix(':')
            .and_then(|p| p.parse().ok())
            .unwrap_or(default_port);
        return (host.to_owned(), port);
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.parse().unwrap_or(default_port)),
        None if hostport.is_empty() => ("127.0.0.1".to_owned(), default_port),
        None => (hostport.to_owned(), default_port),
    }
}

/// Whether a TCP connection to the service opens within two seconds.
pub async fn reachable(service: Service) -> bool {
    let (host, port) = host_port(&service.url(), service.default_port());
    let connect = tokio::net::TcpStream::connect((host.as_str(), port));
    matches!(
        tokio::time::timeout(Duration::from_secs(2), connect).await,
        Ok(Ok(_))
    )
}

/// The URL of `service` if it answers.
///
/// When it does not: under `CI=true` this panics (a CI run must not go green by skipping);
/// otherwise it prints one `skipped: ...` line naming the variable to set and returns `None`,
/// and the test returns early.
///
/// # Panics
/// Under `CI=true`, when the service is unreachable. That is the point: it fails the test.
#[allow(clippy::panic, clippy::print_stderr)]
pub async fn require(service: Service) -> Option<String> {
    let url = service.url();
    if reachable(service).await {
        return Some(url);
    }
    let var = service.env_var();
    if in_ci() {
        panic!("{service:?} is unreachable at {url} under CI=true: start it or set {var}");
    }
    eprintln!("skipped: {service:?} unreachable at {url} (set {var})");
    None
}

/// A name no other test uses: `keel-test:{label}:{uuid}:`, for Redis keys and NATS subjects.
pub fn unique_prefix(label: &str) -> String {
    format!("keel-test:{label}:{}:", uuid::Uuid::now_v7().simple())
}

/// A PostgreSQL schema name no other test uses: `t_{label}_{uuid}` (lowercase, at most 63 bytes).
pub fn unique_schema(label: &str) -> String {
    let label: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .map(|c| c.to_ascii_lowercase())
        .take(24)
        .collect();
    format!("t_{label}_{}", uuid::Uuid::now_v7().simple())
}

/// `url` with the libpq `options` parameter set so that every connection's `search_path` is
/// `schema`. Create the schema first (`CREATE SCHEMA ...`); sqlx and libpq both honour it.
pub fn pg_url_with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_parses_common_urls() {
        assert_eq!(
            host_port("postgres://postgres@127.0.0.1:5432/test", 1),
            ("127.0.0.1".into(), 5432)
        );
        assert_eq!(
            host_port("redis://localhost", 6379),
            ("localhost".into(), 6379)
        );
        assert_eq!(host_port("nats://[::1]:4223", 4222), ("::1".into(), 4223));
        assert_eq!(
            host_port("postgres://u:p@db.internal/x?sslmode=disable", 5432),
            ("db.internal".into(), 5432)
        );
    }

    #[test]
    fn names_are_unique_and_valid() {
        let a = unique_schema("My-Test");
        let b = unique_schema("My-Test");
        assert_ne!(a, b);
        assert!(a.len() <= 63);
        assert!(a.starts_with("t_mytest_"));
        assert!(unique_prefix("x").starts_with("keel-test:x:"));
    }

    #[test]
    fn schema_url_appends_options() {
        assert_eq!(
            pg_url_with_schema("postgres://h/db", "s1"),
            "postgres://h/db?options=-c%20search_path%3Ds1"
        );
        assert!(pg_url_with_schema("postgres://h/db?a=b", "s1").contains("&options="));
    }
}
