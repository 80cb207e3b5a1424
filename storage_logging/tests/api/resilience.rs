//! The real binary under hostile clients (bounds stated in the README, "Reliability").

use std::time::Duration;

use test_support::ServiceProcess;
use test_support::resilience::assert_huge_bodies_refused;

#[test]
fn ten_mib_bodies_are_refused_quickly_in_little_memory() {
    let service = ServiceProcess::start(
        env!("CARGO_BIN_EXE_storage_logging"),
        &[("RUST_LOG", "warn,common=info")],
    );
    assert_huge_bodies_refused(
        &service,
        &["/api/v1/pubsub", "/api/v1/events"],
        Duration::from_millis(500),
        20,
    );
}
