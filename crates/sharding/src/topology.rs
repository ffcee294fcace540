//! Topologies: a strategy and its shards as plain data, serde-serializable for config files
//! (feature `serde`), validated with typed errors before anything is built.

use crate::{
    BoundedLoads, HashMod, HashSharder, Jump, KeyRange, Maglev, Memento, MoveSummary, RangeSharder,
    Rendezvous, Ring, ShardId, ShardingError, WeightedShard,
};

/// A hash-based topology: the strategy, its parameters and its shards.
///
/// In a config file (JSON shown, any serde format works):
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use keel_sharding::{Sharder, Topology};
/// let t: Topology = serde_json::from_str(r#"{
///     "strategy": "ring", "vnodes": 200,
///     "shards": [{"id": 1}, {"id": 2, "weight": 2}, {"id": 3}]
/// }"#)?;
/// let sharder = t.build()?; // validates first
/// let s = sharder.shard("user:42");
/// assert!((1..=3).contains(&s.0));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "strategy", rename_all = "snake_case", deny_unknown_fields)
)]
#[non_exhaustive]
pub enum Topology {
    /// [`HashMod`] over buckets `0..shards`.
    HashMod {
        /// Number of buckets.
        shards: u32,
    },
    /// [`Jump`] over buckets `0..shards`.
    Jump {
        /// Number of buckets.
        shards: u32,
    },
    /// [`Memento`] over buckets `0..buckets`, with some removed (in removal order).
    Memento {
        /// Number of buckets ever created.
        buckets: u32,
        /// Removed buckets, in the order they were removed.
        #[cfg_attr(feature = "serde", serde(default))]
        removed: Vec<ShardId>,
    },
    /// [`Ring`] with `vnodes` virtual nodes per unit of weight.
    Ring {
        /// Virtual nodes per unit of weight.
        vnodes: u32,
        /// The shards.
        shards: Vec<WeightedShard>,
    },
    /// Weighted [`Rendezvous`].
    Rendezvous {
        /// The shards.
        shards: Vec<WeightedShard>,
    },
    /// [`Maglev`].
    Maglev {
        /// The shards.
        shards: Vec<WeightedShard>,
        /// Table size (rounded up to a prime); default when absent.
        #[cfg_attr(feature = "serde", serde(default))]
        table_size: Option<u64>,
    },
    /// [`BoundedLoads`] over a ring.
    BoundedLoads {
        /// Virtual nodes per unit of weight.
        vnodes: u32,
        /// Load bound: no shard above `(1 + epsilon)` times the mean.
        epsilon: f64,
        /// The shards.
        shards: Vec<WeightedShard>,
    },
}

impl Topology {
    /// Checks the topology without building it: shards present, ids distinct, weights above
    /// zero, parameters in range.
    pub fn validate(&self) -> Result<(), ShardingError> {
        match self {
            Topology::HashMod { shards } | Topology::Jump { shards } => {
                if *shards == 0 {
                    return Err(ShardingError::EmptyTopology);
                }
            }
            Topology::Memento { buckets, removed } => {
                self.build_memento(*buckets, removed)?;
            }
            Topology::Ring { vnodes, shards } | Topology::BoundedLoads { vnodes, shards, .. } => {
                crate::sharder::validate_shards(shards.iter().copied())?;
                if *vnodes == 0 {
                    return Err(ShardingError::InvalidParameter {
                        name: "vnodes",
                        reason: "use at least 1 virtual node per unit of weight".to_owned(),
                    });
                }
                let points: u64 = shards
                    .iter()
                    .map(|s| u64::from(s.weight) * u64::from(*vnodes))
                    .sum();
                if points > crate::MAX_POINTS {
                    return Err(ShardingError::TooManyPoints {
                        points,
                        limit: crate::MAX_POINTS,
                    });
                }
                if let Topology::BoundedLoads { epsilon, .. } = self
                    && !(epsilon.is_finite() && *epsilon > 0.0)
                {
                    return Err(ShardingError::InvalidEpsilon(*epsilon));
                }
            }
            Topology::Rendezvous { shards } | Topology::Maglev { shards, .. } => {
                crate::sharder::validate_shards(shards.iter().copied())?;
            }
        }
        Ok(())
    }

    fn build_memento(&self, buckets: u32, removed: &[ShardId]) -> Result<Memento, ShardingError> {
        let mut m = Memento::new(buckets)?;
        for &b in removed {
            m.remove_bucket(b)?;
        }
        Ok(m)
    }

    /// Validates, then builds the sharder.
    pub fn build(&self) -> Result<Box<dyn HashSharder + Send + Sync>, ShardingError> {
        self.validate()?;
        Ok(match self {
            Topology::HashMod { shards } => Box::new(HashMod::new(*shards)?),
            Topology::Jump { shards } => Box::new(Jump::new(*shards)?),
            Topology::Memento { buckets, removed } => {
                Box::new(self.build_memento(*buckets, removed)?)
            }
            Topology::Ring { vnodes, shards } => {
                Box::new(Ring::weighted(shards.iter().copied(), *vnodes)?)
            }
            Topology::Rendezvous { shards } => {
                Box::new(Rendezvous::weighted(shards.iter().copied())?)
            }
            Topology::Maglev { shards, table_size } => {
                Box::new(Maglev::weighted(shards.iter().copied(), *table_size)?)
            }
            Topology::BoundedLoads {
                vnodes,
                epsilon,
                shards,
            } => Box::new(BoundedLoads::new(
                Ring::weighted(shards.iter().copied(), *vnodes)?,
                *epsilon,
            )?),
        })
    }

