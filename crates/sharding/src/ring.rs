//! Consistent-hash ring with virtual nodes, weights, run-time membership and replica sets.
//!
//! # Layout built for the cache
//! The ring is one sorted array of `(point, shard)` pairs, 16 bytes each, plus an index over
//! the top `b` bits of the hash, with `2^b` between 2 and 4 times the number of points. An
//! index slot whose hash range holds no point (most of them) stores the answer itself, the
//! owner of the next point; the others store the position of their first point, and the
//! lookup scans on from there (about one step). So a lookup is the hash, one read of a 4-byte
//! index slot, and only sometimes one read of the points: no binary search. Building sorts
//! all points once (`O(P log P)`), never one sorted insert per virtual node.
//!
//! # Placement
//! Virtual node `v` of shard `s` sits at `stable_hash(s as u32 LE ++ v as u32 LE)`; a key's
//! position is its [`stable hash`](crate::stable_hash) and it belongs to the first point at
//! or after it, wrapping around. A shard of weight `w` has `w * vnodes` virtual nodes. When
//! two points collide, the lower shard id owns the position (deterministic everywhere).

use crate::{HashSharder, ShardId, ShardingError, WeightedShard, hash::vnode_point};

/// The largest number of points (virtual nodes in total) a ring may hold.
pub const MAX_POINTS: u64 = 1 << 28;

/// Index entry flag: the low bits are the position in `shards` of the answer, not a point.
const DIRECT: u32 = 1 << 31;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Point {
    hash: u64,
    /// The shard id (ties between equal hashes go to the lower id).
    shard: u32,
    /// The shard's position in `Ring::shards` (fills the struct's padding).
    ord: u32,
}

/// A consistent-hash ring.
///
/// ```
/// use keel_sharding::{Ring, Sharder, ShardId};
/// let mut ring = Ring::new((0..10).map(ShardId), 100)?;
/// let home = ring.shard("user:42");
/// ring.add_shard(ShardId(10), 1)?;
/// let now = ring.shard("user:42");
/// assert!(now == home || now == ShardId(10)); // keys only move to the new shard
/// let replicas = ring.replicas("user:42", 3);
/// assert_eq!(replicas.len(), 3); // three distinct shards
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Ring {
    vnodes: u32,
    shards: Vec<WeightedShard>,
    points: Vec<Point>,
    index: Vec<u32>,
    shift: u32,
}

impl Ring {
    /// A ring of equally weighted shards, `vnodes` virtual nodes each.
    pub fn new(
        shards: impl IntoIterator<Item = ShardId>,
        vnodes: u32,
    ) -> Result<Self, ShardingError> {
        Self::weighted(
            shards.into_iter().map(|id| WeightedShard::new(id, 1)),
            vnodes,
        )
    }

    /// A ring of weighted shards: a shard of weight `w` gets `w * vnodes` virtual nodes.
    pub fn weighted(
        shards: impl IntoIterator<Item = WeightedShard>,
        vnodes: u32,
    ) -> Result<Self, ShardingError> {
        if vnodes == 0 {
            return Err(ShardingError::InvalidParameter {
                name: "vnodes",
                reason: "use at least 1 virtual node per unit of weight (100 to 1000 is typical)"
                    .to_owned(),
            });
        }
        let shards = crate::sharder::validate_shards(shards)?;
        let total: u64 = shards
            .iter()
            .map(|s| u64::from(s.weight) * u64::from(vnodes))
            .sum();
        if total > MAX_POINTS {
            return Err(ShardingError::TooManyPoints {
                points: total,
                limit: MAX_POINTS,
            });
        }
        let mut points = Vec::with_capacity(total as usize);
        for (ord, s) in shards.iter().enumerate() {
            push_points(&mut points, *s, ord as u32, vnodes);
        }
        points.sort_unstable();
        dedup_points(&mut points);
        let mut ring = Ring {
            vnodes,
            shards,
            points,
            index: Vec::new(),
            shift: 64,
        };
        ring.rebuild_index();
        Ok(ring)
    }

