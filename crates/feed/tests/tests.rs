//! keel-feed integration tests: one binary, one module per concern.
#![allow(missing_docs, missing_debug_implementations, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod conformance;
mod engine;
mod lifecycle;
mod paging;
#[cfg(feature = "tokio")]
mod pool;
mod props;
mod races;
mod rank;
#[cfg(feature = "storage")]
mod storage;
