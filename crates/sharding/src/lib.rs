//! # keel-sharding
//!
//! Sharding: which shard holds a key (hash-mod, range, directory, geographic, ring, jump, memento, rendezvous, Maglev, bounded loads), what moves on a topology change, and scatter-gather across shards.
//!
//! This crate is being built; its issue lists what it will hold. Nothing here pretends to work
//! yet: the public API is empty until the first real module lands.
//!
//! # Layout
//! Filled as modules land, one line per module.
//!
//! # Features
//! | feature | enables | default |
//! |---|---|---|
//! | `serde` | topologies from config files | no |
//! | `tokio` | async scatter-gather | no |
