//! Timelines in Redis: one sorted set per user, capped and trimmed on insert.
//!
//! # Keys
//! - `{prefix}tl:{user:032x}`: the timeline (the user id as 32 hex digits). Members are 32
//!   bytes, the post id then the author id, each 16 bytes big-endian: Redis orders equal
//!   scores by member bytes, so equal scores order by post id, as in memory, and both 128-bit
//!   ids round-trip exactly. Scores are [`Score`]s, exact because below 2^53.
//!   One sentinel member `~` with score `-(last active ms * 2 + partial) - 1` marks the
//!   timeline as built and records its owner's activity and whether it is partial; it always
//!   sorts first and is never returned.
//! - `{prefix}tomb:{post:032x}`: a tombstone, with a time to live (default 7 days).
//! - `{prefix}retracted:{author:032x}`: the author's posts deleted while the author was pulled
//!   (a sorted set of 16-byte big-endian post ids scored by expiry time), kept as long as
//!   tombstones.
//!
//! Timelines written by keel-feed before ids became 128 bits live under `{prefix}tl:{decimal
//! id}` keys, which this version never reads: their owners' timelines are regenerated on their
//! next read. Delete the old keys (or start on a new prefix) to free the memory; a
//! `RedisLeaderboard` written before (decimal members) must be cleared.
//!
//! Fan-out writes run as one Lua script per chunk of followers (existence, activity and
//! tombstone checks, `ZADD`, trim), so a chunk is atomic with respect to a delete; several
//! chunks go out at once as concurrent pipelines on the multiplexed connection
//! ([`FeedConfig::chunks_in_flight`](crate::FeedConfig::chunks_in_flight)). Keys of one
//! chunk must live on one node: use a single Redis (or Redis Cluster hash tags in the prefix).

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use super::{DeliverOptions, Delivery, TimelineSlice, TimelineStore};
use crate::error::{FeedError, Result};
use crate::model::{Position, PostId, TimelineEntry, UserId};
use crate::score::Score;

const SENTINEL: &str = "~";

/// Shared Lua helpers: the sentinel's score is `-(active_ms * 2 + partial) - 1`.
const STATE_FNS: &str = r"
local function state(k)
  local s = redis.call('ZSCORE', k, '~')
  if not s then return nil, nil end
  local v = -tonumber(s) - 1
  local p = v % 2
  return (v - p) / 2, p
end
local function set_state(k, active, partial)
  redis.call('ZADD', k, -(active * 2 + partial) - 1, '~')
end
";

/// Fan-out: KEYS = tombstone, timelines...; ARGV = score, member, cap, active since (ms).
/// Returns -1 when tombstoned, else the number of timelines that gained the entry.
const DELIVER: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local score, member = ARGV[1], ARGV[2]
local cap, since = tonumber(ARGV[3]), tonumber(ARGV[4])
local n = 0
for i = 2, #KEYS do
  local k = KEYS[i]
  local active, partial = state(k)
  if active and active >= since then
    local added = redis.call('ZADD', k, score, member)
    if added == 1 then
      -- Rank 0 is the sentinel: rank 1 is the oldest entry.
      if redis.call('ZRANK', k, member) == 1 then
        local c = redis.call('ZCARD', k)
        if c > 2 and (partial == 1 or c > cap + 1) then
          -- Older than every kept entry: trimmed at once, or a gap in a partial timeline.
          redis.call('ZREM', k, member)
          added = 0
          if partial == 0 then set_state(k, active, 1) end
        end
      elseif redis.call('ZREMRANGEBYRANK', k, 1, -(cap + 1)) > 0 and partial == 0 then
        -- Keeps the sentinel and the newest `cap` entries (a no-op under the cap).
        set_state(k, active, 1)
      end
    end
    n = n + added
  end
end
return n
";

