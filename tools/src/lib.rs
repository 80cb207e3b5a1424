//! Tools for the people who run the suite, on Google's official Rust clients for Pub/Sub and
//! Cloud Storage. No service links this crate: `scripts/check-lean.sh` keeps it so.

pub mod pipeline;
