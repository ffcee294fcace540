//! # keel-ratelimit
//!
//! Rate limiting: token bucket, GCRA, sliding-window log and counter, fixed window; keyed, tiered and adaptive; a Redis backend and a tower layer.
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
//! | `serde` | quotas from config files | no |
//! | `tokio` | async `until_ready` | no |
//! | `redis` | limits shared through Redis | no |
//! | `tower` | the tower layer | no |
