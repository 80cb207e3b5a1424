//! The real binary under hostile clients (bounds stated in docs/reliability.md).

use std::time::Duration;

use serde_json::{Value, json};
use storage_logging::notification;
use test_support::ServiceProcess;
use test_support::resilience::{
    assert_huge_bodies_refused, deepest_json, deepest_json_of, widest_json_of, worst_bodies_at_once,
};

use crate::helpers::{base64_text, envelope};

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

/// The bound in docs/reliability.md on the peak memory under 80 worst-case requests at once.
const PEAK_RSS_MIB: u64 = 96;

fn service() -> ServiceProcess {
    ServiceProcess::start_on_datastore(env!("CARGO_BIN_EXE_storage_logging"), &[])
}

/// `body` grown to the route's limit with a string field `pad` (attributes of a push, an
/// extension attribute of a CloudEvent).
fn padded(mut body: Value, pad: impl Fn(&mut Value, String)) -> Vec<u8> {
    let room = notification::MAX_BODY_BYTES - body.to_string().len() - 16;
    pad(&mut body, "x".repeat(room));
    body.to_string().into_bytes()
}

fn push_of(id: &str, data: &[u8]) -> Value {
    let mut push = envelope("OBJECT_FINALIZE", &json!({}), id);
    push["message"]["data"] = json!(base64_text(&String::from_utf8_lossy(data)));
    push
}

fn event_of(id: &str, data: &[u8]) -> Value {
    json!({
        "specversion": "1.0", "id": id, "source": "//storage.googleapis.com/projects/_/buckets/worst",
        "type": "google.cloud.storage.object.v1.finalized", "datacontenttype": "application/json",
        "data": serde_json::from_slice::<Value>(data).unwrap_or_default()
    })
}

#[test]
fn eighty_worst_case_pushes_at_once_stay_small() {
    let pad_attributes =
        |push: &mut Value, pad: String| push["message"]["attributes"]["pad"] = json!(pad);
    let bodies = [
        (
            "the widest data, padded to the limit",
            padded(
                push_of("wide", &widest_json_of(notification::MAX_JSON_VALUES - 40)),
                pad_attributes,
            ),
        ),
        (
            "the deepest data, padded to the limit",
            padded(push_of("deep", &deepest_json()), pad_attributes),
        ),
    ];
    let peak = worst_bodies_at_once(&service(), "/api/v1/pubsub", "application/json", &bodies, 3);
    assert!(peak < PEAK_RSS_MIB, "peak RSS {peak} MiB");
}

#[test]
fn eighty_worst_case_events_at_once_stay_small() {
    let pad_extension = |event: &mut Value, pad: String| event["padding"] = json!(pad);
    let bodies = [
        (
            "the widest data, padded to the limit",
            padded(
                event_of("wide", &widest_json_of(notification::MAX_JSON_VALUES - 40)),
                pad_extension,
            ),
        ),
        (
            "the deepest data, padded to the limit",
            padded(
                event_of("deep", &deepest_json_of(common::body::MAX_JSON_DEPTH - 2)),
                pad_extension,
            ),
        ),
    ];
    let peak = worst_bodies_at_once(
        &service(),
        "/api/v1/events",
        "application/cloudevents+json",
        &bodies,
        3,
    );
    assert!(peak < PEAK_RSS_MIB, "peak RSS {peak} MiB");
}
