//! With the Pub/Sub emulator pushing for real: a Cloud Storage notification becomes exactly one
//! `StorageLog`. The helpers serve the outage tests too (`serial::end_to_end`).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;
use test_support::{Emulator, EmulatorKind, PubSub};

use crate::helpers::{StorageLogging, TestApp, attributes, object_metadata, spawn_app};

pub async fn subscribe(pubsub: &PubSub, app: &TestApp) {
    pubsub.create_topic("storage-events").await;
    let endpoint = format!("{}/api/v1/pubsub", app.client.address);
    pubsub
        .create_push_subscription("storage-logging-push", "storage-events", &endpoint)
        .await;
}

pub async fn publish_upload(pubsub: &PubSub, name: &str) -> String {
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
pub async fn stored_ids(app: &TestApp, expected: usize, limit: Duration) -> Vec<String> {
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

/// Every published message is stored, none twice, within `limit`.
pub async fn assert_stored_exactly_once(
    app: &TestApp,
    published: &BTreeSet<String>,
    limit: Duration,
) {
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
