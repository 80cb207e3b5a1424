//! With the Pub/Sub emulator pushing for real: a Cloud Storage notification becomes exactly one
//! `StorageLog`; published while Datastore is down (cut off at the network, or the emulator
//! itself stopped), every message is stored exactly once after Datastore is back.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;
use test_support::{CutProxy, Emulator, EmulatorKind, PubSub, shared_datastore_host};

use crate::helpers::{
    Options, StorageLogging, TestApp, attributes, envelope, object_metadata, spawn_app,
    spawn_app_with,
};

async fn subscribe(pubsub: &PubSub, app: &TestApp) {
    pubsub.create_topic("storage-events").await;
    let endpoint = format!("{}/api/v1/pubsub", app.client.address);
    pubsub
        .create_push_subscription("storage-logging-push", "storage-events", &endpoint)
        .await;
}

async fn publish_upload(pubsub: &PubSub, name: &str) -> String {
    let attributes = attributes("OBJECT_FINALIZE", name)
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    pubsub
        .publish(
            "storage-events",
            object_metadata(name).to_string(),
            attributes,
        )
        .await
}

/// The key names of the stored logs, once `expected` are there (and a little longer, so that a
/// duplicate would show), within `limit`.
async fn stored_ids(app: &TestApp, expected: usize, limit: Duration) -> Vec<String> {
    let started = Instant::now();
    let ids = |logs: Vec<Value>| -> Vec<String> {
        logs.iter()
            .filter_map(|e| e["key"]["path"][0]["name"].as_str().map(str::to_owned))
            .collect()
    };
    loop {
        let found = ids(app.storage_logs().await);
        if found.len() >= expected || started.elapsed() > limit {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            return ids(app.storage_logs().await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The Pub/Sub emulator pushing to a service on Datastore at `datastore_host` (1 s deadline).
async fn pushing_to_app_on(datastore_host: String) -> (Emulator, PubSub, TestApp) {
    let pubsub_emulator = Emulator::start_off_runtime(EmulatorKind::PubSub).await;
    let pubsub = PubSub::new(&pubsub_emulator.host()).await;
    let app = spawn_app_with(Options {
        datastore_host,
        deadline: Duration::from_millis(1000),
        ..Options::default()
    })
    .await;
    subscribe(&pubsub, &app).await;
    (pubsub_emulator, pubsub, app)
}

/// Every published message is stored, none twice, within `limit`.
async fn assert_stored_exactly_once(app: &TestApp, published: &BTreeSet<String>, limit: Duration) {
    let stored = stored_ids(app, published.len(), limit).await;
    let unique: BTreeSet<String> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), unique.len(), "duplicates: {stored:?}");
    let lost: Vec<_> = published.difference(&unique).collect();
    assert!(
        lost.is_empty(),
        "lost {} of {}: {lost:?}",
        lost.len(),
        published.len()
    );
    assert_eq!(&unique, published);
}

#[actix_web::test]
async fn a_published_notification_becomes_exactly_one_storage_log() {
    let pubsub_emulator = Emulator::start_off_runtime(EmulatorKind::PubSub).await;
    let pubsub = PubSub::new(&pubsub_emulator.host()).await;
    let app = spawn_app().await;
    subscribe(&pubsub, &app).await;
    let id = publish_upload(&pubsub, "uploads/report.pdf").await;
    assert_eq!(stored_ids(&app, 1, Duration::from_secs(20)).await, [id]);
    let logs = app.storage_logs().await;
    assert_eq!(
        logs[0]["properties"]["name"]["stringValue"],
        "uploads/report.pdf"
    );
}

/// Datastore is cut off at the network (the emulator keeps running, so what was stored before
/// the outage is still there to count; restarting an in-memory emulator would lose it).
#[actix_web::test]
async fn messages_published_while_datastore_is_down_are_stored_once_it_is_back() {
    let datastore = CutProxy::start(&shared_datastore_host()).await;
    let (_pubsub_emulator, pubsub, app) = pushing_to_app_on(datastore.host()).await;

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
    let datastore = Emulator::start_off_runtime(EmulatorKind::LegacyDatastoreOnDisk).await;
    let (_pubsub_emulator, pubsub, app) = pushing_to_app_on(datastore.host()).await;

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
