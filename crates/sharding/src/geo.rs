//! Geographic sharding: a region picks a shard group, an inner strategy picks the shard.
//!
//! Data stays in its users' region (latency, residency rules); inside a region any strategy
//! spreads the keys. A default region catches keys from regions without a group.

use std::collections::BTreeMap;

use crate::{ShardId, Sharder, ShardingError};

/// A key together with the region it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeoKey<'a, K: ?Sized> {
    /// The region, e.g. `"eu-west"`.
    pub region: &'a str,
    /// The key inside the region.
    pub key: &'a K,
}

/// Region to shard group, then an inner strategy inside the group.
///
/// ```
/// use keel_sharding::{Geo, GeoKey, Jump, Sharder, HashMod};
/// let geo = Geo::new([("eu".to_owned(), Jump::new(4)?), ("us".to_owned(), Jump::new(8)?)], "us")?;
/// let eu = geo.shard_in("eu", "user:42")?;
/// assert!(eu.0 < 4);
/// // Unknown regions go to the default group.
/// assert_eq!(geo.shard(&GeoKey { region: "mars", key: "user:42" }), geo.shard_in("us", "user:42")?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Shard ids are whatever each inner strategy returns; give the groups disjoint ids (for
/// example through a [`Directory`](crate::Directory) or weighted shards with distinct ids)
/// when they name different databases.
#[derive(Debug, Clone)]
pub struct Geo<S> {
    groups: BTreeMap<String, S>,
    default_region: String,
}

impl<S> Geo<S> {
    /// Groups by region and the region used for unknown regions (it must be one of them).
    pub fn new(
        groups: impl IntoIterator<Item = (String, S)>,
        default_region: &str,
    ) -> Result<Self, ShardingError> {
        let mut map = BTreeMap::new();
        for (region, s) in groups {
            if map.insert(region.clone(), s).is_some() {
                return Err(ShardingError::InvalidParameter {
                    name: "region",
                    reason: format!("region {region:?} is listed twice; list each region once"),
                });
            }
        }
        if map.is_empty() {
            return Err(ShardingError::EmptyTopology);
        }
        if !map.contains_key(default_region) {
            return Err(ShardingError::UnknownRegion(default_region.to_owned()));
        }
        Ok(Geo {
            groups: map,
            default_region: default_region.to_owned(),
        })
    }

    /// The regions with a group.
    pub fn regions(&self) -> impl Iterator<Item = &str> {
        self.groups.keys().map(String::as_str)
    }

    /// The group of a region, if it has one.
    pub fn group(&self, region: &str) -> Option<&S> {
        self.groups.get(region)
    }

    /// The group of a region, or the default group.
    pub fn group_or_default(&self, region: &str) -> Option<&S> {
        self.groups
            .get(region)
            .or_else(|| self.groups.get(&self.default_region))
    }

    /// The shard of `key` in `region`'s group; an unknown region is an error (strict).
    pub fn shard_in<K: ?Sized>(&self, region: &str, key: &K) -> Result<ShardId, ShardingError>
    where
        S: Sharder<K>,
    {
        match self.groups.get(region) {
            Some(g) => Ok(g.shard(key)),
            None => Err(ShardingError::UnknownRegion(region.to_owned())),
        }
    }
}

impl<K: ?Sized, S: Sharder<K>> Sharder<GeoKey<'_, K>> for Geo<S> {
    /// The key's shard in its region's group, or in the default group for an unknown region.
    fn shard(&self, key: &GeoKey<'_, K>) -> ShardId {
        self.group_or_default(key.region)
            .map_or(ShardId(0), |g| g.shard(key.key))
    }
}
