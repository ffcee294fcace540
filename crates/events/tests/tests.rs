//! keel-events integration tests: one binary, one module per backend.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod support;

#[cfg(feature = "tokio")]
mod in_process;
#[cfg(feature = "nats")]
mod jetstream;
mod outbox;
#[cfg(all(feature = "storage", feature = "nats"))]
mod storage_outbox;
