//! Follows, likes and comments in the memory backend.

use std::collections::BTreeSet;

use super::Tx;
use super::state::{MAX_ID, MAX_TS, MIN_ID, MIN_TS, State};
use crate::error::{Entity, Result, StorageError};
use crate::event::Event;
use crate::id::{CommentId, PostId, UserId};
use crate::model::{Comment, Follow, FollowCounts, LikeOutcome, NewComment};
use crate::page::{List, Ordered, Seek, SortValue, Window, anchor, check_seek, paginate_keys};

type EdgeIndex = BTreeSet<(UserId, Timestamp, UserId)>;
use crate::clock::Timestamp;

/// One window of a follow index, newest first; `by_followee` says the index is keyed by
/// followee (the followers list).
fn edge_window(
    idx: &EdgeIndex,
    user: UserId,
    seek: &Seek,
    by_followee: bool,
) -> Result<Window<Follow>> {
    check_seek(seek)?;
    let anchor = anchor(seek, |v| match v {
        [SortValue::I64(at), SortValue::Uuid(id)] => {
            Some((user, Timestamp::from_micros(*at), UserId(*id)))
        }
        _ => None,
    })?;
    let index = Ordered {
        range: &|a, b| Box::new(idx.range((a, b))),
        lo: (user, MIN_TS, UserId(MIN_ID)),
        hi: (user, MAX_TS, UserId(MAX_ID)),
        desc: true,
        key: |k: &&(UserId, Timestamp, UserId)| **k,
    };
    let list = if by_followee {
        List::Followers
    } else {
        List::Following
    };
    paginate_keys(
        &index.slice(seek, anchor.as_ref()),
        list,
        seek,
        |(_, at, other)| vec![SortValue::I64(at.as_micros()), SortValue::Uuid(other.0)],
        |&&(me, at, other)| {
            Some(if by_followee {
                Follow {
                    follower: other,
                    followee: me,
                    created_at: at,
                }
            } else {
                Follow {
                    follower: me,
                    followee: other,
                    created_at: at,
                }
            })
        },
    )
}

impl State {
    pub(super) fn follow(
        &mut self,
        tx: &Tx<'_>,
        follower: UserId,
        followee: UserId,
    ) -> Result<bool> {
        self.user(follower)?;
        self.user(followee)?;
        if self.follows.contains_key(&(follower, followee)) {
            return Ok(false);
        }
        self.follows.insert((follower, followee), tx.now);
        self.followers_idx.insert((followee, tx.now, follower));
        self.following_idx.insert((follower, tx.now, followee));
        self.emit(tx, Event::Followed { follower, followee });
        Ok(true)
    }

    pub(super) fn remove_follow(&mut self, follower: UserId, followee: UserId) -> bool {
        let Some(at) = self.follows.remove(&(follower, followee)) else {
            return false;
        };
        self.followers_idx.remove(&(followee, at, follower));
        self.following_idx.remove(&(follower, at, followee));
        true
    }

    pub(super) fn unfollow(
        &mut self,
        tx: &Tx<'_>,
        follower: UserId,
        followee: UserId,
    ) -> Result<bool> {
        let removed = self.remove_follow(follower, followee);
        if removed {
            self.emit(tx, Event::Unfollowed { follower, followee });
        }
        Ok(removed)
    }

    pub(super) fn followers(&self, user: UserId, seek: &Seek) -> Result<Window<Follow>> {
        edge_window(&self.followers_idx, user, seek, true)
    }

    pub(super) fn following(&self, user: UserId, seek: &Seek) -> Result<Window<Follow>> {
        edge_window(&self.following_idx, user, seek, false)
    }

    pub(super) fn follow_counts(&self, user: UserId) -> Result<FollowCounts> {
        self.user(user)?;
        let count = |idx: &EdgeIndex| {
            idx.range((user, MIN_TS, UserId(MIN_ID))..=(user, MAX_TS, UserId(MAX_ID)))
                .count() as u64
        };
        Ok(FollowCounts {
            followers: count(&self.followers_idx),
            following: count(&self.following_idx),
        })
    }

    pub(super) fn is_following(&self, follower: UserId, followee: UserId) -> bool {
        self.follows.contains_key(&(follower, followee))
    }

    pub(super) fn remove_like(&mut self, user: UserId, post: PostId) -> bool {
        if self.likes.remove(&(user, post)).is_none() {
            return false;
        }
        self.likes_by_post.remove(&(post, user));
        self.likes_by_user.remove(&(user, post));
        true
    }

    pub(super) fn like(&mut self, tx: &Tx<'_>, user: UserId, post: PostId) -> Result<LikeOutcome> {
        self.user(user)?;
        let count = self.post(post)?.like_count;
        if self.likes.contains_key(&(user, post)) {
            return Ok(LikeOutcome {
                changed: false,
                like_count: count,
            });
        }
        self.likes.insert((user, post), tx.now);
        self.likes_by_post.insert((post, user));
        self.likes_by_user.insert((user, post));
        let like_count = self.bump_likes(post, 1);
        self.emit(tx, Event::Liked { user, post });
        Ok(LikeOutcome {
            changed: true,
            like_count,
        })
    }

