//! Keyset pagination over an in-memory slice sorted by a [`SortSpec`]: the same semantics as
//! the SQL backend, for in-memory repositories and tests.
//!
//! ```
//! use keel_pagination::keyset::{memory, Seek};
//! use keel_pagination::{SortSpec, SortValue, ValueKind};
//!
//! let spec = SortSpec::builder().desc("score", ValueKind::I64).tiebreaker("id", ValueKind::I64)?;
//! let mut rows = vec![(1_i64, 10_i64), (2, 30), (3, 30), (4, 20)]; // (id, score)
//! let key = |r: &(i64, i64)| vec![SortValue::I64(r.1), SortValue::I64(r.0)];
//! spec.sort_by_key(&mut rows, key);
//! let first = memory::paginate(&rows, &spec, &Seek::first(2), key)?;
//! assert_eq!(first.items, vec![(3, 30), (2, 30)]); // ties broken by id, descending like score
//! assert!(first.has_next && !first.has_prev);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::Ordering;

use super::{Direction, Position, Seek, Window, assemble};
use crate::error::KeysetError;
use crate::sort::SortSpec;
use crate::value::SortValue;

/// One page of `items`, which must already be sorted by `spec` (see [`SortSpec::sort_by_key`]);
/// `key` returns a row's sort values, one per field of `spec`, tiebreaker last.
///
/// Cost: O(log n) calls of `key` to find the position, plus the page.
///
/// # Errors
/// A [`KeysetError`] when the seek's position or a row's values do not fit `spec`.
pub fn paginate<T: Clone>(
    items: &[T],
    spec: &SortSpec,
    seek: &Seek,
    key: impl Fn(&T) -> Vec<SortValue>,
) -> Result<Window<T>, KeysetError> {
    spec.check_position(&seek.position)?;
    let cmp = |item: &T, pos: &Position| spec.compare(&key(item), pos.values());
    // Rows a backward read from `pos` returns: those before it (and the anchor, if inclusive).
    let before_count = |pos: &Position| {
        if pos.is_edge() {
            return items.len();
        }
        items.partition_point(|it| match cmp(it, pos) {
            Ordering::Less => true,
            Ordering::Equal => pos.is_inclusive(),
            Ordering::Greater => false,
        })
    };
    // The first row a forward read from `pos` returns.
    let after_start = |pos: &Position| {
        if pos.is_edge() {
            return 0;
        }
        items.partition_point(|it| match cmp(it, pos) {
            Ordering::Less => true,
            Ordering::Equal => !pos.is_inclusive(),
            Ordering::Greater => false,
        })
    };
    let take = seek.limit.saturating_add(1);
    let slice: Vec<&T> = match seek.direction {
        Direction::Forward => {
            let start = after_start(&seek.position);
            let end = start.saturating_add(take).min(items.len());
            items.get(start..end).unwrap_or_default().iter().collect()
        }
        Direction::Backward => {
            let end = before_count(&seek.position);
            let start = end.saturating_sub(take);
            items
                .get(start..end)
                .unwrap_or_default()
                .iter()
                .rev()
                .collect()
        }
    };
    let mut fetched = Vec::with_capacity(slice.len());
    for item in slice {
        let values = key(item);
        spec.check_values(&values)?;
        fetched.push((item.clone(), values));
    }
    Ok(assemble(seek, fetched, |pos| match seek.direction {
        Direction::Forward => before_count(pos) > 0,
        Direction::Backward => after_start(pos) < items.len(),
    }))
}
