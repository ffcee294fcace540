//! # keel-feed
//!
//! Feeds: fan-out on write, on read and hybrid, capped timelines, ranking, on memory and Redis.
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
//! | `tokio` | asynchronous fan-out workers | no |
//! | `redis` | timelines in Redis sorted sets | no |
