//! The feed engine: one object that publishes, deletes, follows, unfollows and reads, whatever
//! the delivery strategy.

mod lifecycle;
mod publish;
mod read;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use foldhash::fast::RandomState;

use parking_lot::{Mutex, RwLock};

use crate::clock::{Clock, SystemClock};
use crate::config::{FeedConfig, Strategy};
use crate::error::Result;
use crate::graph::{FollowGraph, GraphCursor};
use crate::model::{TimelineEntry, UserId};
use crate::source::PostSource;
use crate::store::TimelineStore;

pub use publish::{PublishReport, Route};
pub use read::{FeedPage, ReadRequest};

/// A hook that hides entries from a reader (muted or blocked authors, say).
///
/// Any `Fn(UserId, &TimelineEntry) -> bool` is one: return `true` to show the entry.
pub trait ReadFilter: Send + Sync {
    /// Whether `reader` may see `entry`.
    fn allows(&self, reader: UserId, entry: &TimelineEntry) -> bool;
}

impl<F: Fn(UserId, &TimelineEntry) -> bool + Send + Sync> ReadFilter for F {
    fn allows(&self, reader: UserId, entry: &TimelineEntry) -> bool {
        self(reader, entry)
    }
}

#[derive(Debug, Clone)]
struct PulledCache {
    expires_ms: u64,
    version: u64,
    authors: PulledSet,
}

/// A reader's followees pulled at read time, with a 64-bit filter so that asking whether an
/// entry's author is among them costs a mask test for most entries.
#[derive(Debug, Clone)]
pub(crate) struct PulledSet {
    authors: Arc<[UserId]>,
    mask: u64,
}

impl PulledSet {
    fn bit(user: UserId) -> u64 {
        #[allow(clippy::cast_possible_truncation)]
        let folded = (user.0 ^ (user.0 >> 64)) as u64;
        1 << (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58)
    }

    fn new(authors: Vec<UserId>) -> Self {
        let mask = authors.iter().fold(0, |m, &a| m | Self::bit(a));
        Self {
            authors: authors.into(),
            mask,
        }
    }

    /// The authors.
    pub(crate) fn authors(&self) -> &[UserId] {
        &self.authors
    }

    /// Whether `user` is one of the authors.
    #[inline]
    pub(crate) fn contains(&self, user: UserId) -> bool {
        self.mask & Self::bit(user) != 0 && self.authors.contains(&user)
    }
}

/// Schedules a regeneration in the background (installed by the fan-out pool).
pub(crate) type Scheduler = Box<dyn Fn(UserId) -> bool + Send + Sync>;

/// The feed engine. Build it with [`FeedEngine::builder`]; share it in an `Arc`.
pub struct FeedEngine {
    graph: Arc<dyn FollowGraph>,
    posts: Arc<dyn PostSource>,
    store: Arc<dyn TimelineStore>,
    clock: Arc<dyn Clock>,
    config: FeedConfig,
    filter: Option<Arc<dyn ReadFilter>>,
    /// Last known side of the hybrid threshold per author (`true`: pulled).
    celebrities: RwLock<HashMap<UserId, bool, RandomState>>,
    /// Bumped whenever an author crosses the hybrid threshold.
    class_version: AtomicU64,
    /// Per reader under hybrid: the followees pulled at read time.
    pulled_followees: Mutex<HashMap<UserId, PulledCache, RandomState>>,
    regenerating: Mutex<HashSet<UserId, RandomState>>,
    scheduler: RwLock<Option<Scheduler>>,
}

impl std::fmt::Debug for FeedEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedEngine")
            .field("config", &self.config)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// Builds a [`FeedEngine`].
pub struct FeedEngineBuilder {
    graph: Arc<dyn FollowGraph>,
    posts: Arc<dyn PostSource>,
    store: Arc<dyn TimelineStore>,
    clock: Arc<dyn Clock>,
    config: FeedConfig,
    filter: Option<Arc<dyn ReadFilter>>,
}

impl std::fmt::Debug for FeedEngineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedEngineBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl FeedEngineBuilder {
    /// Sets the whole configuration.
    pub fn config(mut self, config: FeedConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the delivery strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.config.strategy = strategy;
        self
    }

    /// Sets the per-timeline cap.
    pub fn cap(mut self, cap: usize) -> Self {
        self.config.cap = cap;
        self
    }

