//! Integration tests for keel-pagination, one binary (one link step).

// Test helpers outside #[test] functions may unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cursor;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod shapes;
mod traversal;
