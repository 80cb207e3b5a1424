//! `GET /api/v1/purge`: deletes exactly the `StorageLog`s older than the retention.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use test_support::{Answer, DatastoreRest, read};

use crate::helpers::{Options, StorageLogging, TestApp, spawn_app_with};

/// RFC 3339 for `seconds_ago` before now.
fn rfc3339_ago(seconds_ago: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let output = std::process::Command::new("date")
        .args([
            "-u",
            "-d",
            &format!("@{}", now - seconds_ago),
            "+%Y-%m-%dT%H:%M:%S.000000Z",
        ])
        .output()
        .expect("date");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

async fn seed(datastore: &DatastoreRest, prefix: &str, count: usize, seconds_ago: u64) {
    let at = rfc3339_ago(seconds_ago);
    let entities = (0..count)
        .map(|i| {
            let name = format!("{prefix}-{i}");
            let properties =
                json!({"name": {"stringValue": name}, "timestamp": {"timestampValue": at}});
            (json!([{"kind": "StorageLog", "name": name}]), properties)
        })
        .collect();
    datastore.upsert(entities).await;
}

async fn purge(app: &TestApp) -> Value {
    let Answer {
        status,
        content_type,
        body,
    } = read(app.client.send("GET", "/api/v1/purge", None, vec![]).await).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/json"),
        "{body}"
    );
    serde_json::from_str(&body).expect("JSON")
}

async fn app_with_retention(seconds: u64) -> TestApp {
    spawn_app_with(Options {
        retention: Duration::from_secs(seconds),
        ..Options::default()
    })
    .await
}

#[actix_web::test]
async fn purge_deletes_exactly_the_2000_old_logs() {
    let app = app_with_retention(60).await;
    seed(&app.datastore, "old", 2000, 3600).await;
    seed(&app.datastore, "recent", 10, 5).await;

    let report = purge(&app).await;
    assert_eq!(
        report,
        json!({"message": "succeeded.", "deleted": 2000, "complete": true})
    );
    let mut left: Vec<String> = app
        .storage_logs()
        .await
        .iter()
        .filter_map(|e| e["key"]["path"][0]["name"].as_str().map(str::to_owned))
        .collect();
    left.sort();
    let mut recent: Vec<String> = (0..10).map(|i| format!("recent-{i}")).collect();
    recent.sort();
    assert_eq!(left, recent);

    assert_eq!(
        purge(&app).await,
        json!({"message": "succeeded.", "deleted": 0, "complete": true})
    );
}

#[actix_web::test]
async fn a_backlog_whose_keys_outgrow_one_grpc_answer_is_purged_page_by_page() {
    // 3,000 keys with 1,400-byte names are about 4.5 MB as one answer, over gRPC's 4 MiB: the
    // backlog a purge of unlimited pages could never delete (as 27,000 short keys were).
    let app = app_with_retention(60).await;
    seed(&app.datastore, &"k".repeat(1400), 3000, 3600).await;
    assert_eq!(
        purge(&app).await,
        json!({"message": "succeeded.", "deleted": 3000, "complete": true})
    );
    assert_eq!(app.storage_logs().await.len(), 0);
}

#[actix_web::test]
async fn a_purge_while_another_runs_is_409_at_once_and_the_next_one_runs() {
    let app = app_with_retention(60).await;
    seed(&app.datastore, "old", 3000, 3600).await;
    seed(&app.datastore, "recent", 3, 5).await;
    let send = || async { read(app.client.send("GET", "/api/v1/purge", None, vec![]).await).await };
    let (first, second) = tokio::join!(send(), send());
    let mut statuses = [first.status, second.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", first.body, second.body);
    let refused = if first.status == 409 { &first } else { &second };
    assert_eq!(
        refused.body,
        r#"{"message":"a purge is already running; it continues."}"#
    );
    assert_eq!(app.storage_logs().await.len(), 3);
    assert_eq!(
        purge(&app).await,
        json!({"message": "succeeded.", "deleted": 0, "complete": true}),
        "the gate opened again"
    );
}

#[actix_web::test]
async fn the_default_retention_keeps_the_last_three_minutes() {
    let app = app_with_retention(180).await;
    seed(&app.datastore, "four-minutes", 2, 240).await;
    seed(&app.datastore, "two-minutes", 2, 120).await;
    assert_eq!(purge(&app).await["deleted"], 2);
    assert_eq!(app.storage_logs().await.len(), 2);
}