    /// Sets the clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets a filter applied to every read (muted and blocked authors).
    pub fn filter(mut self, filter: Arc<dyn ReadFilter>) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Builds the engine.
    ///
    /// # Errors
    /// [`FeedError::InvalidConfig`](crate::FeedError::InvalidConfig) when the configuration
    /// does not validate.
    pub fn build(self) -> Result<FeedEngine> {
        self.config.validate()?;
        Ok(FeedEngine {
            graph: self.graph,
            posts: self.posts,
            store: self.store,
            clock: self.clock,
            config: self.config,
            filter: self.filter,
            celebrities: RwLock::default(),
            class_version: AtomicU64::new(0),
            pulled_followees: Mutex::default(),
            regenerating: Mutex::default(),
            scheduler: RwLock::default(),
        })
    }
}

impl FeedEngine {
    /// Starts a builder over a follow graph, a post source and a timeline store.
    pub fn builder(
        graph: Arc<dyn FollowGraph>,
        posts: Arc<dyn PostSource>,
        store: Arc<dyn TimelineStore>,
    ) -> FeedEngineBuilder {
        FeedEngineBuilder {
            graph,
            posts,
            store,
            clock: Arc::new(SystemClock),
            config: FeedConfig::default(),
            filter: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FeedConfig {
        &self.config
    }

    /// The timeline store.
    pub fn store(&self) -> &Arc<dyn TimelineStore> {
        &self.store
    }

    pub(crate) fn clock_now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Whether `user`'s timeline is being regenerated right now (answer HTTP 206 meanwhile).
    pub fn is_regenerating(&self, user: UserId) -> bool {
        self.regenerating.lock().contains(&user)
    }

    #[cfg(feature = "tokio")]
    pub(crate) fn set_scheduler(&self, scheduler: Option<Scheduler>) {
        *self.scheduler.write() = scheduler;
    }

    /// Whether `author` is pulled at read time rather than pushed, refreshing the cached
    /// classification from the graph. Returns `(pulled now, pulled before)`.
    async fn classify(&self, author: UserId) -> Result<(bool, Option<bool>)> {
        let pulled = match self.config.strategy {
            Strategy::Push => false,
            Strategy::Pull => true,
            Strategy::Hybrid { threshold } => self.graph.follower_count(author).await? >= threshold,
        };
        let before = self.celebrities.write().insert(author, pulled);
        if before.is_some_and(|b| b != pulled) {
            self.class_version.fetch_add(1, Ordering::SeqCst);
        }
        Ok((pulled, before))
    }

    /// The followees of `reader` pulled at read time (hybrid), cached per reader.
    async fn pulled_followees(&self, reader: UserId, now: u64) -> Result<PulledSet> {
        let version = self.class_version.load(Ordering::SeqCst);
        if let Some(c) = self.pulled_followees.lock().get(&reader)
            && c.version == version
            && c.expires_ms > now
        {
            return Ok(c.authors.clone());
        }
        let mut authors = Vec::new();
        for a in self.followees_and_self(reader).await? {
            if a != reader && self.is_pulled(a).await? {
                authors.push(a);
            }
        }
        let authors = PulledSet::new(authors);
        self.pulled_followees.lock().insert(
            reader,
            PulledCache {
                expires_ms: now.saturating_add(self.config.pulled_cache_ms),
                version,
                authors: authors.clone(),
            },
        );
        Ok(authors)
    }

    /// Forgets `reader`'s cached pulled followees (after a follow or unfollow).
    fn forget_pulled(&self, reader: UserId) {
        self.pulled_followees.lock().remove(&reader);
    }

    /// Whether this engine last saw `author` at or above the hybrid threshold.
    fn cached_pulled(&self, author: UserId) -> bool {
        self.celebrities
            .read()
            .get(&author)
            .copied()
            .unwrap_or(false)
    }

    /// The cached classification of `author`, asking the graph only the first time.
    async fn is_pulled(&self, author: UserId) -> Result<bool> {
        match self.config.strategy {
            Strategy::Push => Ok(false),
            Strategy::Pull => Ok(true),
            Strategy::Hybrid { .. } => {
                let cached = self.celebrities.read().get(&author).copied();
                match cached {
                    Some(p) => Ok(p),
                    None => Ok(self.classify(author).await?.0),
                }
            }
        }
    }

    /// Every user `user` follows, plus `user` (whose own posts are in their timeline).
    async fn followees_and_self(&self, user: UserId) -> Result<Vec<UserId>> {
        let mut all = vec![user];
        let mut after: Option<GraphCursor> = None;
        loop {
            let page = self
                .graph
                .followees(user, after.as_ref(), self.config.chunk_size)
                .await?;
            all.extend(page.users.into_iter().filter(|&f| f != user));
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(all),
            }
        }
    }
}
