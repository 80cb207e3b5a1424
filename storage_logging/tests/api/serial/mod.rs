//! Tests that kill or cut off emulators, load the machine or bound latencies: each runs alone,
//! beside no other test (`.config/nextest.toml` gives every test under `serial::` all of
//! nextest's threads). Plain `cargo test` runs them beside others: add `-- --test-threads=1`.

mod end_to_end;
mod fault;
mod push_auth;
mod resilience;
