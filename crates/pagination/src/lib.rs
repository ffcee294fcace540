//! # keel-pagination
//!
//! Pagination: signed opaque cursors, keyset (seek) queries, offset, since_id/max_id, Relay connections and Link headers.
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
//! | `postgres` | keyset SQL for PostgreSQL (sqlx) | no |
