//! Integration tests for keel-sharding (one binary, one module per concept).

mod common;
mod hash_vectors;
mod movement;
mod strategies;
