//! A small inverted index for the memory backend's full-text search.

use std::collections::HashMap;
use std::hash::Hash;

/// Term -> documents -> term frequency, plus each document's terms for removal.
#[derive(Debug)]
pub(crate) struct InvertedIndex<K> {
    postings: HashMap<String, HashMap<K, u32>>,
    docs: HashMap<K, Vec<String>>,
}

impl<K> Default for InvertedIndex<K> {
    fn default() -> Self {
        Self {
            postings: HashMap::new(),
            docs: HashMap::new(),
        }
    }
}

impl<K: Copy + Eq + Hash> InvertedIndex<K> {
    /// Indexes `doc` under `terms`, replacing what it had.
    pub(crate) fn insert(&mut self, doc: K, terms: Vec<String>) {
        self.remove(doc);
        for t in &terms {
            *self
                .postings
                .entry(t.clone())
                .or_default()
                .entry(doc)
                .or_insert(0) += 1;
        }
        self.docs.insert(doc, terms);
    }

    /// Forgets `doc`.
    pub(crate) fn remove(&mut self, doc: K) {
        let Some(terms) = self.docs.remove(&doc) else {
            return;
        };
        for t in terms {
            if let Some(p) = self.postings.get_mut(&t) {
                p.remove(&doc);
                if p.is_empty() {
                    self.postings.remove(&t);
                }
            }
        }
    }

    /// Every document matching at least one of `terms`, with its score: the sum over matched
    /// terms of 1 plus a bonus below 1 that grows with the term's frequency, so matching more
    /// distinct terms always ranks higher than repeating one.
    pub(crate) fn search(&self, terms: &[String]) -> HashMap<K, f32> {
        let mut scores: HashMap<K, f32> = HashMap::new();
        for t in terms {
            if let Some(p) = self.postings.get(t) {
                for (doc, tf) in p {
                    let tf = f64::from((*tf).max(1));
                    let s = 1.0 + (tf.ln() / 16.0).min(0.9);
                    #[allow(clippy::cast_possible_truncation)]
                    let s = s as f32;
                    *scores.entry(*doc).or_insert(0.0) += s;
                }
            }
        }
        scores
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_terms_rank_higher_and_removal_forgets() {
        let mut ix = InvertedIndex::default();
        ix.insert(1, vec!["rust".into(), "async".into()]);
        ix.insert(2, vec!["rust".into(), "rust".into(), "rust".into()]);
        let s = ix.search(&["rust".into(), "async".into()]);
        assert!(s[&1] > s[&2]);
        assert!(s[&2] > 1.0);
        ix.remove(1);
        assert!(!ix.search(&["async".into()]).contains_key(&1));
        ix.insert(2, vec!["go".into()]);
        assert!(ix.search(&["rust".into()]).is_empty());
    }
}
