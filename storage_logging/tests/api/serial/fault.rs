//! Fault under load: the Datastore emulator killed while 200 push deliveries a second arrive (each
//! a new message), restarted seconds later. Every delivery gets an answer (200, or 503 JSON by a
//! second past the deadline, so Pub/Sub retries; never a hang, never a 500), and the service serves
//! normally again once the emulator is back, without a restart.

use std::time::Duration;

use test_support::fault::assert_survives_datastore_kill;
use test_support::{Emulator, EmulatorKind};

use crate::helpers::{Options, envelope, object_metadata, spawn_app_with};

#[actix_web::test]
async fn datastore_killed_under_load_every_delivery_is_answered_and_service_recovers() {
    let deadline = Duration::from_millis(1000);
    let emulator = Emulator::start_off_runtime(EmulatorKind::FirestoreDatastoreMode).await;
    let app = spawn_app_with(Options {
        datastore_host: emulator.host(),
        deadline,
        ..Options::default()
    })
    .await;
    let delivery = |i: usize| {
        let object = object_metadata(&format!("load/{i}.txt"));
        envelope("OBJECT_FINALIZE", &object, &format!("load-{i}"))
    };
    assert_survives_datastore_kill(emulator, &app.client, "/api/v1/pubsub", delivery, deadline)
        .await;
}
