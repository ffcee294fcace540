//! Trending posts: the analytics consumer counts likes and comments per post; a post's score
//! is its engagement decayed by age (Hacker News gravity), computed at read time with the
//! injected clock.

use dashmap::DashMap;
use keel_storage::{PostId, Timestamp};

/// Posts older than this never trend.
pub const WINDOW_HOURS: f64 = 72.0;

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    likes: i64,
    comments: i64,
    created_at: Timestamp,
    public: bool,
}

/// Engagement counters per post.
#[derive(Debug, Default)]
pub struct Trending {
    posts: DashMap<PostId, Counts>,
}

impl Trending {
    /// A post was created.
    pub fn created(&self, post: PostId, created_at: Timestamp, public: bool) {
        let mut c = self.posts.entry(post).or_default();
        c.created_at = created_at;
        c.public = public;
    }

    /// A post's visibility changed.
    pub fn set_public(&self, post: PostId, public: bool) {
        if let Some(mut c) = self.posts.get_mut(&post) {
            c.public = public;
        }
    }

    /// Likes went up or down by `delta`.
    pub fn liked(&self, post: PostId, delta: i64) {
        if let Some(mut c) = self.posts.get_mut(&post) {
            c.likes = (c.likes + delta).max(0);
        }
    }

    /// Comments went up or down by `delta`.
    pub fn commented(&self, post: PostId, delta: i64) {
        if let Some(mut c) = self.posts.get_mut(&post) {
            c.comments = (c.comments + delta).max(0);
        }
    }

    /// A post was deleted.
    pub fn deleted(&self, post: PostId) {
        self.posts.remove(&post);
    }

    /// Public posts with engagement inside the window, best first: `(score, post)`.
    pub fn ranked(&self, now: Timestamp) -> Vec<(f64, PostId)> {
        let mut out: Vec<(f64, PostId)> = self
            .posts
            .iter()
            .filter_map(|e| {
                let c = e.value();
                let engagement = c.likes + 2 * c.comments;
                #[allow(clippy::cast_precision_loss)]
                let age_h = (now.as_micros() - c.created_at.as_micros()).max(0) as f64 / 3.6e9;
                (c.public && engagement > 0 && age_h <= WINDOW_HOURS).then(|| {
                    #[allow(clippy::cast_precision_loss)]
                    let score = engagement as f64 / (age_h + 2.0).powf(1.5);
                    (score, *e.key())
                })
            })
            .collect();
        out.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engagement_ranks_and_age_decays() {
        let t = Trending::default();
        let (a, b, c) = (
            PostId(uuid::Uuid::now_v7()),
            PostId(uuid::Uuid::now_v7()),
            PostId(uuid::Uuid::now_v7()),
        );
        let now = Timestamp::from_millis(100 * 3_600_000);
        t.created(a, now, true);
        t.created(b, Timestamp::from_millis(90 * 3_600_000), true);
        t.created(c, now, false);
        t.liked(a, 1);
        t.liked(b, 3);
        t.commented(c, 5);
        let r = t.ranked(now);
        assert_eq!(
            r.iter().map(|x| x.1).collect::<Vec<_>>(),
            [a, b],
            "private c excluded, old b decayed"
        );
        t.liked(a, -1);
        assert_eq!(t.ranked(now).len(), 1);
    }
}
