//! The real binary under hostile clients (bounds stated in the README, "Reliability").

use std::time::Duration;

use common::datastore::value;
use test_support::ServiceProcess;
use test_support::resilience::{
    assert_huge_bodies_refused, deepest_json, json_of_size, widest_json, worst_bodies_at_once,
};

#[test]
fn ten_mib_bodies_are_refused_quickly_in_little_memory() {
    let _heavy = test_support::heavy_test_blocking();
    let service = ServiceProcess::start(
        env!("CARGO_BIN_EXE_message_board"),
        &[("RUST_LOG", "warn,common=info")],
    );
    let routes = ["/api/v1/store", "/api/v1/retrieve"];
    assert_huge_bodies_refused(&service, &routes, Duration::from_millis(500), 20);
}

/// The README's bound (Reliability) on the peak memory under 80 worst-case requests at once.
const PEAK_RSS_MIB: u64 = 128;

/// 80 requests at once, each as large, wide or deep as a body may be, on a Datastore of its own.
fn peak_under_worst(path: &'static str, largest_field: &str) -> u64 {
    let service = ServiceProcess::start_on_datastore(env!("CARGO_BIN_EXE_message_board"));
    // The largest message Datastore takes in one entity, and the widest and deepest bodies with
    // a message, so that stores store.
    let with_message = |body: Vec<u8>| {
        let text = String::from_utf8_lossy(&body).into_owned();
        text.replacen('{', "{\"message\": \"m\", ", 1).into_bytes()
    };
    let largest = match largest_field {
        "message" => value::MAX_ENTITY_BYTES - 200,
        _ => common::configuration::DEFAULT_BODY_LIMIT,
    };
    let bodies = [
        ("the largest body", json_of_size(largest_field, largest)),
        ("the widest body", with_message(widest_json())),
        ("the deepest body", with_message(deepest_json())),
    ];
    worst_bodies_at_once(&service, path, "application/json", &bodies, 3)
}

#[test]
fn eighty_worst_case_stores_at_once_stay_small() {
    let _heavy = test_support::heavy_test_blocking();
    let peak = peak_under_worst("/api/v1/store", "message");
    assert!(peak < PEAK_RSS_MIB, "peak RSS {peak} MiB");
}

#[test]
fn eighty_worst_case_retrieves_at_once_stay_small() {
    let _heavy = test_support::heavy_test_blocking();
    let peak = peak_under_worst("/api/v1/retrieve", "name");
    assert!(peak < PEAK_RSS_MIB, "peak RSS {peak} MiB");
}
