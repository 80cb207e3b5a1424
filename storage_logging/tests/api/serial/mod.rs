//! Tests that kill or cut off emulators, load the machine or bound latencies. `scripts/test.sh`
//! runs them in a stage of their own, one at a time (`cargo test -- serial:: --test-threads=1`),
//! after the contract tests; under plain `cargo test` they still never run beside each other
//! (`test_support::heavy_test`).

mod end_to_end;
mod fault;
mod resilience;
