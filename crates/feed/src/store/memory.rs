//! Timelines in process memory: sharded maps of capped ordered sets.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use async_trait::async_trait;
use foldhash::fast::RandomState;
use parking_lot::{Mutex, RwLock};

use super::{DeliverOptions, Delivery, TimelineSlice, TimelineStore};
use crate::clock::{Clock, SystemClock};
use crate::error::Result;
use crate::model::{Position, PostId, TimelineEntry, UserId};

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;

/// Entries trimmed from a timeline are dropped in batches of this many: trimming one entry per
/// insert would touch the cold front of the buffer on every delivery.
const TRIM_BATCH: usize = 32;

/// How long tombstones (and retracted posts) live by default: 7 days, as in Redis.
pub const DEFAULT_TOMBSTONE_TTL_MS: u64 = 7 * 24 * 3_600_000;

/// One timeline: entries sorted oldest first, so the common case (a new post, newer than
/// everything) is a push at the back, touching one cache line.
///
/// Only the newest `cap` entries are visible; up to [`TRIM_BATCH`] older ones wait to be
/// dropped together, and go at once before any removal, so they never show again.
#[derive(Debug)]
struct Timeline {
    last_active_ms: u64,
    /// Entries older than the oldest visible one may be missing (trimmed, or never rebuilt).
    partial: bool,
    cap: usize,
    entries: VecDeque<TimelineEntry>,
}

impl Default for Timeline {
    fn default() -> Self {
        Self {
            last_active_ms: 0,
            partial: false,
            cap: usize::MAX,
            entries: VecDeque::new(),
        }
    }
}

impl Timeline {
    /// Index of the oldest visible entry.
    fn start(&self) -> usize {
        self.entries.len().saturating_sub(self.cap)
    }

    fn oldest(&self) -> Option<&TimelineEntry> {
        self.entries.get(self.start())
    }

    fn visible_len(&self) -> usize {
        self.entries.len() - self.start()
    }

    fn older_than_oldest(&self, e: &TimelineEntry) -> bool {
        self.oldest().is_some_and(|o| e.position < o.position)
    }

    /// Inserts and trims to `cap`; returns whether the entry is new and kept. `backfill` entries
    /// of a partial timeline must be newer than its oldest entry (else they would leave a gap).
    fn insert(&mut self, e: TimelineEntry, cap: usize, backfill: bool) -> bool {
        if cap != self.cap {
            self.settle();
            self.cap = cap;
        }
        if self.partial && (self.older_than_oldest(&e) || (backfill && self.visible_len() == 0)) {
            return false;
        }
        if self.visible_len() >= cap && self.older_than_oldest(&e) {
            // Older than everything a full timeline keeps: it would be trimmed at once.
            self.partial = true;
            return false;
        }
        match self.entries.back() {
            Some(newest) if newest.position >= e.position => {
                match self
                    .entries
                    .binary_search_by(|x| x.position.cmp(&e.position))
                {
                    Ok(_) => return false,
                    Err(i) => self.entries.insert(i, e),
                }
            }
            _ => self.entries.push_back(e),
        }
        if self.entries.len() > cap {
            self.partial = true;
            if self.entries.len() > cap + TRIM_BATCH {
                self.entries.drain(..self.entries.len() - cap);
            }
        }
        true
    }

    /// Drops the trimmed entries still waiting, so they can never become visible again.
    fn settle(&mut self) {
        let start = self.start();
        if start > 0 {
            self.entries.drain(..start);
        }
    }

    /// Removes `posts` by `author` wherever they sit: one by one from the newest end (deleted
    /// posts are usually recent), or in one pass when there are many.
    fn remove_posts(&mut self, author: UserId, posts: &[PostId]) {
        self.settle();
        if posts.len() <= 4 {
            for &post in posts {
                if let Some(i) = self
                    .entries
                    .iter()
                    .rposition(|x| x.position.post == post && x.author == author)
                {
                    self.entries.remove(i);
                }
            }
        } else {
            let set: HashSet<PostId, RandomState> = posts.iter().copied().collect();
            self.entries
                .retain(|x| x.author != author || !set.contains(&x.position.post));
        }
    }

    fn remove(&mut self, position: Position) {
        self.settle();
        if let Ok(i) = self.entries.binary_search_by(|x| x.position.cmp(&position)) {
            self.entries.remove(i);
        }
    }
}

type Shard = Mutex<HashMap<UserId, Timeline, RandomState>>;

/// Tombstones with their expiry times, freed in expiry order.
#[derive(Debug, Default)]
struct Tombstones {
    /// Post to expiry time (Unix milliseconds).
    live: HashMap<PostId, u64, RandomState>,
    /// `(expiry, post)` in insertion order, which is expiry order (one lifetime, a clock that
    /// moves forward); a re-tombstoned post's stale entry is skipped when it comes up.
    order: VecDeque<(u64, PostId)>,
}

