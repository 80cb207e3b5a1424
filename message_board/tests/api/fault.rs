//! Fault under load: the Datastore emulator killed while 200 stores a second arrive, restarted
//! seconds later. Every request gets an answer (200, or 503 JSON within the deadline; never a
//! hang, never a 500), and the service serves normally again within 2 s of the emulator's return.

use std::time::{Duration, Instant};

use serde_json::json;
use test_support::load::post_at_rate;
use test_support::{Emulator, EmulatorKind};

use crate::helpers::spawn_app_on;

const DEADLINE: Duration = Duration::from_millis(1000);

#[actix_web::test]
async fn datastore_killed_under_load_every_request_is_answered_and_service_recovers() {
    let emulator = Emulator::start(EmulatorKind::FirestoreDatastoreMode);
    let app = spawn_app_on(&emulator.host(), DEADLINE).await;
    let started = Instant::now();
    let body = json!({"name": "under load", "message": "m"});
    let load = post_at_rate(&app, "/api/v1/store", &body, 200, Duration::from_secs(14));
    // The emulator's stop and start block: off the runtime that sends the load.
    let outage = tokio::task::spawn_blocking(move || {
        let mut emulator = emulator;
        std::thread::sleep(Duration::from_secs(3));
        let killed = started.elapsed();
        emulator.stop();
        std::thread::sleep(Duration::from_secs(2));
        emulator.restart();
        (killed, started.elapsed(), emulator)
    });
    let (outcomes, outage) = tokio::join!(load, outage);
    let (killed, returned, _emulator) = outage.expect("the outage task");

    assert!(
        outcomes.len() > 2000,
        "only {} requests sent",
        outcomes.len()
    );
    for outcome in &outcomes {
        assert!(
            matches!(outcome.status, Some(200 | 503)) && outcome.json,
            "{outcome:?}"
        );
        assert!(
            outcome.latency < DEADLINE + Duration::from_millis(500),
            "{outcome:?}"
        );
    }
    let count = |status: u16, from: Duration, to: Duration| {
        outcomes
            .iter()
            .filter(|o| o.status == Some(status) && o.sent_at >= from && o.sent_at < to)
            .count()
    };
    assert!(
        count(200, Duration::ZERO, killed) > 100,
        "served before the kill"
    );
    assert!(
        count(503, killed, returned) > 100,
        "503s while Datastore was down"
    );
    let recovered = returned + Duration::from_secs(2);
    let late_failures: Vec<_> = outcomes
        .iter()
        .filter(|o| o.sent_at >= recovered && o.status != Some(200))
        .collect();
    assert!(
        late_failures.is_empty(),
        "not recovered 2 s after the return: {late_failures:?}"
    );
    assert!(count(200, recovered, Duration::MAX) > 500);
}
