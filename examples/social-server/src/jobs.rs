//! Periodic maintenance: the hourly purge of expired refresh tokens. Started with the server,
//! stopped by its graceful shutdown.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// How often expired refresh tokens are purged.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// The running maintenance tasks.
#[derive(Debug)]
pub struct Jobs {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Jobs {
    /// Starts the purge: once now, then every `every`.
    pub fn start(state: &AppState, every: Duration) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let tokens = state.tokens.clone();
        let purge = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = tick.tick() => match tokens.purge_expired().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(purged = n, "expired refresh tokens purged"),
                        Err(error) => tracing::warn!(%error, "refresh token purge failed; retrying next round"),
                    },
                }
            }
        });
        Self {
            stop,
            tasks: vec![purge],
        }
    }

    /// Stops every task (a purge in progress finishes first) and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use keel_storage::NewUser;

    use super::*;
    use crate::config::Config;

    #[tokio::test]
    async fn the_purge_runs_and_stops_on_shutdown() {
        let mut c = Config::memory();
        c.refresh_ttl_secs = 0; // every refresh token is born expired
        let state = crate::state::build(c).await.unwrap();
        let user = state
            .store
            .create_user(NewUser::new("ada", "ada@x.io", "h"))
            .await
            .unwrap();
        let jobs = Jobs::start(&state, Duration::from_millis(5));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        // An expired token is deleted by the next round: revoking it then finds nothing.
        loop {
            let token = state.tokens.issue_refresh(user.id).await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            if !state.tokens.revoke_refresh(&token).await.unwrap() {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "purge never ran");
        }
        tokio::time::timeout(Duration::from_secs(5), jobs.shutdown())
            .await
            .unwrap();
    }
}
