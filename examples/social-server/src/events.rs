//! Events: every write lands in keel-storage's outbox in its transaction; the relay publishes
//! it on the bus (in process, or JetStream); consumers update timelines, the search index,
//! notifications, the trending counters and the caches. The API never waits for them.
//!
//! The store runs with `SearchIndexing::Deferred`: a write only stores the row, and the search
//! consumer indexes it (`reindex_post` / `reindex_user` read the row, so redelivered or
//! reordered events are harmless). New text is searchable once that consumer has caught up.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use keel_events::{
    ConsumerHandle, ConsumerRunner, Envelope, Handler, HandlerError, MemoryDeduplicator,
    OutboxRelay, RunnerOptions, StorageOutbox, SubscriptionSpec,
};
use keel_storage::{Event, Notification, NotificationKind, OutboxRepo, StorageError, Visibility};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// How often the relay polls an empty outbox.
const RELAY_IDLE: Duration = Duration::from_millis(20);

/// What a consumer does with events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Home timelines (keel-feed).
    Timelines,
    /// The full-text search index.
    Search,
    /// Notifications.
    Notifications,
    /// Trending counters and cache invalidation.
    Analytics,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Timelines => "timelines",
            Role::Search => "search",
            Role::Notifications => "notifications",
            Role::Analytics => "analytics",
        }
    }
}

struct Consumer {
    state: AppState,
    role: Role,
}

fn transient(e: impl std::fmt::Display) -> HandlerError {
    HandlerError::transient(e.to_string())
}

/// A missing row means the change was undone meanwhile: nothing to do.
fn gone<T>(r: Result<T, StorageError>) -> Result<Option<T>, HandlerError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StorageError::NotFound { .. }) => Ok(None),
        Err(e) => Err(transient(e)),
    }
}

#[async_trait]
impl Handler for Consumer {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        let event: Event = serde_json::from_value(envelope.payload.clone())
            .map_err(|e| HandlerError::permanent(format!("undecodable event: {e}")))?;
        let s = &self.state;
        match self.role {
            Role::Timelines => timelines(s, &event).await,
            Role::Search => search(s, &event).await,
            Role::Notifications => notifications(s, envelope, &event).await,
            Role::Analytics => analytics(s, &event).await,
        }
    }
}

async fn timelines(s: &AppState, event: &Event) -> Result<(), HandlerError> {
    match event {
        Event::UserCreated { user, .. } => {
            s.timelines.user_created(*user).await.map_err(transient)?;
        }
        Event::PostCreated { post, .. } => {
            if let Some(p) = gone(s.store.post(*post).await)? {
                s.timelines.post_created(&p).await.map_err(transient)?;
            }
        }
        Event::PostDeleted { post, author } => {
            s.timelines
                .post_deleted(*post, *author)
                .await
                .map_err(transient)?;
        }
        Event::Followed { follower, followee } => {
            s.timelines
                .followed(*follower, *followee)
                .await
                .map_err(transient)?;
        }
        Event::Unfollowed { follower, followee } => {
            s.timelines
                .unfollowed(*follower, *followee)
                .await
                .map_err(transient)?;
        }
        _ => {}
    }
    Ok(())
}

/// Brings the search index up to date with the row the event names.
async fn search(s: &AppState, event: &Event) -> Result<(), HandlerError> {
    match event {
        Event::UserCreated { user, .. }
        | Event::UserUpdated { user }
        | Event::UserDeleted { user } => s.store.reindex_user(*user).await.map_err(transient),
        Event::PostCreated { post, .. }
        | Event::PostUpdated { post, .. }
        | Event::PostDeleted { post, .. } => s.store.reindex_post(*post).await.map_err(transient),
        _ => Ok(()),
    }
}

async fn notifications(s: &AppState, env: &Envelope, event: &Event) -> Result<(), HandlerError> {
    let at = keel_storage::Timestamp::from_millis(env.occurred_at_ms);
    let note = |recipient, kind, actor, post, comment| Notification {
        id: env.id,
        recipient,
        kind,
        actor,
        post,
        comment,
        created_at: at,
    };
    let n = match event {
        Event::Followed { follower, followee } => Some(note(
            *followee,
            NotificationKind::Followed,
            *follower,
            None,
            None,
        )),
        Event::Liked { user, post } => gone(s.store.post(*post).await)?
            .map(|p| note(p.author, NotificationKind::Liked, *user, Some(*post), None)),
        Event::CommentAdded {
            comment,
            post,
            author,
            ..
        } => gone(s.store.post(*post).await)?.map(|p| {
            note(
                p.author,
                NotificationKind::Commented,
                *author,
                Some(*post),
                Some(*comment),
            )
        }),
        // Deleting a user deletes the notifications addressed to them in the store.
        _ => None,
    };
    if let Some(n) = n {
        // Idempotent by the event id; a recipient deleted meanwhile needs nothing.
        gone(s.store.add_notification(n).await)?;
    }
    Ok(())
}

