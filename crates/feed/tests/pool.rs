//! The asynchronous fan-out pool.
