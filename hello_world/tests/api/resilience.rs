//! The real binary under hostile clients (bounds stated in the README, "Reliability").

use std::time::Duration;

use test_support::ServiceProcess;
use test_support::resilience::{
    assert_huge_bodies_refused, assert_slow_clients_do_not_delay_others,
};

fn start() -> ServiceProcess {
    ServiceProcess::start(
        env!("CARGO_BIN_EXE_hello_world"),
        &[("RUST_LOG", "warn,common=info")],
    )
}

#[test]
fn ten_mib_bodies_are_refused_quickly_in_little_memory() {
    assert_huge_bodies_refused(&start(), &["/api/v1/hello"], Duration::from_millis(500), 20);
}

#[test]
fn idle_and_slow_connections_do_not_delay_other_clients() {
    assert_slow_clients_do_not_delay_others(&start(), 100, 100, Duration::from_millis(100));
}
