//! The home timeline: keel-feed's engine (hybrid delivery) over the server's follow graph and
//! post source, fed by the event consumers.
//!
//! keel-feed ids are 128 bits: a storage UUID is passed as is, so ids mean the same thing in
//! every instance and after a restart.

use std::sync::Arc;

use keel_feed::{
    FeedEngine, MemoryGraph, MemoryPosts, ReadRequest, Score, Strategy, TimelineStore,
};
use keel_pagination::keyset::{Direction, Seek};
use keel_storage::{Post, PostId, StorageError, Store, UserId, Visibility};

/// The feed engine with its in-process graph and post source.
#[derive(Debug)]
pub struct Timelines {
    engine: FeedEngine,
    graph: Arc<MemoryGraph>,
    posts: Arc<MemoryPosts>,
}

/// One page of a home timeline: post ids newest first, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePage {
    /// The posts, newest first.
    pub posts: Vec<PostId>,
    /// The next page's start (score, post id); `None` at the end.
    pub next: Option<(u64, PostId)>,
}

fn feed_visibility(v: Visibility) -> keel_feed::Visibility {
    match v {
        Visibility::Public => keel_feed::Visibility::Public,
        Visibility::Followers => keel_feed::Visibility::FollowersOnly,
        _ => keel_feed::Visibility::Private,
    }
}

impl Timelines {
    /// Timelines in `store` (memory or Redis), hybrid above `threshold` followers.
    ///
    /// # Errors
    /// A configuration the engine rejects.
    pub fn new(store: Arc<dyn TimelineStore>, threshold: u64) -> keel_feed::Result<Self> {
        let graph = Arc::new(MemoryGraph::new());
        let posts = Arc::new(MemoryPosts::new());
        let engine = FeedEngine::builder(graph.clone(), posts.clone(), store)
            .strategy(Strategy::Hybrid { threshold })
            .build()?;
        Ok(Self {
            engine,
            graph,
            posts,
        })
    }

    fn user(&self, id: UserId) -> keel_feed::UserId {
        keel_feed::UserId::from(id.0)
    }

    /// A new user sees their own posts: they follow themselves in the engine's graph.
    pub fn user_created(&self, user: UserId) {
        let u = self.user(user);
        self.graph.add(u, u);
    }

    /// Delivers a new post to its author's followers (pushed or pulled by the hybrid rule).
    ///
    /// # Errors
    /// An engine error.
    pub async fn post_created(&self, post: &Post) -> keel_feed::Result<()> {
        let p = self.feed_post(post)?;
        self.posts.insert(p);
        self.engine.publish(&p).await?;
        Ok(())
    }

    fn feed_post(&self, post: &Post) -> keel_feed::Result<keel_feed::Post> {
        let ms = u64::try_from(post.created_at.as_millis()).unwrap_or(0);
        let seq = u64::from(post.id.0.as_u128() as u16 & 0x3ff);
        Ok(keel_feed::Post {
            id: keel_feed::PostId::from(post.id.0),
            author: self.user(post.author),
            score: Score::from_parts(ms, seq)?,
            visibility: feed_visibility(post.visibility),
        })
    }

    /// Rebuilds the engine's follow graph and recent posts from `store` (a restart on
    /// PostgreSQL): timelines then regenerate on their first read. Returns the users seen.
    ///
    /// # Errors
    /// The storage error that stopped the walk.
    pub async fn warm(
        &self,
        store: &dyn Store,
        posts_per_author: usize,
    ) -> Result<usize, StorageError> {
        let mut users = Seek::first(200);
        let mut seen = 0;
        loop {
            let window = store.users_by_prefix("", &users).await?;
            for u in &window.items {
                seen += 1;
                self.user_created(u.id);
                let mut follows = Seek::first(200);
                loop {
                    let f = store.following(u.id, &follows).await?;
                    for edge in &f.items {
                        self.graph
                            .add(self.user(edge.follower), self.user(edge.followee));
                    }
                    if !f.has_next {
                        break;
                    }
                    follows = Seek {
                        direction: Direction::Forward,
                        position: f.next,
                        limit: 200,
                    };
                }
                let recent = store
                    .posts_by_author(u.id, &Seek::first(posts_per_author.clamp(1, 200)))
                    .await?;
                for post in &recent.items {
                    if let Ok(p) = self.feed_post(post) {
                        self.posts.insert(p);
                    }
                }
            }
            if !window.has_next {
                return Ok(seen);
            }
            users = Seek {
                direction: Direction::Forward,
                position: window.next,
                limit: 200,
            };
        }
    }

    /// Removes a deleted post from every timeline.
    ///
    /// # Errors
    /// An engine error.
    pub async fn post_deleted(&self, post: PostId) -> keel_feed::Result<()> {
        if let Some(p) = self.posts.remove(keel_feed::PostId::from(post.0)) {
            self.engine.delete(&p).await?;
        }
        Ok(())
    }

    /// `follower` now follows `followee`: their recent posts join the follower's timeline.
    ///
    /// # Errors
    /// An engine error.
    pub async fn followed(&self, follower: UserId, followee: UserId) -> keel_feed::Result<()> {
        let (a, b) = (self.user(follower), self.user(followee));
        self.graph.add(a, b);
        self.engine.follow(a, b).await?;
        Ok(())
    }

    /// `follower` no longer follows `followee`.
    ///
    /// # Errors
    /// An engine error.
    pub async fn unfollowed(&self, follower: UserId, followee: UserId) -> keel_feed::Result<()> {
        let (a, b) = (self.user(follower), self.user(followee));
        self.graph.remove(a, b);
        self.engine.unfollow(a, b).await?;
        Ok(())
    }

    /// One page of `user`'s home timeline, strictly older than `before`.
    ///
    /// # Errors
    /// An engine or score error (a forged position).
    pub async fn read(
        &self,
        user: UserId,
        before: Option<(u64, PostId)>,
        limit: usize,
    ) -> keel_feed::Result<TimelinePage> {
        let before = match before {
            Some((score, post)) => Some(keel_feed::Position {
                score: Score::from_raw(score)?,
                post: keel_feed::PostId::from(post.0),
            }),
            None => None,
        };
        let page = self
            .engine
            .read(&ReadRequest {
                user: self.user(user),
                before,
                limit,
            })
            .await?;
        let posts = page
            .entries
            .iter()
            .map(|e| PostId(e.post().as_uuid()))
            .collect();
        Ok(TimelinePage {
            posts,
            next: page.next.map(|p| (p.score.raw(), PostId(p.post.as_uuid()))),
        })
    }
}
