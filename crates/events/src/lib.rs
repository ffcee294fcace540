//! # keel-events
//!
//! Events: an outbox relay and an event bus, in process and on NATS JetStream, with idempotent consumers.
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
//! | `tokio` | in-process bus and consumer runner | no |
//! | `nats` | the NATS JetStream bus | no |
