//! Every list is a keyset list of `keel-pagination`: it takes a [`Seek`] and returns a
//! [`Window`], ready to become a page with signed cursors.
//!
//! [`List`] names each list and gives its [`SortSpec`] (and so the sort values each item
//! carries), which the API edge needs to build the cursor's `QueryKey`:
//!
//! ```
//! use keel_pagination::{CursorCodec, KeyRing, LimitPolicy, PageRequest, QueryKey};
//! use keel_storage::page::List;
//! # let author = uuid::Uuid::nil();
//!
//! let codec = CursorCodec::new(KeyRing::new(1, &[7u8; 32])?);
//! let spec = List::PostsByAuthor.spec()?;
//! let query = QueryKey::new(List::PostsByAuthor.resource(), &spec).filter("author", &author.to_string());
//! let seek = PageRequest::with_limit(20).seek(&codec, &query, &LimitPolicy::default())?;
//! // let window = store.posts_by_author(UserId(author), &seek).await?;
//! // let page = window.into_page(&codec, &query)?;
//! # let _ = seek;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Pages go both ways (`after` and `before` cursors) and never skip or repeat a row, because a
//! position holds the anchor row's sort values, tiebreaker included. Ranked search lists are
//! keyset lists too, over `(score, id)`, capped at the [`MAX_SEARCH_HITS`] best matches.

pub use keel_pagination::keyset::{Direction, Position, Seek, Window};
pub use keel_pagination::{SortSpec, SortValue, ValueKind};

use std::ops::Bound;

use keel_pagination::KeysetError;

use crate::error::{Result, StorageError};

/// Largest page any list returns; a larger [`Seek::limit`] is invalid input (clamp it with a
/// `keel_pagination::LimitPolicy` at the edge).
pub const MAX_PAGE_SIZE: usize = 200;

/// Most matches a search ranks; pages walk through these.
pub const MAX_SEARCH_HITS: usize = 1000;

/// The lists of the repositories, each with its sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum List {
    /// An author's posts, newest first: `created_at` desc, `id` desc.
    PostsByAuthor,
    /// Filtered posts ([`PostQuery`](crate::PostQuery)), newest first: `created_at` desc, `id` desc.
    Posts,
    /// Filtered posts ([`PostQuery`](crate::PostQuery)), oldest first: `created_at` asc, `id` asc.
    PostsOldestFirst,
    /// A user's followers, most recent first: `created_at` desc, `follower_id` desc.
    Followers,
    /// Whom a user follows, most recent first: `created_at` desc, `followee_id` desc.
    Following,
    /// A thread level of comments, oldest first: `created_at` asc, `id` asc.
    Comments,
    /// Users by lowercased username: `username_lower` asc.
    UsersByPrefix,
    /// Post search hits, best first: `score` desc, `id` desc.
    SearchPosts,
    /// A user's notifications, newest first: `created_at` desc, `id` desc.
    Notifications,
    /// User search hits, best first: `score` desc, `id` desc.
    SearchUsers,
    /// A user's API keys, newest first: `created_at` desc, `id` desc.
    ApiKeys,
}

impl List {
    /// The resource name to build a cursor's `QueryKey` with.
    pub fn resource(self) -> &'static str {
        match self {
            List::PostsByAuthor => "posts_by_author",
            List::Posts => "posts",
            List::Notifications => "notifications",
            List::PostsOldestFirst => "posts_oldest_first",
            List::Followers => "followers",
            List::Following => "following",
            List::Comments => "comments",
            List::UsersByPrefix => "users_by_prefix",
            List::SearchPosts => "search_posts",
            List::SearchUsers => "search_users",
            List::ApiKeys => "api_keys",
        }
    }

    /// The sort of this list. Its field names are the PostgreSQL columns.
    ///
    /// # Errors
    /// Never in practice (the specs are fixed and valid); a spec error would be a
    /// [`StorageError::InvalidInput`].
    pub fn spec(self) -> Result<SortSpec> {
        use ValueKind::{F64, I64, Text, Uuid};
        let b = SortSpec::builder();
        match self {
            List::PostsByAuthor | List::Posts | List::Notifications | List::ApiKeys => {
                b.desc("created_at", I64).tiebreaker("id", Uuid)
            }
            List::Followers => b.desc("created_at", I64).tiebreaker("follower_id", Uuid),
            List::Following => b.desc("created_at", I64).tiebreaker("followee_id", Uuid),
            List::PostsOldestFirst | List::Comments => {
                b.asc("created_at", I64).tiebreaker("id", Uuid)
            }
            List::UsersByPrefix => b.tiebreaker("username_lower", Text),
            List::SearchPosts | List::SearchUsers => b.desc("score", F64).tiebreaker("id", Uuid),
        }
        .map_err(keyset_error)
    }
}

