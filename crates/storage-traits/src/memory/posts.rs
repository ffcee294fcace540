//! Posts in the memory backend.

use super::Tx;
use super::state::{MAX_ID, MAX_TS, MIN_ID, MIN_TS, State};
use crate::error::{Entity, Result, StorageError};
use crate::event::Event;
use crate::id::{CommentId, PostId, UserId};
use crate::model::{NewPost, Post, PostPatch, Visibility, apply_post_patch, post_terms};
use crate::page::{Page, PageRequest, Position};
use crate::repo::SearchHit;
use crate::text;

impl State {
    pub(super) fn post(&self, id: PostId) -> Result<&Post> {
        self.posts
            .get(&id)
            .ok_or_else(|| StorageError::not_found(Entity::Post, id))
    }

    pub(super) fn create_post(&mut self, tx: &Tx<'_>, new: NewPost) -> Result<Post> {
        self.user(new.author)?;
        let post = Post {
            id: PostId(tx.ids.next_at(tx.now)),
            author: new.author,
            hashtags: text::hashtags(&new.content),
            mentions: text::mentions(&new.content),
            content: new.content,
            media: new.media,
            kind: new.kind,
            visibility: new.visibility,
            like_count: 0,
            comment_count: 0,
            created_at: tx.now,
            updated_at: tx.now,
        };
        self.posts_by_author
            .insert((post.author, post.created_at, post.id));
        self.post_index.insert(post.id, post_terms(&post));
        self.posts.insert(post.id, post.clone());
        self.emit(
            tx,
            Event::PostCreated {
                post: post.id,
                author: post.author,
                visibility: post.visibility,
            },
        );
        Ok(post)
    }

    pub(super) fn update_post(
        &mut self,
        tx: &Tx<'_>,
        id: PostId,
        patch: PostPatch,
    ) -> Result<Post> {
        let mut post = self.post(id)?.clone();
        apply_post_patch(&mut post, patch, tx.now)?;
        self.post_index.insert(post.id, post_terms(&post));
        self.posts.insert(id, post.clone());
        self.emit(
            tx,
            Event::PostUpdated {
                post: id,
                author: post.author,
            },
        );
        Ok(post)
    }

    /// Removes a post with its likes and comments (no event, no check).
    pub(super) fn remove_post(&mut self, id: PostId) {
        let Some(post) = self.posts.remove(&id) else {
            return;
        };
        self.posts_by_author
            .remove(&(post.author, post.created_at, post.id));
        self.post_index.remove(id);
        let likers: Vec<UserId> = self
            .likes_by_post
            .range((id, UserId(MIN_ID))..=(id, UserId(MAX_ID)))
            .map(|(_, u)| *u)
            .collect();
        for u in likers {
            self.remove_like(u, id);
        }
        let comments: Vec<CommentId> = self
            .comment_idx
            .range(
                (id, None, MIN_TS, CommentId(MIN_ID))
                    ..=(id, Some(CommentId(MAX_ID)), MAX_TS, CommentId(MAX_ID)),
            )
            .map(|k| k.3)
            .collect();
        for c in comments {
            self.remove_comment_row(c);
        }
    }

    pub(super) fn delete_post(&mut self, tx: &Tx<'_>, id: PostId) -> Result<()> {
        let author = self.post(id)?.author;
        self.remove_post(id);
        self.emit(tx, Event::PostDeleted { post: id, author });
        Ok(())
    }

    pub(super) fn posts_by_author(&self, author: UserId, page: &PageRequest) -> Result<Page<Post>> {
        let limit = page.checked_limit()?;
        let lo = (author, MIN_TS, PostId(MIN_ID));
        let keys: Vec<_> = match page.time_id()? {
            Some((at, id)) => self
                .posts_by_author
                .range(lo..(author, at, PostId(id)))
                .rev()
                .take(limit + 1)
                .collect(),
            None => self
                .posts_by_author
                .range(lo..=(author, MAX_TS, PostId(MAX_ID)))
                .rev()
                .take(limit + 1)
                .collect(),
        };
        let items = keys
            .into_iter()
            .filter_map(|(_, _, id)| self.posts.get(id).cloned())
            .collect();
        Ok(Page::from_overfetch(items, limit, |p: &Post| {
            Position::TimeId {
                at: p.created_at,
                id: p.id.0,
            }
        }))
    }

    pub(super) fn posts_by_ids(&self, ids: &[PostId]) -> Vec<Post> {
        let mut seen = std::collections::HashSet::new();
        ids.iter()
            .filter(|id| seen.insert(**id))
            .filter_map(|id| self.posts.get(id).cloned())
            .collect()
    }

    pub(super) fn search_posts(
        &self,
        query: &str,
        page: &PageRequest,
    ) -> Result<Page<SearchHit<Post>>> {
        let limit = page.checked_limit()?;
        let offset = page.offset()?;
        let scores = self.post_index.search(&text::query_terms(query));
        let mut hits: Vec<(f32, PostId)> = scores
            .into_iter()
            .filter(|(id, _)| {
                self.posts
                    .get(id)
                    .is_some_and(|p| p.visibility == Visibility::Public)
            })
            .map(|(id, s)| (s, id))
            .collect();
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        let items: Vec<SearchHit<Post>> = hits
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit + 1)
            .filter_map(|(score, id)| {
                self.posts.get(&id).map(|p| SearchHit {
                    item: p.clone(),
                    score,
                })
            })
            .collect();
        Ok(offset_page(items, limit, offset))
    }
}

/// A page of ranked results starting at `offset`, from up to `limit + 1` items.
pub(super) fn offset_page<T>(items: Vec<T>, limit: usize, offset: u64) -> Page<T> {
    let next = offset.saturating_add(limit as u64);
    Page::from_overfetch(items, limit, |_| Position::Offset { offset: next })
}
