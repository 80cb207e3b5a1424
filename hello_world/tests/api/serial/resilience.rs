//! The real binary under hostile clients (bounds stated in the README, "Reliability").

use std::time::Duration;

use test_support::ServiceProcess;
use test_support::resilience::{
    assert_huge_bodies_refused, assert_slow_clients_do_not_delay_others, deepest_json,
    json_of_size, widest_json, worst_bodies_at_once,
};

fn start() -> ServiceProcess {
    ServiceProcess::start(
        env!("CARGO_BIN_EXE_hello_world"),
        &[("RUST_LOG", "warn,common=info")],
    )
}

#[test]
fn ten_mib_bodies_are_refused_quickly_in_little_memory() {
    let _heavy = test_support::heavy_test_blocking();
    assert_huge_bodies_refused(&start(), &["/api/v1/hello"], Duration::from_millis(500), 20);
}

#[test]
fn idle_and_slow_connections_do_not_delay_other_clients() {
    let _heavy = test_support::heavy_test_blocking();
    assert_slow_clients_do_not_delay_others(&start(), 100, 100, Duration::from_millis(100));
}

/// The README's bound (Reliability) on the peak memory under 80 worst-case requests at once.
const PEAK_RSS_MIB: u64 = 96;

#[test]
fn eighty_worst_case_requests_at_once_stay_small() {
    let _heavy = test_support::heavy_test_blocking();
    let bodies = [
        (
            "a name of 1 MiB",
            json_of_size("name", common::configuration::DEFAULT_BODY_LIMIT),
        ),
        ("the widest body", widest_json()),
        ("the deepest body", deepest_json()),
    ];
    let peak = worst_bodies_at_once(&start(), "/api/v1/hello", "application/json", &bodies, 3);
    assert!(peak < PEAK_RSS_MIB, "peak RSS {peak} MiB");
}