/// Maps a keyset error (a position that does not fit the list's sort) to invalid input.
#[allow(clippy::needless_pass_by_value)] // used as `map_err(keyset_error)`
pub(crate) fn keyset_error(e: KeysetError) -> StorageError {
    StorageError::invalid("position", format!("{e}; pass a cursor made for this list"))
}

/// Checks a seek's limit (1 to [`MAX_PAGE_SIZE`]).
pub(crate) fn check_seek(seek: &Seek) -> Result<()> {
    if seek.limit == 0 || seek.limit > MAX_PAGE_SIZE {
        return Err(StorageError::invalid(
            "limit",
            format!("1 to {MAX_PAGE_SIZE} items per page"),
        ));
    }
    Ok(())
}

/// One window over `keys` (already in list order) with `keel-pagination`'s in-memory keyset,
/// then each key turned into its item by `load` (keys whose item vanished are dropped).
pub(crate) fn paginate_keys<K: Clone, T>(
    keys: &[K],
    list: List,
    seek: &Seek,
    sort_values: impl Fn(&K) -> Vec<SortValue>,
    load: impl Fn(&K) -> Option<T>,
) -> Result<Window<T>> {
    check_seek(seek)?;
    let spec = list.spec()?;
    let w = keel_pagination::keyset::memory::paginate(keys, &spec, seek, sort_values)
        .map_err(keyset_error)?;
    let (items, item_values) = w
        .items
        .iter()
        .zip(w.item_values)
        .filter_map(|(k, v)| load(k).map(|t| (t, v)))
        .unzip();
    Ok(Window {
        items,
        item_values,
        next: w.next,
        prev: w.prev,
        has_next: w.has_next,
        has_prev: w.has_prev,
        total: w.total,
    })
}

/// The anchor key of a seek's position (`None` for an edge), or invalid input when the
/// position's values do not fit the list.
pub(crate) fn anchor<K>(seek: &Seek, key: impl Fn(&[SortValue]) -> Option<K>) -> Result<Option<K>> {
    if seek.position.is_edge() {
        return Ok(None);
    }
    key(seek.position.values()).map(Some).ok_or_else(|| {
        StorageError::invalid(
            "position",
            "the position does not fit this list's sort; pass a cursor made for this list",
        )
    })
}

/// Entries of an ordered index whose keys fall in the bounds, in ascending key order.
pub(crate) type RangeFn<'a, K, X> =
    dyn Fn(Bound<&K>, Bound<&K>) -> Box<dyn DoubleEndedIterator<Item = X> + 'a> + 'a;

/// An ordered index the memory backend reads a list from: `range` yields the entries whose keys
/// fall in the bounds, in ascending key order; the list reads them ascending or (`desc`)
/// descending, between `lo` and `hi`.
pub(crate) struct Ordered<'a, K, X> {
    pub(crate) range: &'a RangeFn<'a, K, X>,
    pub(crate) lo: K,
    pub(crate) hi: K,
    pub(crate) desc: bool,
    pub(crate) key: fn(&X) -> K,
}

