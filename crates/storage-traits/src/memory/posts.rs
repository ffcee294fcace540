//! Posts in the memory backend.

use std::ops::Bound;

use super::Tx;
use super::state::{MAX_ID, MAX_TS, MIN_ID, MIN_TS, State};
use crate::clock::Timestamp;
use crate::error::{Entity, Result, StorageError};
use crate::event::Event;
use crate::id::{CommentId, PostId, UserId};
use crate::model::{NewPost, Post, PostPatch, PostQuery, Visibility, apply_post_patch, post_terms};
use crate::page::{
    List, MAX_SEARCH_HITS, Ordered, RangeFn, Seek, SortValue, Window, anchor, check_seek,
    paginate_keys,
};
use crate::repo::{SearchHit, SearchIndexing};
use crate::text;

impl State {
    pub(super) fn post(&self, id: PostId) -> Result<&Post> {
        self.posts
            .get(&id)
            .ok_or_else(|| StorageError::not_found(Entity::Post, id))
    }

    pub(super) fn create_post(&mut self, tx: &Tx<'_>, new: NewPost) -> Result<Post> {
        // Minted before the author check, as PostgreSQL does (see `create_user`).
        let id = PostId(tx.ids.next_at(tx.now));
        self.user(new.author)?;
        let post = Post {
            id,
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
        self.posts_by_time.insert((post.created_at, post.id));
        if self.search == SearchIndexing::Inline {
            self.post_index.insert(post.id, post_terms(&post));
        }
        self.posts.insert(post.id, post.clone());
        self.emit(
            tx,
            Event::PostCreated {
                post: post.id,
                author: post.author,
                visibility: post.visibility,
                created_at: post.created_at,
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
        if self.search == SearchIndexing::Inline {
            self.post_index.insert(post.id, post_terms(&post));
        }
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
        self.posts_by_time.remove(&(post.created_at, post.id));
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

    pub(super) fn posts_by_author(&self, author: UserId, seek: &Seek) -> Result<Window<Post>> {
        check_seek(seek)?;
        let anchor = anchor(seek, |v| match v {
            [SortValue::I64(at), SortValue::Uuid(id)] => {
                Some((author, Timestamp::from_micros(*at), PostId(*id)))
            }
            _ => None,
        })?;
        let index = Ordered {
            range: &|a, b| Box::new(self.posts_by_author.range((a, b))),
            lo: (author, MIN_TS, PostId(MIN_ID)),
            hi: (author, MAX_TS, PostId(MAX_ID)),
            desc: true,
            key: |k: &&(UserId, Timestamp, PostId)| **k,
        };
        paginate_keys(
            &index.slice(seek, anchor.as_ref()),
            List::PostsByAuthor,
            seek,
            |(_, at, id)| vec![SortValue::I64(at.as_micros()), SortValue::Uuid(id.0)],
            |(_, _, id)| self.posts.get(id).cloned(),
        )
    }

    pub(super) fn list_posts(&self, query: &PostQuery, seek: &Seek) -> Result<Window<Post>> {
        type Key = (Timestamp, PostId);
        check_seek(seek)?;
        let list = query.list();
        let anchor = anchor(seek, |v| match v {
            [SortValue::I64(at), SortValue::Uuid(id)] => {
                Some((Timestamp::from_micros(*at), PostId(*id)))
            }
            _ => None,
        })?;
        let Some((lo, hi)) = query.time_range() else {
            return paginate_keys(&[], list, seek, time_values, |_| None::<Post>);
        };
        // What the viewer may see, filtering the index the query reads (one author's posts or
        // every post), both as (created_at, post) keys.
        let visible = |key: &Key| {
            self.posts.get(&key.1).is_some_and(|p| {
                query.admits(p, || {
                    query.viewer.is_some_and(|v| self.is_following(v, p.author))
                })
            })
        };
        let by_author;
        let by_time;
        let range: &RangeFn<'_, Key, Key> = match query.author {
            Some(author) => {
                let widen = move |x: Bound<&Key>| match x {
                    Bound::Included(k) => Bound::Included((author, k.0, k.1)),
                    Bound::Excluded(k) => Bound::Excluded((author, k.0, k.1)),
                    Bound::Unbounded => Bound::Unbounded,
                };
                by_author = move |a: Bound<&Key>, b: Bound<&Key>| {
                    Box::new(
                        self.posts_by_author
                            .range((widen(a), widen(b)))
                            .map(|(_, at, id)| (*at, *id))
                            .filter(visible),
                    ) as Box<dyn DoubleEndedIterator<Item = Key>>
                };
                &by_author
            }
            None => {
                by_time = move |a: Bound<&Key>, b: Bound<&Key>| {
                    Box::new(self.posts_by_time.range((a, b)).copied().filter(visible))
                        as Box<dyn DoubleEndedIterator<Item = Key>>
                };
                &by_time
            }
        };
        let index = Ordered {
            range,
            lo: (lo, PostId(MIN_ID)),
            hi: (hi, PostId(MAX_ID)),
            desc: list == List::Posts,
            key: |k: &Key| *k,
        };
        paginate_keys(
            &index.slice(seek, anchor.as_ref()),
            list,
            seek,
            time_values,
            |(_, id)| self.posts.get(id).cloned(),
        )
    }

    pub(super) fn posts_by_ids(&self, ids: &[PostId]) -> Vec<Post> {
        let mut seen = std::collections::HashSet::new();
        ids.iter()
            .filter(|id| seen.insert(**id))
            .filter_map(|id| self.posts.get(id).cloned())
            .collect()
    }

    /// Indexes `id`'s current text, or forgets it when the post is gone.
    pub(super) fn reindex_post(&mut self, id: PostId) {
        match self.posts.get(&id) {
            Some(post) => {
                let terms = post_terms(post);
                self.post_index.insert(id, terms);
            }
            None => self.post_index.remove(id),
        }
    }

    pub(super) fn search_posts(&self, query: &str, seek: &Seek) -> Result<Window<SearchHit<Post>>> {
        let scores = self.post_index.search(&text::query_terms(query));
        let hits = rank(scores, |id| {
            self.posts
                .get(id)
                .is_some_and(|p| p.visibility == Visibility::Public)
        });
        paginate_keys(
            &hits,
            List::SearchPosts,
            seek,
            |(score, id)| vec![SortValue::F64(*score), SortValue::Uuid(id.0)],
            |(score, id)| {
                self.posts.get(id).map(|p| SearchHit {
                    item: p.clone(),
                    score: *score,
                })
            },
        )
    }
}

/// The sort values of a (created_at, post) key.
fn time_values((at, id): &(Timestamp, PostId)) -> Vec<SortValue> {
    vec![SortValue::I64(at.as_micros()), SortValue::Uuid(id.0)]
}

/// Search hits kept by `keep`, best first (score desc, id desc), at most [`MAX_SEARCH_HITS`].
pub(super) fn rank<K: Copy + Ord + std::hash::Hash>(
    scores: std::collections::HashMap<K, f32>,
    keep: impl Fn(&K) -> bool,
) -> Vec<(f64, K)> {
    let mut hits: Vec<(f64, K)> = scores
        .into_iter()
        .filter(|(id, _)| keep(id))
        .map(|(id, s)| (f64::from(s), id))
        .collect();
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    hits.truncate(MAX_SEARCH_HITS);
    hits
}
