//! Datastore down: the service still starts and answers `GET /`, Datastore calls answer 503 JSON
//! within the deadline, and the service recovers by itself once Datastore is back.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use test_support::{Answer, Emulator, EmulatorKind, read};

use crate::helpers::{Board, TestApp, spawn_app_on};

const DEADLINE: Duration = Duration::from_millis(1500);

async fn store_status(app: &TestApp) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response = app
        .client
        .post_json("/api/v1/store", &json!({"name": "outage", "message": "m"}))
        .await;
    let took = started.elapsed();
    let Answer {
        status,
        content_type,
        body,
    } = read(response).await;
    assert_eq!(content_type, "application/json", "{body}");
    (status, serde_json::from_str(&body).expect("JSON"), took)
}

async fn assert_unavailable_within_deadline(app: &TestApp) {
    let (status, body, took) = store_status(app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body,
        json!({"message": "the service is temporarily unavailable; retry later"})
    );
    assert!(
        took < DEADLINE + Duration::from_millis(500),
        "503 took {took:?}"
    );
    let Answer {
        status, body: root, ..
    } = read(app.client.send("GET", "/", None, vec![]).await).await;
    assert_eq!((status, root.as_str()), (200, "Message board service. "));
}

/// Store until it succeeds; how long it took after Datastore came back.
async fn recovers(app: &TestApp) -> Duration {
    let back = Instant::now();
    loop {
        let (status, body, _) = store_status(app).await;
        if status == 200 {
            return back.elapsed();
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "no recovery after 15 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn datastore_down_is_a_503_and_the_service_recovers_without_a_restart() {
    let mut emulator = Emulator::start_off_runtime(EmulatorKind::FirestoreDatastoreMode).await;
    let host = emulator.host();

    // Started while Datastore is down: the port answers, Datastore calls are 503s.
    emulator.stop();
    let app = spawn_app_on(&host, DEADLINE).await;
    assert_unavailable_within_deadline(&app).await;
    emulator = emulator.restart_off_runtime().await;
    recovers(&app).await;
    assert_eq!(app.datastore.entities("Message").await.len(), 1);

    // Down again after it had connected, and back.
    emulator.stop();
    assert_unavailable_within_deadline(&app).await;
    let _emulator = emulator.restart_off_runtime().await;
    let took = recovers(&app).await;
    assert!(took < Duration::from_secs(5), "recovery took {took:?}");
    // The restarted emulator is empty: the one message is the one stored after recovery.
    assert_eq!(
        app.retrieve("outage").await["messages"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}