impl<K: Ord, X> Ordered<'_, K, X> {
    /// Entries in ascending key order between `from` and `to` (inclusive, clamped to the list's
    /// bounds); empty when the bounds cross, where `BTreeMap::range` would panic.
    fn between(
        &self,
        from: Option<&K>,
        to: Option<&K>,
    ) -> Box<dyn DoubleEndedIterator<Item = X> + '_> {
        let from = from.filter(|f| **f > self.lo).unwrap_or(&self.lo);
        let to = to.filter(|t| **t < self.hi).unwrap_or(&self.hi);
        if from > to {
            return Box::new(std::iter::empty());
        }
        (self.range)(Bound::Included(from), Bound::Included(to))
    }

    /// Entries in list order from `at` (inclusive; the list's start when `None`).
    fn forward(&self, at: Option<&K>) -> Box<dyn Iterator<Item = X> + '_> {
        if self.desc {
            Box::new(self.between(None, at).rev())
        } else {
            self.between(at, None)
        }
    }

    /// Entries in reverse list order from `at` (inclusive; the list's end when `None`).
    fn backward(&self, at: Option<&K>) -> Box<dyn Iterator<Item = X> + '_> {
        if self.desc {
            self.between(at, None)
        } else {
            Box::new(self.between(None, at).rev())
        }
    }

    /// The few entries, in list order, that decide the window of `seek` from the anchor key
    /// `anchor` (`None`: an edge): up to `limit + 2` entries on the reading side of the anchor
    /// (the anchor itself included, for inclusive positions) and one entry on the other side
    /// (for `has_prev` / `has_next`). `keel-pagination`'s keyset over this slice gives the
    /// same window as over the whole list, in O(log n + limit).
    pub(crate) fn slice(&self, seek: &Seek, anchor: Option<&K>) -> Vec<X> {
        let take = seek.limit.saturating_add(2);
        let beyond = |it: Box<dyn Iterator<Item = X> + '_>| -> Option<X> {
            let key = self.key;
            it.take(2).find(|x| anchor.is_none_or(|a| key(x) != *a))
        };
        match seek.direction {
            Direction::Forward => {
                let before = anchor.and_then(|a| beyond(self.backward(Some(a))));
                before
                    .into_iter()
                    .chain(self.forward(anchor).take(take))
                    .collect()
            }
            Direction::Backward => {
                let mut out: Vec<X> = self.backward(anchor).take(take).collect();
                out.reverse();
                out.extend(anchor.and_then(|a| beyond(self.forward(Some(a)))));
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_has_a_valid_spec() {
        for l in [
            List::PostsByAuthor,
            List::Posts,
            List::PostsOldestFirst,
            List::Notifications,
            List::Followers,
            List::Following,
            List::Comments,
            List::UsersByPrefix,
            List::SearchPosts,
            List::SearchUsers,
        ] {
            let spec = l.spec().unwrap();
            assert!(spec.tiebreaker().is_some(), "{l:?}");
            assert!(!l.resource().is_empty());
        }
    }

    #[test]
    fn keys_paginate_both_ways_and_limits_are_checked() {
        let keys: Vec<i64> = (0..10).rev().collect();
        let id = |k: &i64| uuid::Uuid::from_u128(u128::try_from(*k).unwrap());
        let vals = |k: &i64| vec![SortValue::I64(*k), SortValue::Uuid(id(k))];
        let w = paginate_keys(&keys, List::PostsByAuthor, &Seek::first(4), vals, |k| {
            Some(*k)
        })
        .unwrap();
        assert_eq!(w.items, [9, 8, 7, 6]);
        assert!(w.has_next && !w.has_prev);
        let back = Seek {
            direction: Direction::Backward,
            position: w.next,
            limit: 2,
        };
        let b = paginate_keys(&keys, List::PostsByAuthor, &back, vals, |k| Some(*k)).unwrap();
        assert_eq!(b.items, [8, 7], "backward pages stay in list order");
        assert!(
            paginate_keys(
                &keys,
                List::PostsByAuthor,
                &Seek::first(MAX_PAGE_SIZE + 1),
                vals,
                |k| Some(*k)
            )
            .is_err()
        );
        let wrong = Seek {
            direction: Direction::Forward,
            position: Position::after(vec![SortValue::Text("x".into())]),
            limit: 2,
        };
        let e = paginate_keys(&keys, List::PostsByAuthor, &wrong, vals, |k| Some(*k)).unwrap_err();
        assert!(
            matches!(
                e,
                StorageError::InvalidInput {
                    field: "position",
                    ..
                }
            ),
            "{e:?}"
        );
    }

    mod slice_equivalence {
        use std::collections::BTreeSet;

        use proptest::prelude::*;

        use super::super::*;

        fn vals(k: u16) -> Vec<SortValue> {
            vec![
                SortValue::I64(i64::from(k)),
                SortValue::Uuid(uuid::Uuid::from_u128(u128::from(k))),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            /// A window read from the few entries `Ordered::slice` picks equals the window read
            /// from the whole list, for any set, bounds, direction, anchor and limit.
            #[test]
            fn slice_gives_the_whole_list_window(
                set in proptest::collection::btree_set(0u16..200, 0..60),
                lo in 0u16..100,
                span in 0u16..120,
                desc in any::<bool>(),
                backward in any::<bool>(),
                limit in 1usize..6,
                anchor_at in proptest::option::of((0u16..220, any::<bool>())),
            ) {
                let set: BTreeSet<u16> = set;
                let hi = lo.saturating_add(span);
                let list = if desc { List::PostsByAuthor } else { List::Comments };
                let mut full: Vec<u16> = set.range(lo..=hi).copied().collect();
                if desc {
                    full.reverse();
                }
                let position = match anchor_at {
                    None => Position::edge(),
                    Some((k, true)) => Position::at(vals(k)),
                    Some((k, false)) => Position::after(vals(k)),
                };
                let seek = Seek {
                    direction: if backward { Direction::Backward } else { Direction::Forward },
                    position,
                    limit,
                };
                let index = Ordered {
                    range: &|a, b| Box::new(set.range((a, b)).copied()),
                    lo,
                    hi,
                    desc,
                    key: |k: &u16| *k,
                };
                let anchor = anchor_at.map(|(k, _)| k);
                let slice = index.slice(&seek, anchor.as_ref());
                prop_assert!(slice.len() <= limit + 3);
                let a = paginate_keys(&full, list, &seek, |k| vals(*k), |k| Some(*k)).unwrap();
                let b = paginate_keys(&slice, list, &seek, |k| vals(*k), |k| Some(*k)).unwrap();
                prop_assert_eq!(a, b);
            }
        }
    }
}