/// Backfill: KEYS = timeline, tombstones...; ARGV = cap, then score and member per tombstone.
/// Returns the number of entries added and kept; 0 when the timeline is missing.
const INSERT: &str = r"
local k = KEYS[1]
local active, partial = state(k)
if not active then return 0 end
local cap = tonumber(ARGV[1])
local oldest_s, oldest_m
if partial == 1 then
  local o = redis.call('ZRANGE', k, 1, 1, 'WITHSCORES')
  if #o == 0 then return 0 end
  oldest_m, oldest_s = o[1], tonumber(o[2])
end
local added = {}
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    local sc, m = tonumber(ARGV[2 * i - 2]), ARGV[2 * i - 1]
    if partial == 0 or sc >= oldest_s then
      if redis.call('ZADD', k, sc, m) == 1 then
        -- Members are binary: let Redis order equal scores (Lua compares by locale).
        if partial == 1 and sc == oldest_s
          and redis.call('ZRANK', k, m) < redis.call('ZRANK', k, oldest_m) then
          redis.call('ZREM', k, m)
        else
          added[#added + 1] = m
        end
      end
    end
  end
end
local c = redis.call('ZCARD', k)
if c > cap + 1 then
  redis.call('ZREMRANGEBYRANK', k, 1, c - cap - 1)
  if partial == 0 then set_state(k, active, 1) end
end
local n = 0
for _, m in ipairs(added) do
  if redis.call('ZSCORE', k, m) then n = n + 1 end
end
return n
";

/// Activity and flags: KEYS = timeline; ARGV = mode (create, touch, partial), now (ms).
const STATE: &str = r"
local k, mode, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
local active, partial = state(k)
if not active then
  if mode == 'create' then set_state(k, now, 0) end
  return 0
end
if mode == 'partial' then partial = 1 end
if now > active then active = now end
set_state(k, active, partial)
return 1
";

/// The server's time in milliseconds (Lua).
const NOW_FN: &str = r"
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
";

/// Retraction: KEYS = the author's retracted set; ARGV = post id, lifetime (ms). Scores are
/// expiry times; expired members go on every write, the key with the last one.
const RETRACT: &str = r"
local now, ttl = now_ms(), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
";

/// Retracted posts still alive: KEYS = the author's retracted set.
const RETRACTED: &str = r"
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now_ms(), '+inf')
";

/// Timelines in Redis sorted sets (feature `redis`).
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    tombstone_ttl_secs: u64,
    deliver: Script,
    insert: Script,
    state: Script,
    retract: Script,
    retracted: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("tombstone_ttl_secs", &self.tombstone_ttl_secs)
            .finish_non_exhaustive()
    }
}

fn store_err(e: &redis::RedisError) -> FeedError {
    FeedError::Store(e.to_string())
}

/// Bytes of a timeline member: the post id, then the author id, each big-endian.
pub const MEMBER_LEN: usize = 32;

/// The sorted-set member of `e`: see the [module docs](self).
pub fn member(e: &TimelineEntry) -> [u8; MEMBER_LEN] {
    member_of(e.post(), e.author)
}

fn member_of(post: PostId, author: UserId) -> [u8; MEMBER_LEN] {
    let mut m = [0u8; MEMBER_LEN];
    let (p, a) = m.split_at_mut(16);
    p.copy_from_slice(&post.0.to_be_bytes());
    a.copy_from_slice(&author.0.to_be_bytes());
    m
}

fn parse_member(m: &[u8], score: f64) -> Result<TimelineEntry> {
    let bad = || {
        FeedError::Corrupt(format!(
            "timeline member {:?} was not written by this keel-feed version (expected {MEMBER_LEN} \
             bytes; timelines of the old 64-bit format must be evicted)",
            String::from_utf8_lossy(m)
        ))
    };
    let (post, author) = m.split_at_checked(16).ok_or_else(bad)?;
    let post: [u8; 16] = post.try_into().map_err(|_| bad())?;
    let author: [u8; 16] = author.try_into().map_err(|_| bad())?;
    let (post, author) = (u128::from_be_bytes(post), u128::from_be_bytes(author));
    Ok(TimelineEntry {
        position: Position {
            score: Score::from_f64(score)?,
            post: PostId(post),
        },
        author: UserId(author),
    })
}

