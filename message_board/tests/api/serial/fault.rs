//! Fault under load: the Datastore emulator killed while 200 stores a second arrive, restarted
//! seconds later. Every request gets an answer (200, or 503 JSON by a second past the deadline;
//! never a hang, never a 500), and the service serves normally again once the emulator is back,
//! without a restart.

use std::time::Duration;

use serde_json::json;
use test_support::fault::assert_survives_datastore_kill;
use test_support::{Emulator, EmulatorKind};

use crate::helpers::spawn_app_on;

#[actix_web::test]
async fn datastore_killed_under_load_every_request_is_answered_and_service_recovers() {
    let deadline = Duration::from_millis(1000);
    let emulator = Emulator::start_off_runtime(EmulatorKind::FirestoreDatastoreMode).await;
    let app = spawn_app_on(&emulator.host(), deadline).await;
    let body = |i: usize| json!({"name": "under load", "message": format!("message {i}")});
    assert_survives_datastore_kill(emulator, &app.client, "/api/v1/store", body, deadline).await;
}
