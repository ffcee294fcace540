//! # keel-storage
//!
//! Storage: repository traits for the social model, in-memory and PostgreSQL backends, one conformance suite.
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
//! | `postgres` | the PostgreSQL backend (sqlx) | no |