    /// Virtual nodes per unit of weight.
    pub fn vnodes(&self) -> u32 {
        self.vnodes
    }

    /// The shards, in the order they were added.
    pub fn shards(&self) -> &[WeightedShard] {
        &self.shards
    }

    /// The number of shards.
    pub fn len(&self) -> usize {
        self.shards.len()
    }

    /// Always `false`: a ring keeps at least one shard.
    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// The number of points (virtual nodes) on the ring.
    pub fn point_count(&self) -> usize {
        self.points.len()
    }

    /// Heap memory used, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.points.capacity() * size_of::<Point>()
            + self.index.capacity() * 4
            + self.shards.capacity() * size_of::<WeightedShard>()
    }

    /// Adds a shard of weight `weight` at run time. Only keys that the new shard takes move.
    pub fn add_shard(&mut self, id: ShardId, weight: u32) -> Result<(), ShardingError> {
        if self.shards.iter().any(|s| s.id == id) {
            return Err(ShardingError::DuplicateShard(id));
        }
        if weight == 0 {
            return Err(ShardingError::ZeroWeight(id));
        }
        let added = u64::from(weight) * u64::from(self.vnodes);
        let total = self.points.len() as u64 + added;
        if total > MAX_POINTS {
            return Err(ShardingError::TooManyPoints {
                points: total,
                limit: MAX_POINTS,
            });
        }
        let shard = WeightedShard::new(id, weight);
        let mut fresh = Vec::with_capacity(added as usize);
        push_points(&mut fresh, shard, self.shards.len() as u32, self.vnodes);
        fresh.sort_unstable();
        // Linear merge of two sorted runs.
        let old = std::mem::take(&mut self.points);
        let mut merged = Vec::with_capacity(old.len() + fresh.len());
        let (mut a, mut b) = (old.into_iter().peekable(), fresh.into_iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x <= y => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => break,
            };
            if let Some(p) = next {
                merged.push(p);
            }
        }
        dedup_points(&mut merged);
        self.points = merged;
        self.shards.push(shard);
        self.rebuild_index();
        Ok(())
    }

    /// Removes a shard at run time; only its keys move, each to the next shard on the ring.
    pub fn remove_shard(&mut self, id: ShardId) -> Result<(), ShardingError> {
        let Some(pos) = self.shards.iter().position(|s| s.id == id) else {
            return Err(ShardingError::UnknownShard(id));
        };
        if self.shards.len() == 1 {
            return Err(ShardingError::LastShard(id));
        }
        self.shards.remove(pos);
        // Points lost to a collision with the removed shard's points come back.
        let mut points = Vec::with_capacity(self.points.len());
        for (ord, s) in self.shards.iter().enumerate() {
            push_points(&mut points, *s, ord as u32, self.vnodes);
        }
        points.sort_unstable();
        dedup_points(&mut points);
        self.points = points;
        self.rebuild_index();
        Ok(())
    }

    fn rebuild_index(&mut self) {
        let n = self.points.len().max(1);
        // 2^bits in [2n, 4n): most slots hold no point and answer directly.
        let bits = (n.next_power_of_two().trailing_zeros() + 1).clamp(1, 31);
        self.shift = 64 - bits;
        let slots = 1usize << bits;
        let mut index = Vec::with_capacity(slots);
        let mut i = 0usize;
        for slot in 0..slots as u64 {
            while self
                .points
                .get(i)
                .is_some_and(|pt| (pt.hash >> self.shift) < slot)
            {
                i += 1;
            }
            let entry = match self.points.get(i) {
                Some(pt) if (pt.hash >> self.shift) == slot => i as u32,
                // No point in this slot: every hash in it belongs to the next point's owner
                // (wrapping to the first point past the end).
                _ => {
                    let owner = self
                        .points
                        .get(i)
                        .or_else(|| self.points.first())
                        .map_or(0, |pt| pt.ord);
                    DIRECT | owner
                }
            };
            index.push(entry);
        }
        self.index = index;
    }

    /// The position in `points` of the first point at or after `hash` (may equal `len`).
    #[inline]
    fn position(&self, hash: u64) -> usize {
        let slot = (hash >> self.shift) as usize;
        let mut i = match self.index.get(slot) {
            Some(&e) if e & DIRECT == 0 => e as usize,
            // An empty slot: the first point at or after it is the first point past the slot.
            _ => self.points.partition_point(|p| p.hash < hash),
        };
        while let Some(p) = self.points.get(i) {
            if p.hash >= hash {
                break;
            }
            i += 1;
        }
        i
    }

    /// The shards that hold `key` and its replicas: the first `k` distinct shards clockwise
    /// from the key (fewer when the ring has fewer shards). The first is [`Sharder::shard`]'s
    /// answer.
    ///
    /// [`Sharder::shard`]: crate::Sharder::shard
    pub fn replicas<K: crate::ShardKey + ?Sized>(&self, key: &K, k: usize) -> Vec<ShardId> {
        self.replicas_for_hash(key.shard_hash(), k)
    }

    /// [`Ring::replicas`] for a precomputed key hash.
    pub fn replicas_for_hash(&self, hash: u64, k: usize) -> Vec<ShardId> {
        let want = k.min(self.shards.len());
        let mut out: Vec<ShardId> = Vec::with_capacity(want);
        let len = self.points.len();
        let start = self.position(hash);
        for step in 0..len {
            if out.len() >= want {
                break;
            }
            let Some(p) = self.points.get((start + step) % len) else {
                break;
            };
            let id = ShardId(p.shard);
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }

    /// Calls `f` with the position in [`Ring::shards`] of each point's shard clockwise from
    /// `hash`, until `f` returns `true` or the ring has been walked once. Returns the position
    /// `f` accepted.
    pub(crate) fn walk_from(&self, hash: u64, mut f: impl FnMut(usize) -> bool) -> Option<usize> {
        let len = self.points.len();
        if len == 0 {
            return None;
        }
        let start = self.position(hash);
        for step in 0..len {
            let p = self.points.get((start + step) % len)?;
            if f(p.ord as usize) {
                return Some(p.ord as usize);
            }
        }
        None
    }

    /// The position in [`Ring::shards`] of the owner of `hash` (the fast lookup path).
    #[inline]
    pub(crate) fn ordinal_for_hash(&self, hash: u64) -> usize {
        let slot = (hash >> self.shift) as usize;
        let entry = self.index.get(slot).copied().unwrap_or(DIRECT);
        if entry & DIRECT != 0 {
            return (entry & !DIRECT) as usize;
        }
        let mut i = entry as usize;
        while let Some(p) = self.points.get(i) {
            if p.hash >= hash {
                return p.ord as usize;
            }
            i += 1;
        }
        self.points.first().map_or(0, |p| p.ord as usize)
    }
}

impl HashSharder for Ring {
    #[inline]
    fn shard_for_hash(&self, hash: u64) -> ShardId {
        let slot = (hash >> self.shift) as usize;
        let entry = self.index.get(slot).copied().unwrap_or(DIRECT);
        if entry & DIRECT != 0 {
            return self
                .shards
                .get((entry & !DIRECT) as usize)
                .map_or(ShardId(0), |s| s.id);
        }
        let mut i = entry as usize;
        while let Some(p) = self.points.get(i) {
            if p.hash >= hash {
                return ShardId(p.shard);
            }
            i += 1;
        }
        // Past the last point: wrap to the first.
        self.points.first().map_or(ShardId(0), |p| ShardId(p.shard))
    }
}

fn push_points(points: &mut Vec<Point>, shard: WeightedShard, ord: u32, vnodes: u32) {
    let count = u64::from(shard.weight) * u64::from(vnodes);
    for v in 0..count {
        points.push(Point {
            hash: vnode_point(shard.id.0, v as u32),
            shard: shard.id.0,
            ord,
        });
    }
}

/// Keeps one point per hash: the lowest shard id (points are sorted by `(hash, shard)`).
fn dedup_points(points: &mut Vec<Point>) {
    points.dedup_by_key(|p| p.hash);
}