/// Trending counters (a Redis failure is transient: the event comes back) and cache
/// invalidation.
async fn analytics(s: &AppState, event: &Event) -> Result<(), HandlerError> {
    metrics::counter!("keel_social_events_total", "type" => event.kind()).increment(1);
    match event {
        Event::PostCreated {
            post,
            visibility,
            created_at,
            ..
        } => {
            // The event carries the time; only records older than that field read the post.
            let created = if *created_at == keel_storage::Timestamp::EPOCH {
                s.store
                    .post(*post)
                    .await
                    .map_or_else(|_| s.clock.now(), |p| p.created_at)
            } else {
                *created_at
            };
            s.trending
                .created(*post, created, *visibility == Visibility::Public)
                .await
                .map_err(transient)?;
        }
        Event::PostUpdated { post, .. } => {
            s.posts_cache.invalidate(&post.0.to_string()).await;
            if let Ok(p) = s.store.post(*post).await {
                s.trending
                    .set_public(*post, p.visibility == Visibility::Public)
                    .await
                    .map_err(transient)?;
            }
        }
        Event::PostDeleted { post, .. } => {
            s.trending.deleted(*post).await.map_err(transient)?;
            s.posts_cache.invalidate(&post.0.to_string()).await;
        }
        Event::Liked { post, .. } => {
            s.trending.liked(*post, 1).await.map_err(transient)?;
            s.posts_cache.invalidate(&post.0.to_string()).await;
        }
        Event::Unliked { post, .. } => {
            s.trending.liked(*post, -1).await.map_err(transient)?;
            s.posts_cache.invalidate(&post.0.to_string()).await;
        }
        Event::CommentAdded { post, .. } => {
            s.trending.commented(*post, 1).await.map_err(transient)?;
            s.posts_cache.invalidate(&post.0.to_string()).await;
        }
        Event::CommentDeleted { post, .. } => {
            s.trending.commented(*post, -1).await.map_err(transient)?;
            s.posts_cache.invalidate(&post.0.to_string()).await;
        }
        Event::UserUpdated { user } | Event::UserDeleted { user } => {
            s.users_cache.invalidate(&user.0.to_string()).await;
        }
        _ => {}
    }
    Ok(())
}

/// The running relay and consumers.
#[derive(Debug)]
pub struct EventPipeline {
    relay_stop: Option<oneshot::Sender<()>>,
    relay: Option<JoinHandle<()>>,
    consumers: Vec<ConsumerHandle>,
}

/// Subscribes the consumers, then starts the relay.
///
/// # Errors
/// The bus error when a subscription cannot be opened.
pub async fn start(state: &AppState) -> Result<EventPipeline, keel_events::BusError> {
    let clock: Arc<dyn keel_events::Clock> = Arc::new(keel_events::SystemClock);
    let bus = state.backends.bus.clone();
    let mut consumers = Vec::new();
    let plan = [
        (Role::Timelines, "users"),
        (Role::Timelines, "posts"),
        (Role::Timelines, "follows"),
        (Role::Search, "users"),
        (Role::Search, "posts"),
        (Role::Notifications, "users"),
        (Role::Notifications, "posts"),
        (Role::Notifications, "follows"),
        (Role::Analytics, "users"),
        (Role::Analytics, "posts"),
    ];
    for (role, family) in plan {
        let spec = SubscriptionSpec::new(format!("{}-{family}", role.name()), family)?;
        let handler = Arc::new(Consumer {
            state: state.clone(),
            role,
        });
        consumers.push(
            ConsumerRunner::spawn(
                bus.clone(),
                spec,
                handler,
                Arc::new(MemoryDeduplicator::default()),
                clock.clone(),
                RunnerOptions::default(),
            )
            .await?,
        );
    }
    let outbox: Arc<dyn OutboxRepo> = state.store.clone();
    let relay = OutboxRelay::new(Arc::new(StorageOutbox::new(outbox)), bus);
    let (relay_stop, stopped) = oneshot::channel::<()>();
    let relay = tokio::spawn(relay.run(RELAY_IDLE, async {
        let _ = stopped.await;
    }));
    Ok(EventPipeline {
        relay_stop: Some(relay_stop),
        relay: Some(relay),
        consumers,
    })
}

impl EventPipeline {
    /// Stops the relay after its current round, then lets each consumer finish the event in
    /// hand. Unpublished events stay in the outbox for the next start.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.relay_stop.take() {
            let _ = stop.send(());
        }
        if let Some(relay) = self.relay.take() {
            let _ = relay.await;
        }
        for c in self.consumers.drain(..) {
            c.shutdown().await;
        }
    }
}