impl Tombstones {
    fn contains(&self, post: &PostId, now_ms: u64) -> bool {
        self.live.get(post).is_some_and(|&e| e > now_ms)
    }

    fn insert(&mut self, post: PostId, expires_ms: u64, now_ms: u64) {
        self.prune(now_ms);
        self.live.insert(post, expires_ms);
        self.order.push_back((expires_ms, post));
    }

    fn prune(&mut self, now_ms: u64) {
        while let Some(&(e, p)) = self.order.front()
            && e <= now_ms
        {
            self.order.pop_front();
            if self.live.get(&p) == Some(&e) {
                self.live.remove(&p);
            }
        }
    }
}

/// Posts retracted per author (see [`TimelineStore::retract`]), freed like tombstones.
#[derive(Debug, Default)]
struct Retracted {
    by_author: HashMap<UserId, HashMap<PostId, u64, RandomState>, RandomState>,
    order: VecDeque<(u64, UserId, PostId)>,
}

impl Retracted {
    fn insert(&mut self, author: UserId, post: PostId, expires_ms: u64, now_ms: u64) {
        self.prune(now_ms);
        self.by_author
            .entry(author)
            .or_default()
            .insert(post, expires_ms);
        self.order.push_back((expires_ms, author, post));
    }

    fn of(&self, author: UserId, now_ms: u64) -> Vec<PostId> {
        self.by_author.get(&author).map_or_else(Vec::new, |m| {
            m.iter()
                .filter(|&(_, &e)| e > now_ms)
                .map(|(&p, _)| p)
                .collect()
        })
    }

    fn prune(&mut self, now_ms: u64) {
        while let Some(&(e, a, p)) = self.order.front()
            && e <= now_ms
        {
            self.order.pop_front();
            if let Some(m) = self.by_author.get_mut(&a)
                && m.get(&p) == Some(&e)
            {
                m.remove(&p);
                if m.is_empty() {
                    self.by_author.remove(&a);
                }
            }
        }
    }
}

/// Timelines in memory: 64 shards, each a map of user to a capped ordered set.
///
/// Tombstones (and retracted posts) live for [`DEFAULT_TOMBSTONE_TTL_MS`] (7 days) by the
/// store's clock, then are freed; set both with [`with_clock`](Self::with_clock) and
/// [`with_tombstone_ttl_ms`](Self::with_tombstone_ttl_ms). Keep the lifetime longer than any
/// fan-out or redelivery can be late.
#[derive(Debug)]
pub struct MemoryStore {
    shards: Box<[Shard]>,
    // Deliveries hold the read side for the whole batch and a delete takes the write side to
    // add a tombstone, so a delivery either sees the tombstone or finishes before the delete
    // starts removing: a deleted post can never be written back.
    tombstones: RwLock<Tombstones>,
    retracted: Mutex<Retracted>,
    clock: Arc<dyn Clock>,
    tombstone_ttl_ms: u64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store on the system clock, tombstones kept 7 days.
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            tombstones: RwLock::default(),
            retracted: Mutex::default(),
            clock: Arc::new(SystemClock),
            tombstone_ttl_ms: DEFAULT_TOMBSTONE_TTL_MS,
        }
    }

    /// Uses `clock` for tombstone lifetimes (a manual clock in tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets how long tombstones and retracted posts live, in milliseconds (at least 1).
    pub fn with_tombstone_ttl_ms(mut self, ttl_ms: u64) -> Self {
        self.tombstone_ttl_ms = ttl_ms.max(1);
        self
    }

    /// How many tombstones are held now (expired ones are freed first).
    pub fn tombstone_count(&self) -> usize {
        let mut t = self.tombstones.write();
        t.prune(self.clock.now_ms());
        t.live.len()
    }

    fn shard(&self, user: UserId) -> Option<&Shard> {
        // Fibonacci hashing, independent of the maps' own hasher, so keys of one shard do not
        // share the bits the map uses to place them. The two halves are folded first: a
        // UUIDv7 keeps its time in the high half and its random bits in the low half.
        #[allow(clippy::cast_possible_truncation)]
        let folded = (user.0 ^ (user.0 >> 64)) as u64;
        let h = folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SHARD_BITS);
        #[allow(clippy::cast_possible_truncation)]
        self.shards.get(h as usize)
    }

    /// How many entries `user`'s timeline holds (`None` when missing).
    pub fn len(&self, user: UserId) -> Option<usize> {
        self.shard(user)?
            .lock()
            .get(&user)
            .map(Timeline::visible_len)
    }
}

