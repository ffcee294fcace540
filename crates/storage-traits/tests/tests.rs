//! keel-storage integration tests: one binary, the conformance suite stamped per backend.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub,
    clippy::needless_pass_by_value
)]

mod suite;

mod memory {
    use std::sync::Arc;

    use keel_storage::{IdGenerator, ManualClock, MemoryStore, Store};

    pub async fn make(clock: Arc<ManualClock>) -> Option<Arc<dyn Store>> {
        Some(Arc::new(MemoryStore::with_clock(
            clock,
            IdGenerator::seeded(7),
        )))
    }

    crate::all_conformance_tests!(make);
}