impl RedisStore {
    /// A store over an open connection; every key starts with `prefix` (e.g. `"feed:"`).
    pub fn new(conn: ConnectionManager, prefix: impl Into<String>) -> Self {
        Self {
            conn,
            prefix: prefix.into(),
            tombstone_ttl_secs: 7 * 24 * 3600,
            deliver: Script::new(&format!("{STATE_FNS}{DELIVER}")),
            insert: Script::new(&format!("{STATE_FNS}{INSERT}")),
            state: Script::new(&format!("{STATE_FNS}{STATE}")),
            retract: Script::new(&format!("{NOW_FN}{RETRACT}")),
            retracted: Script::new(&format!("{NOW_FN}{RETRACTED}")),
        }
    }

    /// Connects to `url` (`redis://host:port/db`).
    ///
    /// # Errors
    /// [`FeedError::Store`] when the URL is invalid or the server does not answer.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self> {
        let client = redis::Client::open(url).map_err(|e| store_err(&e))?;
        let conn = ConnectionManager::new(client)
            .await
            .map_err(|e| store_err(&e))?;
        Ok(Self::new(conn, prefix))
    }

    /// Sets how long tombstones and retracted posts live (default 7 days): longer than any
    /// fan-out or redelivery.
    pub fn with_tombstone_ttl_secs(mut self, secs: u64) -> Self {
        self.tombstone_ttl_secs = secs.max(1);
        self
    }

    /// The key of `user`'s timeline.
    pub fn timeline_key(&self, user: UserId) -> String {
        let mut key = String::with_capacity(self.prefix.len() + 35);
        self.write_timeline_key(&mut key, user);
        key
    }

    fn write_timeline_key(&self, out: &mut String, user: UserId) {
        use std::fmt::Write as _;
        out.push_str(&self.prefix);
        // Writing to a String cannot fail.
        let _ = write!(out, "tl:{:032x}", user.0);
    }

    fn tomb_key(&self, post: PostId) -> String {
        format!("{}tomb:{:032x}", self.prefix, post.0)
    }

    fn retracted_key(&self, author: UserId) -> String {
        format!("{}retracted:{:032x}", self.prefix, author.0)
    }

    async fn set_state(&self, user: UserId, mode: &str, now_ms: u64) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = self
            .state
            .key(self.timeline_key(user))
            .arg(mode)
            .arg(now_ms.min(crate::score::MAX_SCORE >> 1))
            .invoke_async(&mut conn)
            .await
            .map_err(|e| store_err(&e))?;
        Ok(())
    }

    /// The connection, for callers who share it (the leaderboard, say).
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

#[async_trait]
impl TimelineStore for RedisStore {
    async fn deliver(
        &self,
        users: &[UserId],
        entry: TimelineEntry,
        opts: DeliverOptions,
    ) -> Result<Delivery> {
        if users.is_empty() {
            return Ok(Delivery::Delivered(0));
        }
        let mut inv = self.deliver.prepare_invoke();
        inv.key(self.tomb_key(entry.post()));
        // One buffer for every key: the invocation copies each.
        let mut key = String::with_capacity(self.prefix.len() + 35);
        for &u in users {
            key.clear();
            self.write_timeline_key(&mut key, u);
            inv.key(key.as_str());
        }
        inv.arg(entry.position.score.raw())
            .arg(member(&entry).as_slice())
            .arg(opts.cap)
            .arg(opts.active_since_ms);
        let mut conn = self.conn.clone();
        let n: i64 = inv
            .invoke_async(&mut conn)
            .await
            .map_err(|e| store_err(&e))?;
        Ok(match usize::try_from(n) {
            Ok(n) => Delivery::Delivered(n),
            Err(_) => Delivery::Tombstoned,
        })
    }

