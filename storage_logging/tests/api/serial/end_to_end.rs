//! With the Pub/Sub emulator pushing for real, published while Datastore is down (cut off at the
//! network, or the emulator itself stopped), every message is stored exactly once after
//! Datastore is back.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use test_support::{CutProxy, Emulator, EmulatorKind, PubSub, shared_datastore_host};

use crate::end_to_end::{assert_stored_exactly_once, publish_upload, stored_ids, subscribe};
use crate::helpers::{Options, StorageLogging, TestApp, envelope, object_metadata, spawn_app_with};

/// The Pub/Sub emulator pushing to a service on Datastore at `datastore_host` (1 s deadline).
async fn pushing_to_app_on(
    pubsub_emulator: &Emulator,
    datastore_host: String,
) -> (PubSub, TestApp) {
    let pubsub = PubSub::new(&pubsub_emulator.host()).await;
    let app = spawn_app_with(Options {
        datastore_host,
        deadline: Duration::from_millis(1000),
        ..Options::default()
    })
    .await;
    subscribe(&pubsub, &app).await;
    (pubsub, app)
}

/// Datastore is cut off at the network (the emulator keeps running, so what was stored before
/// the outage is still there to count; restarting an in-memory emulator would lose it).
#[actix_web::test]
async fn messages_published_while_datastore_is_down_are_stored_once_it_is_back() {
    let shared = shared_datastore_host();
    let (datastore, pubsub_emulator) = tokio::join!(
        CutProxy::start(&shared),
        Emulator::start_off_runtime(EmulatorKind::PubSub),
    );
    let (pubsub, app) = pushing_to_app_on(&pubsub_emulator, datastore.host()).await;

    let mut published = BTreeSet::new();
    for i in 0..3 {
        published.insert(publish_upload(&pubsub, &format!("before/{i}.txt")).await);
    }
    stored_ids(&app, published.len(), Duration::from_secs(20)).await;
    datastore.cut();
    for i in 3..8 {
        published.insert(publish_upload(&pubsub, &format!("during/{i}.txt")).await);
    }
    // What the pushes get meanwhile:
    let (status, body) = app
        .push(&envelope(
            "OBJECT_FINALIZE",
            &object_metadata("probe"),
            "probe",
        ))
        .await;
    assert_eq!(status, 503, "{body}");
    tokio::time::sleep(Duration::from_secs(2)).await;

    datastore.restore().await;
    for i in 8..11 {
        published.insert(publish_upload(&pubsub, &format!("after/{i}.txt")).await);
    }
    assert_stored_exactly_once(&app, &published, Duration::from_secs(30)).await;
}

/// The Datastore emulator itself goes away (its process stopped, its port closed) while the
/// Pub/Sub emulator pushes a new upload every 100 ms, and comes back seconds later with what it
/// held (the legacy emulator, on disk). Counted by message id: none lost, none twice.
#[actix_web::test]
async fn messages_published_throughout_a_datastore_emulator_restart_are_stored_exactly_once() {
    let (datastore, pubsub_emulator) = tokio::join!(
        Emulator::start_off_runtime(EmulatorKind::LegacyDatastoreOnDisk),
        Emulator::start_off_runtime(EmulatorKind::PubSub),
    );
    let (pubsub, app) = pushing_to_app_on(&pubsub_emulator, datastore.host()).await;

    let outage = tokio::task::spawn_blocking(move || {
        let mut datastore = datastore;
        std::thread::sleep(Duration::from_secs(2));
        datastore.stop();
        std::thread::sleep(Duration::from_secs(2));
        datastore.restart();
        datastore
    });
    let mut published = BTreeSet::new();
    let started = Instant::now();
    let mut during = 0;
    while !outage.is_finished() || started.elapsed() < Duration::from_secs(8) {
        if !outage.is_finished() && started.elapsed() > Duration::from_secs(2) {
            during += 1;
        }
        let id = publish_upload(&pubsub, &format!("steady/{}.txt", published.len())).await;
        published.insert(id);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _datastore = outage.await.expect("the outage task");
    assert!(during >= 10, "only {during} published during the outage");

    assert_stored_exactly_once(&app, &published, Duration::from_secs(40)).await;
}
