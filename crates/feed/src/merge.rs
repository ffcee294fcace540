//! The k-way merge of fan-out on read: newest-first lists merged with a heap.

use std::collections::{BinaryHeap, HashSet};

use crate::model::TimelineEntry;

/// Merges lists that are each sorted newest first into one newest-first list of at most
/// `limit` entries, dropping repeated posts. Costs O(limit · log k) after the lists are built.
pub fn merge_newest(lists: &[Vec<TimelineEntry>], limit: usize) -> Vec<TimelineEntry> {
    let mut heap = BinaryHeap::with_capacity(lists.len());
    for (i, l) in lists.iter().enumerate() {
        if let Some(first) = l.first() {
            heap.push((first.position, i, 0usize));
        }
    }
    let mut out = Vec::with_capacity(limit.min(64));
    let mut seen = HashSet::new();
    while out.len() < limit {
        let Some((_, list, idx)) = heap.pop() else {
            break;
        };
        let Some(l) = lists.get(list) else { continue };
        if let Some(e) = l.get(idx)
            && seen.insert(e.post())
        {
            out.push(*e);
        }
        if let Some(next) = l.get(idx + 1) {
            heap.push((next.position, list, idx + 1));
        }
    }
    out
}
