//! Trending posts: the analytics consumer counts likes and comments per post; a post's score
//! is its engagement decayed by age (Hacker News gravity), computed at read time with the
//! injected clock.
//!
//! The counters live in process memory, or in Redis when `REDIS_URL` is set, so every instance
//! ranks the same posts (each event is counted once: one consumer group per bus, or one relay
//! per claimed outbox record). In Redis, a sorted set `{prefix}:trend:posts` holds the posts by
//! creation time and a hash `{prefix}:trend:p:{id}` each post's counts; hashes expire after the
//! window, and the ranking reads only the posts created inside it.

use dashmap::DashMap;
use keel_storage::{PostId, Timestamp};
use redis::AsyncCommands;

/// Posts older than this never trend.
pub const WINDOW_HOURS: f64 = 72.0;

/// The window in microseconds.
const WINDOW_MICROS: i64 = 72 * 3_600_000_000;

/// Seconds a post's Redis counters outlive its window.
const REDIS_TTL_SECS: i64 = 73 * 3600;

/// Adds to a counter of an existing post hash only (a like arriving after the post was deleted
/// or expired creates nothing), floored at 0.
const INCR_IF_EXISTS: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local v = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if v < 0 then redis.call('HSET', KEYS[1], ARGV[1], 0) end
return 1
";

/// Sets a field of an existing post hash only.
const SET_IF_EXISTS: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
";

/// A Redis failure while counting or ranking.
#[derive(Debug, thiserror::Error)]
#[error("trending counters unavailable in Redis: {0}; retry later")]
pub struct TrendingError(#[from] redis::RedisError);

/// `HMGET likes comments created_at public` of one post hash.
type HashRow = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    likes: i64,
    comments: i64,
    created_at: Timestamp,
    public: bool,
}

impl Counts {
    /// `(score, post)` when the post trends at `now`.
    fn score(self, post: PostId, now: Timestamp) -> Option<(f64, PostId)> {
        let engagement = self.likes.max(0) + 2 * self.comments.max(0);
        #[allow(clippy::cast_precision_loss)]
        let age_h = (now.as_micros() - self.created_at.as_micros()).max(0) as f64 / 3.6e9;
        (self.public && engagement > 0 && age_h <= WINDOW_HOURS).then(|| {
            #[allow(clippy::cast_precision_loss)]
            let score = engagement as f64 / (age_h + 2.0).powf(1.5);
            (score, post)
        })
    }
}

#[derive(Debug)]
enum Backend {
    Memory(DashMap<PostId, Counts>),
    Redis {
        conn: redis::aio::ConnectionManager,
        prefix: String,
    },
}

/// Engagement counters per post.
#[derive(Debug)]
pub struct Trending {
    backend: Backend,
}

impl Default for Trending {
    fn default() -> Self {
        Self::memory()
    }
}

impl Trending {
    /// Counters in process memory.
    pub fn memory() -> Self {
        Self {
            backend: Backend::Memory(DashMap::new()),
        }
    }

    /// Counters in Redis under `{prefix}:trend:`, shared by every instance.
    pub fn redis(conn: redis::aio::ConnectionManager, prefix: &str) -> Self {
        Self {
            backend: Backend::Redis {
                conn,
                prefix: format!("{prefix}:trend"),
            },
        }
    }

    fn post_key(prefix: &str, post: PostId) -> String {
        format!("{prefix}:p:{}", post.0)
    }

