//! [`QueryKey`]: what a cursor is bound to (its sort and filters), as a fingerprint.

use sha2::{Digest, Sha256};

use crate::sort::SortSpec;

/// The identity of a query: its sort spec and every filter that shapes its result. A cursor
/// carries the fingerprint of the query that issued it and is refused, with
/// [`CursorError::ForeignQuery`](super::CursorError::ForeignQuery), by any other query.
///
/// Add every filter a client can vary (author, status, search text...), in a fixed order.
///
/// ```
/// use keel_pagination::{QueryKey, SortSpec, ValueKind};
/// let spec = SortSpec::builder().tiebreaker("id", ValueKind::I64)?;
/// let a = QueryKey::new("posts", &spec).filter("author", "42");
/// let b = QueryKey::new("posts", &spec).filter("author", "43");
/// assert_ne!(a.fingerprint(), b.fingerprint());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct QueryKey {
    hasher: Sha256,
    fingerprint: [u8; 8],
}

impl QueryKey {
    /// A key for a query named `resource` (the endpoint or table) sorted by `spec`.
    pub fn new(resource: &str, spec: &SortSpec) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"keel-pagination/query/v1\0");
        hash_field(&mut hasher, resource.as_bytes());
        let mut bytes = Vec::new();
        spec.canonical_bytes(&mut bytes);
        hash_field(&mut hasher, &bytes);
        let fingerprint = finish(&hasher);
        Self {
            hasher,
            fingerprint,
        }
    }

    /// Adds a filter and its value (use any stable text form, e.g. the id as a string).
    pub fn filter(mut self, name: &str, value: &str) -> Self {
        hash_field(&mut self.hasher, name.as_bytes());
        hash_field(&mut self.hasher, value.as_bytes());
        self.fingerprint = finish(&self.hasher);
        self
    }

    /// The first 8 bytes of the SHA-256 of the query description: what cursors carry.
    pub fn fingerprint(&self) -> [u8; 8] {
        self.fingerprint
    }
}

fn finish(hasher: &Sha256) -> [u8; 8] {
    let digest = hasher.clone().finalize();
    let mut out = [0u8; 8];
    for (o, d) in out.iter_mut().zip(digest.iter()) {
        *o = *d;
    }
    out
}

/// Length-prefixed, so ("ab","c") and ("a","bc") differ.
fn hash_field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}