    async fn deliver_many(
        &self,
        chunks: &[Vec<UserId>],
        entry: TimelineEntry,
        opts: DeliverOptions,
    ) -> Result<Vec<Delivery>> {
        // Concurrent invocations share the multiplexed connection: they go out pipelined, so
        // the client encodes a chunk while Redis runs the previous one. Each chunk's script
        // checks the tombstone on its own, so a delete still cuts the fan-out short.
        let sent = chunks.iter().map(|c| self.deliver(c, entry, opts));
        futures_util::future::join_all(sent)
            .await
            .into_iter()
            .collect()
    }

    async fn insert(&self, user: UserId, entries: &[TimelineEntry], cap: usize) -> Result<usize> {
        if entries.is_empty() {
            return Ok(0);
        }
        let mut inv = self.insert.prepare_invoke();
        inv.key(self.timeline_key(user));
        inv.arg(cap);
        for e in entries {
            inv.key(self.tomb_key(e.post()));
            inv.arg(e.position.score.raw()).arg(member(e).as_slice());
        }
        let mut conn = self.conn.clone();
        let n: i64 = inv
            .invoke_async(&mut conn)
            .await
            .map_err(|e| store_err(&e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    async fn remove(&self, user: UserId, entries: &[TimelineEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let members: Vec<Vec<u8>> = entries.iter().map(|e| member(e).to_vec()).collect();
        let mut conn = self.conn.clone();
        let _: i64 = conn
            .zrem(self.timeline_key(user), members)
            .await
            .map_err(|e| store_err(&e))?;
        Ok(())
    }

    async fn remove_posts(&self, users: &[UserId], author: UserId, posts: &[PostId]) -> Result<()> {
        if users.is_empty() || posts.is_empty() {
            return Ok(());
        }
        let members: Vec<Vec<u8>> = posts
            .iter()
            .map(|&p| member_of(p, author).to_vec())
            .collect();
        let mut pipe = redis::pipe();
        for &u in users {
            pipe.zrem(self.timeline_key(u), &members).ignore();
        }
        let mut conn = self.conn.clone();
        let () = pipe
            .query_async(&mut conn)
            .await
            .map_err(|e| store_err(&e))?;
        Ok(())
    }

    async fn page(
        &self,
        user: UserId,
        before: Option<Position>,
        limit: usize,
    ) -> Result<Option<TimelineSlice>> {
        let key = self.timeline_key(user);
        let mut conn = self.conn.clone();
        let max = before.map_or_else(|| "+inf".to_owned(), |b| b.score.raw().to_string());
        let mut entries = Vec::with_capacity(limit);
        let mut offset = 0usize;
        // Fetch a little more than asked: entries that share the cursor's score and sort at or
        // after it are skipped, and a few of them may come first.
        let batch = limit + 8;
        let mut last_active_ms;
        loop {
            let (sentinel, raw): (Option<f64>, Vec<(Vec<u8>, f64)>) = redis::pipe()
                .zscore(&key, SENTINEL)
                .zrevrangebyscore_limit_withscores(&key, &max, 0, offset as isize, batch as isize)
                .query_async(&mut conn)
                .await
                .map_err(|e| store_err(&e))?;
            let Some(s) = sentinel else { return Ok(None) };
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            {
                last_active_ms = ((-s - 1.0).max(0.0) as u64) >> 1;
            }
            let full = raw.len() == batch;
            offset += raw.len();
            for (m, score) in raw {
                let e = parse_member(&m, score)?;
                if before.is_none_or(|b| e.position < b) {
                    entries.push(e);
                    if entries.len() == limit {
                        break;
                    }
                }
            }
            if entries.len() == limit || !full {
                break;
            }
        }
        Ok(Some(TimelineSlice {
            entries,
            last_active_ms,
        }))
    }

    async fn create(&self, user: UserId, now_ms: u64) -> Result<()> {
        self.set_state(user, "create", now_ms).await
    }

    async fn touch(&self, user: UserId, now_ms: u64) -> Result<()> {
        self.set_state(user, "touch", now_ms).await
    }

    async fn mark_partial(&self, user: UserId) -> Result<()> {
        self.set_state(user, "partial", 0).await
    }

    async fn evict(&self, user: UserId) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = conn
            .del(self.timeline_key(user))
            .await
            .map_err(|e| store_err(&e))?;
        Ok(())
    }

    async fn tombstone(&self, post: PostId) -> Result<()> {
        let mut conn = self.conn.clone();
        let () = conn
            .set_ex(self.tomb_key(post), 1, self.tombstone_ttl_secs)
            .await
            .map_err(|e| store_err(&e))?;
        Ok(())
    }

    async fn is_tombstoned(&self, post: PostId) -> Result<bool> {
        let mut conn = self.conn.clone();
        conn.exists(self.tomb_key(post))
            .await
            .map_err(|e| store_err(&e))
    }

    async fn retract(&self, author: UserId, post: PostId) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = self
            .retract
            .key(self.retracted_key(author))
            .arg(post.0.to_be_bytes().as_slice())
            .arg(self.tombstone_ttl_secs.saturating_mul(1000))
            .invoke_async(&mut conn)
            .await
            .map_err(|e| store_err(&e))?;
        Ok(())
    }

    async fn retracted(&self, author: UserId) -> Result<Vec<PostId>> {
        let mut conn = self.conn.clone();
        let raw: Vec<Vec<u8>> = self
            .retracted
            .key(self.retracted_key(author))
            .invoke_async(&mut conn)
            .await
            .map_err(|e| store_err(&e))?;
        raw.iter()
            .map(|m| {
                <[u8; 16]>::try_from(m.as_slice())
                    .map(|b| PostId(u128::from_be_bytes(b)))
                    .map_err(|_| FeedError::Corrupt(format!("retracted post id {m:?}")))
            })
            .collect()
    }
}

/// A global top-N of posts in one Redis sorted set, `{prefix}leaderboard` (feature `redis`):
/// members are post ids as 32 hex digits, scores are hot scores.
#[derive(Clone)]
pub struct RedisLeaderboard {
    conn: ConnectionManager,
    key: String,
    capacity: usize,
}

impl std::fmt::Debug for RedisLeaderboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLeaderboard")
            .field("key", &self.key)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// A leaderboard member: the post id as 32 hex digits (fixed width, so equal scores order by
/// post id as in memory).
fn board_member(post: PostId) -> String {
    format!("{:032x}", post.0)
}

impl RedisLeaderboard {
    /// A board in `{prefix}leaderboard` keeping the best `capacity` posts (at least 1).
    pub fn new(conn: ConnectionManager, prefix: &str, capacity: usize) -> Self {
        Self {
            conn,
            key: format!("{prefix}leaderboard"),
            capacity: capacity.max(1),
        }
    }
}

#[async_trait]
impl crate::rank::Leaderboard for RedisLeaderboard {
    async fn record(&self, post: &crate::model::Post, points: f64) -> Result<()> {
        let mut conn = self.conn.clone();
        let cap = isize::try_from(self.capacity).unwrap_or(isize::MAX);
        let () = redis::pipe()
            .zadd(
                &self.key,
                board_member(post.id),
                crate::rank::hot_score(post, points),
            )
            .ignore()
            .zremrangebyrank(&self.key, 0, -(cap + 1))
            .ignore()
            .query_async(&mut conn)
            .await
            .map_err(|e| store_err(&e))?;
        Ok(())
    }

    async fn remove(&self, post: PostId) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = conn
            .zrem(&self.key, board_member(post))
            .await
            .map_err(|e| store_err(&e))?;
        Ok(())
    }

    async fn top(&self, n: usize) -> Result<Vec<(PostId, f64)>> {
        let n = n.min(self.capacity);
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        let stop = isize::try_from(n).unwrap_or(isize::MAX) - 1;
        let raw: Vec<(String, f64)> = conn
            .zrevrange_withscores(&self.key, 0, stop)
            .await
            .map_err(|e| store_err(&e))?;
        raw.into_iter()
            .map(|(m, s)| {
                u128::from_str_radix(&m, 16)
                    .map(|id| (PostId(id), s))
                    .map_err(|_| FeedError::Corrupt(format!("leaderboard member {m:?}")))
            })
            .collect()
    }
}