    /// A post was created.
    ///
    /// # Errors
    /// [`TrendingError`] when Redis fails.
    pub async fn created(
        &self,
        post: PostId,
        created_at: Timestamp,
        public: bool,
    ) -> Result<(), TrendingError> {
        match &self.backend {
            Backend::Memory(posts) => {
                let mut c = posts.entry(post).or_default();
                c.created_at = created_at;
                c.public = public;
            }
            Backend::Redis { conn, prefix } => {
                let key = Self::post_key(prefix, post);
                let mut conn = conn.clone();
                redis::pipe()
                    .atomic()
                    .hset_nx(&key, "likes", 0)
                    .hset_nx(&key, "comments", 0)
                    .hset(&key, "created_at", created_at.as_micros())
                    .hset(&key, "public", i32::from(public))
                    .expire(&key, REDIS_TTL_SECS)
                    .zadd(
                        format!("{prefix}:posts"),
                        post.0.to_string(),
                        created_at.as_micros(),
                    )
                    .query_async::<()>(&mut conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// A post's visibility changed.
    ///
    /// # Errors
    /// [`TrendingError`] when Redis fails.
    pub async fn set_public(&self, post: PostId, public: bool) -> Result<(), TrendingError> {
        match &self.backend {
            Backend::Memory(posts) => {
                if let Some(mut c) = posts.get_mut(&post) {
                    c.public = public;
                }
            }
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                redis::Script::new(SET_IF_EXISTS)
                    .key(Self::post_key(prefix, post))
                    .arg("public")
                    .arg(i32::from(public))
                    .invoke_async::<i64>(&mut conn)
                    .await?;
            }
        }
        Ok(())
    }

    async fn add(
        &self,
        post: PostId,
        field: &'static str,
        delta: i64,
    ) -> Result<(), TrendingError> {
        match &self.backend {
            Backend::Memory(posts) => {
                if let Some(mut c) = posts.get_mut(&post) {
                    let n = if field == "likes" {
                        &mut c.likes
                    } else {
                        &mut c.comments
                    };
                    *n = (*n + delta).max(0);
                }
            }
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                redis::Script::new(INCR_IF_EXISTS)
                    .key(Self::post_key(prefix, post))
                    .arg(field)
                    .arg(delta)
                    .invoke_async::<i64>(&mut conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// Likes went up or down by `delta`.
    ///
    /// # Errors
    /// [`TrendingError`] when Redis fails.
    pub async fn liked(&self, post: PostId, delta: i64) -> Result<(), TrendingError> {
        self.add(post, "likes", delta).await
    }

    /// Comments went up or down by `delta`.
    ///
    /// # Errors
    /// [`TrendingError`] when Redis fails.
    pub async fn commented(&self, post: PostId, delta: i64) -> Result<(), TrendingError> {
        self.add(post, "comments", delta).await
    }

    /// A post was deleted.
    ///
    /// # Errors
    /// [`TrendingError`] when Redis fails.
    pub async fn deleted(&self, post: PostId) -> Result<(), TrendingError> {
        match &self.backend {
            Backend::Memory(posts) => {
                posts.remove(&post);
            }
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                redis::pipe()
                    .del(Self::post_key(prefix, post))
                    .zrem(format!("{prefix}:posts"), post.0.to_string())
                    .query_async::<()>(&mut conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// Public posts with engagement inside the window, best first: `(score, post)`.
    ///
    /// # Errors
    /// [`TrendingError`] when Redis fails.
    pub async fn ranked(&self, now: Timestamp) -> Result<Vec<(f64, PostId)>, TrendingError> {
        let mut out: Vec<(f64, PostId)> = match &self.backend {
            Backend::Memory(posts) => posts
                .iter()
                .filter_map(|e| e.value().score(*e.key(), now))
                .collect(),
            Backend::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let set = format!("{prefix}:posts");
                let since = now.as_micros().saturating_sub(WINDOW_MICROS);
                let _: () = conn.zrembyscore(&set, "-inf", format!("({since}")).await?;
                let members: Vec<String> = conn.zrangebyscore(&set, since, "+inf").await?;
                let posts: Vec<PostId> = members
                    .iter()
                    .filter_map(|m| m.parse::<uuid::Uuid>().ok().map(PostId))
                    .collect();
                let mut pipe = redis::pipe();
                for p in &posts {
                    pipe.cmd("HMGET")
                        .arg(Self::post_key(prefix, *p))
                        .arg("likes")
                        .arg("comments")
                        .arg("created_at")
                        .arg("public");
                }
                let rows: Vec<HashRow> = pipe.query_async(&mut conn).await?;
                posts
                    .iter()
                    .zip(rows)
                    .filter_map(|(p, (likes, comments, created_at, public))| {
                        Counts {
                            likes: likes.unwrap_or(0),
                            comments: comments.unwrap_or(0),
                            created_at: Timestamp::from_micros(created_at?),
                            public: public == Some(1),
                        }
                        .score(*p, now)
                    })
                    .collect()
            }
        };
        out.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn engagement_ranks_and_age_decays(t: Trending) {
        let (a, b, c, d) = (
            PostId(uuid::Uuid::now_v7()),
            PostId(uuid::Uuid::now_v7()),
            PostId(uuid::Uuid::now_v7()),
            PostId(uuid::Uuid::now_v7()),
        );
        let now = Timestamp::from_millis(100 * 3_600_000);
        t.created(a, now, true).await.unwrap();
        t.created(b, Timestamp::from_millis(90 * 3_600_000), true)
            .await
            .unwrap();
        t.created(c, now, false).await.unwrap();
        t.created(d, Timestamp::from_millis(3_600_000), true)
            .await
            .unwrap();
        t.liked(a, 1).await.unwrap();
        t.liked(b, 3).await.unwrap();
        t.commented(c, 5).await.unwrap();
        t.liked(d, 9).await.unwrap();
        let r = t.ranked(now).await.unwrap();
        assert_eq!(
            r.iter().map(|x| x.1).collect::<Vec<_>>(),
            [a, b],
            "private c excluded, old b decayed, d outside the window"
        );
        t.liked(a, -1).await.unwrap();
        t.liked(a, -1).await.unwrap();
        assert_eq!(t.ranked(now).await.unwrap().len(), 1, "floored at 0");
        t.set_public(c, true).await.unwrap();
        assert_eq!(t.ranked(now).await.unwrap()[0].1, c);
        t.deleted(c).await.unwrap();
        t.liked(c, 1).await.unwrap();
        assert_eq!(
            t.ranked(now).await.unwrap().len(),
            1,
            "a deleted post stays gone"
        );
    }

    #[tokio::test]
    async fn memory_counters() {
        engagement_ranks_and_age_decays(Trending::memory()).await;
    }

    #[tokio::test]
    async fn redis_counters_are_shared() {
        let Some(url) = keel_testkit::require(keel_testkit::Service::Redis).await else {
            return;
        };
        let conn = redis::aio::ConnectionManager::new(redis::Client::open(url).unwrap())
            .await
            .unwrap();
        let prefix = keel_testkit::unique_prefix("trend");
        engagement_ranks_and_age_decays(Trending::redis(conn.clone(), &prefix)).await;
        // A second instance on the same prefix ranks the same posts.
        let other = Trending::redis(conn, &prefix);
        let now = Timestamp::from_millis(100 * 3_600_000);
        assert_eq!(other.ranked(now).await.unwrap().len(), 1);
    }
}
