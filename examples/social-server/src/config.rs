//! [`Config`]: every server option, from a flag or its environment variable.

use std::net::SocketAddr;
use std::time::Duration;

/// Server options. Each flag can also come from the environment variable named in `--help`.
///
/// Without `DATABASE_URL`, `REDIS_URL` and `NATS_URL` the server runs on in-memory storage,
/// in-process limits, in-memory timelines and the in-process event bus, and loads the demo
/// dataset (turn it off with `--no-demo`).
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
    /// PostgreSQL URL; migrations are applied at start. In-memory storage when absent.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Redis URL for shared rate limits, timelines and the profile/post cache. In memory when
    /// absent.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Key prefix for everything the server stores in Redis.
    #[arg(long, env = "KEEL_REDIS_PREFIX", default_value = "keel")]
    pub redis_prefix: String,
    /// NATS URL (JetStream enabled) for events. The in-process bus when absent.
    #[arg(long, env = "NATS_URL")]
    pub nats_url: Option<String>,
    /// Stream-name prefix on JetStream.
    #[arg(long, env = "KEEL_NATS_PREFIX", default_value = "keel")]
    pub nats_prefix: String,
    /// Secret that signs JWT access tokens (HS256) and cursors, at least 32 bytes. A random
    /// secret is generated when absent (tokens then die with the process).
    #[arg(long, env = "KEEL_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Token of the administration API (`PUT /admin/users/{id}/verified`, sent as
    /// `X-Admin-Token`), at least 32 bytes. The administration API is disabled (404) when
    /// absent.
    #[arg(long, env = "KEEL_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "KEEL_ACCESS_TTL_SECS", default_value_t = 900)]
    pub access_ttl_secs: u64,
    /// Lifetime of a refresh token, in seconds.
    #[arg(long, env = "KEEL_REFRESH_TTL_SECS", default_value_t = 30 * 24 * 3600)]
    pub refresh_ttl_secs: u64,
    /// Load the demo dataset (default on the memory backend).
    #[arg(long, env = "KEEL_DEMO")]
    pub demo: bool,
    /// Never load the demo dataset.
    #[arg(long, env = "KEEL_NO_DEMO", conflicts_with = "demo")]
    pub no_demo: bool,
    /// Password hashes computed at once (argon2id); more wait, so a login flood cannot exhaust
    /// memory or CPU.
    #[arg(long, env = "KEEL_HASH_CONCURRENCY", default_value_t = 2)]
    pub hash_concurrency: usize,
    /// Argon2id memory cost in KiB (OWASP: 19456 with 2 iterations).
    #[arg(long, env = "KEEL_ARGON2_MEMORY_KIB", default_value_t = 19_456)]
    pub argon2_memory_kib: u32,
    /// Argon2id iterations (OWASP: 2).
    #[arg(long, env = "KEEL_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,
    /// Limit per client IP for anonymous calls (quota text, for example `60/min burst 30`).
    #[arg(long, env = "KEEL_LIMIT_ANONYMOUS", default_value = "120/min burst 60")]
    pub limit_anonymous: String,
    /// Limit per user on the free tier.
    #[arg(long, env = "KEEL_LIMIT_USER", default_value = "1200/min burst 200")]
    pub limit_user: String,
    /// Limit per user on the verified tier.
    #[arg(
        long,
        env = "KEEL_LIMIT_VERIFIED",
        default_value = "6000/min burst 1000"
    )]
    pub limit_verified: String,
    /// Limit per client IP on `POST /users` (register).
    #[arg(long, env = "KEEL_LIMIT_REGISTER", default_value = "10/min burst 5")]
    pub limit_register: String,
    /// Limit per client IP on `POST /auth/login`.
    #[arg(long, env = "KEEL_LIMIT_LOGIN", default_value = "20/min burst 10")]
    pub limit_login: String,
    /// Limit per user on `POST /posts`.
    #[arg(long, env = "KEEL_LIMIT_POST", default_value = "60/min burst 20")]
    pub limit_post: String,
    /// Limit per user or IP on search.
    #[arg(long, env = "KEEL_LIMIT_SEARCH", default_value = "60/min burst 20")]
    pub limit_search: String,
    /// Followers above which an author's posts are pulled at read time instead of pushed.
    #[arg(long, env = "KEEL_FEED_THRESHOLD", default_value_t = 10_000)]
    pub feed_threshold: u64,
    /// Longest a request may take, in milliseconds (then 408).
    #[arg(long, env = "KEEL_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,
    /// Longest a client may take to send its request headers, in milliseconds.
    #[arg(long, env = "KEEL_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,
    /// Largest request body in bytes (then 413).
    #[arg(long, env = "KEEL_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,
    /// Longest graceful shutdown waits for in-flight requests, in milliseconds.
    #[arg(long, env = "KEEL_DRAIN_MS", default_value_t = 10_000)]
    pub drain_ms: u64,
}

impl Config {
    /// The defaults on the memory backends (service URLs from the environment ignored),
    /// without the demo dataset: what tests start from.
    pub fn memory() -> Self {
        let mut config = <Self as clap::Parser>::parse_from(["keel-social-server", "--no-demo"]);
        config.demo = false;
        config.no_demo = true;
        config.database_url = None;
        config.redis_url = None;
        config.nats_url = None;
        config.admin_token = None;
        config
    }

    /// Whether to load the demo dataset: `--demo`, or the memory backend without `--no-demo`.
    pub fn load_demo(&self) -> bool {
        self.demo || (self.database_url.is_none() && !self.no_demo)
    }

    /// [`Config::request_timeout_ms`] as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// [`Config::header_timeout_ms`] as a duration.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Config;

    #[test]
    fn help_lists_every_option_with_its_variable() {
        let help = Config::command().render_long_help().to_string();
        for needle in [
            "--admin-token",
            "KEEL_ADMIN_TOKEN",
            "DATABASE_URL",
            "REDIS_URL",
            "NATS_URL",
            "KEEL_JWT_SECRET",
            "KEEL_BIND",
        ] {
            assert!(help.contains(needle), "--help lacks {needle}: {help}");
        }
    }
}
