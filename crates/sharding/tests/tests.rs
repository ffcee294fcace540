//! Integration tests for keel-sharding (one binary, one module per concept).

mod common;
mod directory;
mod hash_vectors;
mod hot;
mod movement;
mod pg_directory;
mod ranges;
#[cfg(feature = "tokio")]
mod scatter;
mod strategies;
#[cfg(feature = "serde")]
mod topology;