    /// The move summary of going from `self` to `new` over a sample of key hashes.
    pub fn plan(
        &self,
        new: &Topology,
        key_hashes: impl IntoIterator<Item = u64>,
    ) -> Result<MoveSummary, ShardingError> {
        let (a, b) = (self.build()?, new.build()?);
        let mut s = MoveSummary::default();
        for h in key_hashes {
            s.sampled += 1;
            let (from, to) = (a.shard_for_hash(h), b.shard_for_hash(h));
            if from != to {
                s.moved += 1;
                *s.flows.entry((from, to)).or_insert(0) += 1;
            }
        }
        Ok(s)
    }
}

/// A range topology: the ranges in key order, each on one shard.
///
/// Validation rejects an empty list, overlapping ranges, gaps between ranges, and ranges that
/// leave the smallest or largest keys without a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct RangeTopology<K> {
    /// The ranges, in key order.
    pub ranges: Vec<KeyRange<K>>,
}

impl<K: Ord + Clone> RangeTopology<K> {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), ShardingError> {
        self.build().map(|_| ())
    }

    /// Validates, then builds the range sharder.
    pub fn build(&self) -> Result<RangeSharder<K>, ShardingError> {
        RangeSharder::from_ranges(&self.ranges)
    }
}

/// A geographic topology: a hash [`Topology`] per region and the region that takes keys from
/// unknown regions. Builds a [`Geo`](crate::Geo) over the regions' sharders.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use keel_sharding::{GeoKey, GeoTopology, Sharder};
/// let t: GeoTopology = serde_json::from_str(r#"{
///     "default_region": "us",
///     "regions": {
///         "us": {"strategy": "jump", "shards": 4},
///         "eu": {"strategy": "ring", "vnodes": 100, "shards": [{"id": 10}, {"id": 11}]}
///     }
/// }"#)?;
/// let geo = t.build()?;
/// let s = geo.shard(&GeoKey { region: "eu", key: "user:42" });
/// assert!(s.0 == 10 || s.0 == 11);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct GeoTopology {
    /// The region used for keys whose region has no group; must be one of `regions`.
    pub default_region: String,
    /// Each region's topology.
    pub regions: std::collections::BTreeMap<String, Topology>,
}

impl GeoTopology {
    /// Checks every region's topology and that the default region exists.
    pub fn validate(&self) -> Result<(), ShardingError> {
        if self.regions.is_empty() {
            return Err(ShardingError::EmptyTopology);
        }
        if !self.regions.contains_key(&self.default_region) {
            return Err(ShardingError::UnknownRegion(self.default_region.clone()));
        }
        self.regions.values().try_for_each(Topology::validate)
    }

    /// Validates, then builds the geographic sharder.
    pub fn build(&self) -> Result<crate::Geo<Box<dyn HashSharder + Send + Sync>>, ShardingError> {
        self.validate()?;
        let groups = self
            .regions
            .iter()
            .map(|(region, t)| Ok((region.clone(), t.build()?)))
            .collect::<Result<Vec<_>, ShardingError>>()?;
        crate::Geo::new(groups, &self.default_region)
    }
}

/// One explicit placement in a [`DirectoryTopology`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct DirectoryEntry<K> {
    /// The key.
    pub key: K,
    /// Its shard. It may name a shard outside the fallback (a dedicated shard for a large
    /// tenant, say).
    pub shard: ShardId,
}

/// A directory topology: explicit key-to-shard entries over a fallback hash [`Topology`] for
/// every other key. Builds a [`Directory`](crate::Directory).
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use keel_sharding::{DirectoryTopology, ShardId, Sharder};
/// let t: DirectoryTopology<String> = serde_json::from_str(r#"{
///     "fallback": {"strategy": "jump", "shards": 8},
///     "entries": [{"key": "tenant:big", "shard": 100}]
/// }"#)?;
/// let dir = t.build()?;
/// assert_eq!(dir.shard(&"tenant:big".to_owned()), ShardId(100));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct DirectoryTopology<K> {
    /// Where keys without an entry go.
    pub fallback: Topology,
    /// The explicit placements; each key at most once.
    #[cfg_attr(feature = "serde", serde(default = "Vec::new"))]
    pub entries: Vec<DirectoryEntry<K>>,
}

impl<K: crate::ShardKey + std::hash::Hash + Eq + Clone> DirectoryTopology<K> {
    /// Checks the fallback and that no key is listed twice.
    pub fn validate(&self) -> Result<(), ShardingError> {
        self.fallback.validate()?;
        let mut seen = std::collections::HashSet::with_capacity(self.entries.len());
        for (i, entry) in self.entries.iter().enumerate() {
            if !seen.insert(&entry.key) {
                return Err(ShardingError::InvalidParameter {
                    name: "entries",
                    reason: format!(
                        "entry {i} repeats a key listed before; list each key once \
                         (the directory holds one shard per key)"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Validates, then builds the directory with its entries assigned.
    pub fn build(
        &self,
    ) -> Result<crate::Directory<K, Box<dyn HashSharder + Send + Sync>>, ShardingError> {
        self.validate()?;
        let directory = crate::Directory::new(self.fallback.build()?);
        for entry in &self.entries {
            directory.assign(entry.key.clone(), entry.shard);
        }
        Ok(directory)
    }
}
