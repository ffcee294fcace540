//! End-to-end tests over real HTTP on a free port: one binary, one module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(missing_docs, missing_debug_implementations, unreachable_pub)]

mod support;

mod auth;
mod faults;
mod ops;
mod shared;
mod suite;
