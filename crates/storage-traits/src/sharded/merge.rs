//! Merging the keyset windows of several shards into one window of the same list.

use keel_pagination::keyset::Direction;

use crate::error::Result;
use crate::page::{List, Position, Seek, SortValue, Window};

/// Merges windows that `shards` answered for the same `seek` on `list` into one window.
///
/// Each shard window holds at most `seek.limit` rows on its side of the seek's position, in
/// list order. The merge sorts every row by the list's sort (tiebreaker included, so the order
/// is total) and keeps the first `limit` rows reading forward, the last `limit` reading
/// backward. A row it drops, or a shard with more rows, sets `has_next` (forward) or
/// `has_prev` (backward); the flag on the position's side is any shard's. `next` and `prev`
/// are the last and first rows' positions; an empty page keeps the first shard's (all
/// shards answer an empty page alike), or the seek's position when no shard answered.
///
/// # Errors
/// Never in practice (the list specs are fixed); see [`List::spec`].
pub fn merge_windows<T>(list: List, seek: &Seek, windows: Vec<Window<T>>) -> Result<Window<T>> {
    let spec = list.spec()?;
    let mut has_next = false;
    let mut has_prev = false;
    // An empty page keeps the positions every shard gave for the same seek.
    let (mut empty_next, mut empty_prev) = (seek.position.clone(), seek.position.clone());
    if let Some(w) = windows.first() {
        (empty_next, empty_prev) = (w.next.clone(), w.prev.clone());
    }
    let mut rows: Vec<(Vec<SortValue>, T)> = Vec::new();
    for w in windows {
        has_next |= w.has_next;
        has_prev |= w.has_prev;
        rows.extend(w.item_values.into_iter().zip(w.items));
    }
    rows.sort_by(|a, b| spec.compare(&a.0, &b.0));
    let extra = rows.len().saturating_sub(seek.limit);
    if extra > 0 {
        match seek.direction {
            Direction::Forward => {
                rows.truncate(seek.limit);
                has_next = true;
            }
            Direction::Backward => {
                rows.drain(..extra);
                has_prev = true;
            }
        }
    }
    let (item_values, items): (Vec<Vec<SortValue>>, Vec<T>) = rows.into_iter().unzip();
    let next = item_values
        .last()
        .map_or(empty_next, |v| Position::after(v.clone()));
    let prev = item_values
        .first()
        .map_or(empty_prev, |v| Position::after(v.clone()));
    Ok(Window {
        items,
        item_values,
        next,
        prev,
        has_next,
        has_prev,
        total: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_pagination::keyset::memory::paginate;
    use proptest::prelude::*;

    fn values(v: &(i64, u128)) -> Vec<SortValue> {
        vec![
            SortValue::I64(v.0),
            SortValue::Uuid(uuid::Uuid::from_u128(v.1)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Paging through merged shard windows reads the same rows as paging through all rows
        /// at once, forward and backward.
        #[test]
        fn merged_pages_equal_one_list(
            rows in proptest::collection::btree_set((0i64..20, 0u128..1000), 0..40),
            shards in 1usize..5,
            limit in 1usize..7,
        ) {
            let spec = List::PostsByAuthor.spec().unwrap();
            let mut all: Vec<(i64, u128)> = rows.into_iter().collect();
            all.sort_by(|a, b| spec.compare(&values(a), &values(b)));
            let parts: Vec<Vec<(i64, u128)>> = (0..shards)
                .map(|s| all.iter().copied().filter(|r| (r.1 as usize) % shards == s).collect())
                .collect();
            for direction in [Direction::Forward, Direction::Backward] {
                let mut seek = Seek { direction, position: Position::edge(), limit };
                let mut read = Vec::new();
                for _ in 0..100 {
                    let windows = parts
                        .iter()
                        .map(|p| paginate(p, &spec, &seek, values).unwrap())
                        .collect();
                    let whole = paginate(&all, &spec, &seek, values).unwrap();
                    let merged = merge_windows(List::PostsByAuthor, &seek, windows).unwrap();
                    prop_assert_eq!(&merged.items, &whole.items);
                    prop_assert_eq!(&merged.next, &whole.next);
                    prop_assert_eq!(&merged.prev, &whole.prev);
                    prop_assert_eq!(merged.has_next, whole.has_next);
                    prop_assert_eq!(merged.has_prev, whole.has_prev);
                    let more = if direction == Direction::Forward { merged.has_next } else { merged.has_prev };
                    read.extend(merged.items);
                    if !more { break; }
                    seek.position = if direction == Direction::Forward { merged.next } else { merged.prev };
                }
                read.sort_by(|a, b| spec.compare(&values(a), &values(b)));
                prop_assert_eq!(&read, &all);
            }
        }
    }
}
