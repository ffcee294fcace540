//! Posts, likes and comments across shards: each on its post's shard, routed by id; the
//! every-author post list by scatter-gather.

use std::collections::HashMap;

use async_trait::async_trait;

use super::ShardedPgStore;
use super::merge::merge_windows;
use crate::error::Result;
use crate::id::{CommentId, PostId, UserId};
use crate::model::{Comment, LikeOutcome, NewComment, NewPost, Post, PostPatch, PostQuery};
use crate::page::{Seek, Window};
use crate::postgres::posts::Followees;
use crate::repo::{CommentRepo, FollowRepo, LikeRepo, PostRepo, UserRepo};

#[async_trait]
impl PostRepo for ShardedPgStore {
    async fn create_post(&self, new: NewPost) -> Result<Post> {
        crate::validate::new_post(&new)?;
        self.at(new.author.0)?.create_post(new).await
    }

    async fn post(&self, id: PostId) -> Result<Post> {
        self.at(id.0)?.post(id).await
    }

    async fn update_post(&self, id: PostId, patch: PostPatch) -> Result<Post> {
        self.at(id.0)?.update_post(id, patch).await
    }

    async fn delete_post(&self, id: PostId) -> Result<()> {
        self.at(id.0)?.delete_post(id).await
    }

    async fn posts_by_author(&self, author: UserId, seek: &Seek) -> Result<Window<Post>> {
        self.at(author.0)?.posts_by_author(author, seek).await
    }

    async fn list_posts(&self, query: &PostQuery, seek: &Seek) -> Result<Window<Post>> {
        crate::page::check_seek(seek)?;
        if let Some(author) = query.author {
            // One shard; the viewer's follow edge lives on the viewer's shard.
            let follows = match query.viewer {
                Some(v) if v != author && self.is_following(v, author).await? => vec![author.0],
                _ => Vec::new(),
            };
            return self
                .at(author.0)?
                .list_posts_seen(query, Followees::Known(follows), seek)
                .await;
        }
        let followees = match query.viewer {
            Some(v) => self.followees_by_shard(v).await?,
            None => vec![Vec::new(); self.shard_count()],
        };
        let followees = &followees;
        let windows = self
            .gather(|i, s| {
                let known = followees.get(i as usize).cloned().unwrap_or_default();
                let (query, seek) = (*query, seek.clone());
                async move {
                    s.list_posts_seen(&query, Followees::Known(known), &seek)
                        .await
                }
            })
            .await?;
        merge_windows(query.list(), seek, windows)
    }

    async fn posts_by_ids(&self, ids: &[PostId]) -> Result<Vec<Post>> {
        crate::validate::post_ids(ids)?;
        let mut by_shard: HashMap<u32, Vec<PostId>> = HashMap::new();
        for id in ids {
            by_shard.entry(self.index_of(id.0)).or_default().push(*id);
        }
        let by_shard = &by_shard;
        let found = self
            .gather(|i, s| {
                let mine = by_shard.get(&i).cloned().unwrap_or_default();
                async move {
                    if mine.is_empty() {
                        return Ok(Vec::new());
                    }
                    s.posts_by_ids(&mine).await
                }
            })
            .await?;
        let mut found: HashMap<PostId, Post> =
            found.into_iter().flatten().map(|p| (p.id, p)).collect();
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }
}

#[async_trait]
impl LikeRepo for ShardedPgStore {
    async fn like(&self, user: UserId, post: PostId) -> Result<LikeOutcome> {
        let shard = self.at(post.0)?;
        // The post first (its `NotFound` wins, as in one database), then the liker's shard.
        shard.post(post).await?;
        self.user(user).await?;
        shard.like(user, post).await
    }

    async fn unlike(&self, user: UserId, post: PostId) -> Result<LikeOutcome> {
        self.at(post.0)?.unlike(user, post).await
    }

    async fn has_liked(&self, user: UserId, post: PostId) -> Result<bool> {
        self.at(post.0)?.has_liked(user, post).await
    }

    async fn count_like_rows(&self, post: PostId) -> Result<u64> {
        self.at(post.0)?.count_like_rows(post).await
    }
}

#[async_trait]
impl CommentRepo for ShardedPgStore {
    async fn add_comment(&self, new: NewComment) -> Result<Comment> {
        crate::validate::new_comment(&new)?;
        let shard = self.at(new.post.0)?;
        shard.post(new.post).await?;
        self.user(new.author).await?;
        if let Some(parent) = new.parent
            && self.index_of(parent.0) != self.index_of(new.post.0)
        {
            // Comments live with their post: a parent on another shard is another post's.
            self.comment(parent).await?;
            return Err(crate::error::StorageError::invalid(
                "parent",
                "the parent comment belongs to another post",
            ));
        }
        shard.add_comment(new).await
    }

    async fn comment(&self, id: CommentId) -> Result<Comment> {
        self.at(id.0)?.comment(id).await
    }

    async fn comments(
        &self,
        post: PostId,
        parent: Option<CommentId>,
        seek: &Seek,
    ) -> Result<Window<Comment>> {
        self.at(post.0)?.comments(post, parent, seek).await
    }

    async fn delete_comment(&self, id: CommentId) -> Result<u64> {
        self.at(id.0)?.delete_comment(id).await
    }
}