#[async_trait]
impl TimelineStore for MemoryStore {
    async fn deliver(
        &self,
        users: &[UserId],
        entry: TimelineEntry,
        opts: DeliverOptions,
    ) -> Result<Delivery> {
        let now = self.clock.now_ms();
        let tomb = self.tombstones.read();
        if tomb.contains(&entry.post(), now) {
            return Ok(Delivery::Tombstoned);
        }
        let mut n = 0;
        for &u in users {
            let Some(shard) = self.shard(u) else { continue };
            let mut shard = shard.lock();
            if let Some(t) = shard.get_mut(&u)
                && t.last_active_ms >= opts.active_since_ms
                && t.insert(entry, opts.cap, false)
            {
                n += 1;
            }
        }
        drop(tomb);
        Ok(Delivery::Delivered(n))
    }

    async fn insert(&self, user: UserId, entries: &[TimelineEntry], cap: usize) -> Result<usize> {
        let now = self.clock.now_ms();
        let tomb = self.tombstones.read();
        let Some(shard) = self.shard(user) else {
            return Ok(0);
        };
        let mut shard = shard.lock();
        let Some(t) = shard.get_mut(&user) else {
            return Ok(0);
        };
        let mut n = 0;
        for e in entries {
            if !tomb.contains(&e.post(), now) && t.insert(*e, cap, true) {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn remove(&self, user: UserId, entries: &[TimelineEntry]) -> Result<()> {
        if let Some(shard) = self.shard(user)
            && let Some(t) = shard.lock().get_mut(&user)
        {
            for e in entries {
                t.remove(e.position);
            }
        }
        Ok(())
    }

    async fn remove_posts(&self, users: &[UserId], author: UserId, posts: &[PostId]) -> Result<()> {
        if posts.is_empty() {
            return Ok(());
        }
        for &u in users {
            if let Some(shard) = self.shard(u)
                && let Some(t) = shard.lock().get_mut(&u)
            {
                t.remove_posts(author, posts);
            }
        }
        Ok(())
    }

    async fn page(
        &self,
        user: UserId,
        before: Option<Position>,
        limit: usize,
    ) -> Result<Option<TimelineSlice>> {
        let Some(shard) = self.shard(user) else {
            return Ok(None);
        };
        let shard = shard.lock();
        let Some(t) = shard.get(&user) else {
            return Ok(None);
        };
        let start = t.start();
        let end = before.map_or(t.entries.len(), |b| {
            t.entries.partition_point(|x| x.position < b)
        });
        let entries = t
            .entries
            .range(start.min(end)..end)
            .rev()
            .take(limit)
            .copied()
            .collect();
        Ok(Some(TimelineSlice {
            entries,
            last_active_ms: t.last_active_ms,
        }))
    }

    async fn create(&self, user: UserId, now_ms: u64) -> Result<()> {
        if let Some(shard) = self.shard(user) {
            let mut shard = shard.lock();
            let t = shard.entry(user).or_default();
            t.last_active_ms = t.last_active_ms.max(now_ms);
        }
        Ok(())
    }

    async fn touch(&self, user: UserId, now_ms: u64) -> Result<()> {
        if let Some(shard) = self.shard(user)
            && let Some(t) = shard.lock().get_mut(&user)
        {
            t.last_active_ms = t.last_active_ms.max(now_ms);
        }
        Ok(())
    }

    async fn mark_partial(&self, user: UserId) -> Result<()> {
        if let Some(shard) = self.shard(user)
            && let Some(t) = shard.lock().get_mut(&user)
        {
            t.partial = true;
        }
        Ok(())
    }

    async fn evict(&self, user: UserId) -> Result<()> {
        if let Some(shard) = self.shard(user) {
            shard.lock().remove(&user);
        }
        Ok(())
    }

    async fn tombstone(&self, post: PostId) -> Result<()> {
        let now = self.clock.now_ms();
        let expires = now.saturating_add(self.tombstone_ttl_ms);
        self.tombstones.write().insert(post, expires, now);
        Ok(())
    }

    async fn is_tombstoned(&self, post: PostId) -> Result<bool> {
        Ok(self.tombstones.read().contains(&post, self.clock.now_ms()))
    }

    async fn retract(&self, author: UserId, post: PostId) -> Result<()> {
        let now = self.clock.now_ms();
        let expires = now.saturating_add(self.tombstone_ttl_ms);
        self.retracted.lock().insert(author, post, expires, now);
        Ok(())
    }

    async fn retracted(&self, author: UserId) -> Result<Vec<PostId>> {
        Ok(self.retracted.lock().of(author, self.clock.now_ms()))
    }
}
