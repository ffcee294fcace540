//! The k-way merge of fan-out on read: newest-first lists merged with a heap.

use std::collections::BinaryHeap;

use crate::model::TimelineEntry;

/// Merges lists that are each sorted newest first (and hold no repeats) into one newest-first
/// list of at most `limit` entries, dropping repeated posts. Costs O(limit · log k) after the
/// lists are built.
///
/// A post has one position wherever it appears, so repeats arrive next to each other and are
/// dropped by comparing with the previous output, without a hash set.
pub fn merge_newest(lists: &[Vec<TimelineEntry>], limit: usize) -> Vec<TimelineEntry> {
    let mut nonempty = lists.iter().filter(|l| !l.is_empty());
    match (nonempty.next(), nonempty.next()) {
        (None, _) => return Vec::new(),
        (Some(only), None) => return only.iter().take(limit).copied().collect(),
        _ => {}
    }
    let mut heap = BinaryHeap::with_capacity(lists.len());
    for (i, l) in lists.iter().enumerate() {
        if let Some(first) = l.first() {
            heap.push((first.position, i, 0usize));
        }
    }
    let mut out: Vec<TimelineEntry> = Vec::with_capacity(limit.min(256));
    while out.len() < limit {
        let Some((_, list, idx)) = heap.pop() else {
            break;
        };
        let Some(l) = lists.get(list) else { continue };
        if let Some(e) = l.get(idx)
            && out.last().is_none_or(|last| last.position != e.position)
        {
            out.push(*e);
        }
        if let Some(next) = l.get(idx + 1) {
            heap.push((next.position, list, idx + 1));
        }
    }
    out
}

/// Merges `extra` (in any order, repeats allowed) into `base` (sorted newest first, without
/// repeats) into one newest-first list of at most `limit` entries, dropping repeated posts.
///
/// The same result as [`merge_newest`] over the sorted `extra` and `base`, built for the hybrid
/// read: one long stored page and a few pulled entries. `extra` is sorted (a handful of
/// entries), then merged with `base` in one linear pass: no heap.
pub fn merge_into(
    base: &[TimelineEntry],
    mut extra: Vec<TimelineEntry>,
    limit: usize,
) -> Vec<TimelineEntry> {
    extra.sort_unstable_by_key(|e| std::cmp::Reverse(e.position));
    let mut out: Vec<TimelineEntry> = Vec::with_capacity(limit.min(base.len() + extra.len()));
    let (mut stored, mut pulled) = (base.iter().peekable(), extra.iter().peekable());
    while out.len() < limit {
        let next = match (stored.peek(), pulled.peek()) {
            (Some(s), Some(p)) if s.position >= p.position => stored.next(),
            (Some(_), Some(_)) | (None, Some(_)) => pulled.next(),
            (Some(_), None) => stored.next(),
            (None, None) => None,
        };
        let Some(e) = next else { break };
        if out.last().is_none_or(|last| last.position != e.position) {
            out.push(*e);
        }
    }
    out
}