    pub(super) fn unlike(
        &mut self,
        tx: &Tx<'_>,
        user: UserId,
        post: PostId,
    ) -> Result<LikeOutcome> {
        let count = self.post(post)?.like_count;
        if !self.remove_like(user, post) {
            return Ok(LikeOutcome {
                changed: false,
                like_count: count,
            });
        }
        let like_count = self.bump_likes(post, -1);
        self.emit(tx, Event::Unliked { user, post });
        Ok(LikeOutcome {
            changed: true,
            like_count,
        })
    }

    fn bump_likes(&mut self, post: PostId, by: i64) -> i64 {
        self.posts.get_mut(&post).map_or(0, |p| {
            p.like_count = p.like_count.saturating_add(by);
            p.like_count
        })
    }

    pub(super) fn has_liked(&self, user: UserId, post: PostId) -> bool {
        self.likes.contains_key(&(user, post))
    }

    pub(super) fn count_like_rows(&self, post: PostId) -> Result<u64> {
        self.post(post)?;
        Ok(self
            .likes_by_post
            .range((post, UserId(MIN_ID))..=(post, UserId(MAX_ID)))
            .count() as u64)
    }

    pub(super) fn comment(&self, id: CommentId) -> Result<&Comment> {
        self.comments
            .get(&id)
            .ok_or_else(|| StorageError::not_found(Entity::Comment, id))
    }

    pub(super) fn add_comment(&mut self, tx: &Tx<'_>, new: NewComment) -> Result<Comment> {
        self.post(new.post)?;
        self.user(new.author)?;
        if let Some(parent) = new.parent {
            let p = self.comment(parent)?;
            if p.post != new.post {
                return Err(StorageError::invalid(
                    "parent",
                    "the parent comment belongs to another post",
                ));
            }
        }
        let c = Comment {
            id: CommentId(tx.ids.next_at(tx.now)),
            post: new.post,
            author: new.author,
            parent: new.parent,
            content: new.content,
            created_at: tx.now,
        };
        self.comment_idx
            .insert((c.post, c.parent, c.created_at, c.id));
        self.comments_by_author.insert((c.author, c.id));
        self.comments.insert(c.id, c.clone());
        if let Some(p) = self.posts.get_mut(&c.post) {
            p.comment_count = p.comment_count.saturating_add(1);
        }
        self.emit(
            tx,
            Event::CommentAdded {
                comment: c.id,
                post: c.post,
                author: c.author,
                parent: c.parent,
            },
        );
        Ok(c)
    }

    pub(super) fn comments(
        &self,
        post: PostId,
        parent: Option<CommentId>,
        seek: &Seek,
    ) -> Result<Window<Comment>> {
        check_seek(seek)?;
        let anchor = anchor(seek, |v| match v {
            [SortValue::I64(at), SortValue::Uuid(id)] => {
                Some((post, parent, Timestamp::from_micros(*at), CommentId(*id)))
            }
            _ => None,
        })?;
        let index = Ordered {
            range: &|a, b| Box::new(self.comment_idx.range((a, b))),
            lo: (post, parent, MIN_TS, CommentId(MIN_ID)),
            hi: (post, parent, MAX_TS, CommentId(MAX_ID)),
            desc: false,
            key: |k: &&(PostId, Option<CommentId>, Timestamp, CommentId)| **k,
        };
        paginate_keys(
            &index.slice(seek, anchor.as_ref()),
            List::Comments,
            seek,
            |(_, _, at, id)| vec![SortValue::I64(at.as_micros()), SortValue::Uuid(id.0)],
            |(_, _, _, id)| self.comments.get(id).cloned(),
        )
    }

    /// Removes one comment row and its index entries (not its replies).
    pub(super) fn remove_comment_row(&mut self, id: CommentId) {
        if let Some(c) = self.comments.remove(&id) {
            self.comment_idx
                .remove(&(c.post, c.parent, c.created_at, c.id));
            self.comments_by_author.remove(&(c.author, c.id));
        }
    }

    /// Removes a comment and every reply under it; returns how many rows went.
    pub(super) fn remove_comment_tree(&mut self, root: CommentId) -> u64 {
        let Some(post) = self.comments.get(&root).map(|c| c.post) else {
            return 0;
        };
        let mut stack = vec![root];
        let mut removed = 0u64;
        while let Some(id) = stack.pop() {
            stack.extend(
                self.comment_idx
                    .range(
                        (post, Some(id), MIN_TS, CommentId(MIN_ID))
                            ..=(post, Some(id), MAX_TS, CommentId(MAX_ID)),
                    )
                    .map(|k| k.3),
            );
            if self.comments.contains_key(&id) {
                self.remove_comment_row(id);
                removed += 1;
            }
        }
        removed
    }

    pub(super) fn delete_comment(&mut self, tx: &Tx<'_>, id: CommentId) -> Result<u64> {
        let post = self.comment(id)?.post;
        let removed = self.remove_comment_tree(id);
        self.recount(post);
        self.emit(tx, Event::CommentDeleted { comment: id, post });
        Ok(removed)
    }
}
