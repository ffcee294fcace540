//! # keel-sharding
//!
//! placeholder
#![cfg_attr(docsrs, feature(doc_cfg))]

mod bounded;
mod error;
mod hash;
mod hashmod;
mod jump;
mod maglev;
mod memento;
mod rendezvous;
mod ring;
mod sharder;

pub use bounded::BoundedLoads;
pub use error::ShardingError;
pub use hash::{ShardKey, mix64, stable_hash, stable_hash_seeded};
pub use hashmod::HashMod;
pub use jump::{Jump, jump_hash};
pub use maglev::{MAX_TABLE_SIZE, Maglev};
pub use memento::Memento;
pub use rendezvous::Rendezvous;
pub use ring::{MAX_POINTS, Ring};
pub use sharder::{HashSharder, ShardId, Sharder, WeightedShard};
