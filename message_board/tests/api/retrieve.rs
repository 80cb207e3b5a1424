//! `POST /api/v1/retrieve`: every message of a name, oldest first, across query batches.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::{DatastoreRest, Emulator, EmulatorKind, is_http_date};

use crate::helpers::{Board, TestApp, spawn_app, spawn_app_on};

#[actix_web::test]
async fn messages_come_back_oldest_first_with_http_dates() {
    let app = spawn_app().await;
    for message in ["first", "second", "third"] {
        app.store("bob", message).await;
    }
    app.store("someone else", "not bob's").await;

    let body = app.retrieve("bob").await;
    assert_eq!(body["name"], "bob");
    let messages = body["messages"].as_array().expect("an array");
    let texts: Vec<&str> = messages
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(texts, ["first", "second", "third"]);
    for message in messages {
        let keys: Vec<&String> = message.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["message", "timestamp"]);
        assert!(
            is_http_date(message["timestamp"].as_str().expect("string")),
            "{message}"
        );
    }
}

#[actix_web::test]
async fn an_unknown_name_has_no_messages() {
    let app = spawn_app().await;
    assert_eq!(
        app.retrieve("nobody").await,
        json!({"name": "nobody", "messages": []})
    );
}

/// Seeds `count` messages for `name`, one second apart, straight into Datastore.
async fn seed(datastore: &DatastoreRest, name: &str, count: usize) {
    let entities = (0..count)
        .map(|i| {
            let at = format!(
                "2020-01-01T{:02}:{:02}:{:02}.000001Z",
                i / 3600,
                i / 60 % 60,
                i % 60
            );
            let properties = json!({
                "name": {"stringValue": name},
                "message": {"stringValue": format!("message {i:04}"), "excludeFromIndexes": true},
                "timestamp": {"timestampValue": at},
            });
            (
                json!([{"kind": "Message", "name": format!("seed-{i}")}]),
                properties,
            )
        })
        .collect();
    datastore.upsert(entities).await;
}

async fn assert_all_returned(app: &TestApp, count: usize) {
    seed(&app.datastore, "many", count).await;
    let body = app.retrieve("many").await;
    let texts: Vec<&str> = body["messages"]
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|m: &Value| m["message"].as_str())
        .collect();
    let expected: Vec<String> = (0..count).map(|i| format!("message {i:04}")).collect();
    assert_eq!(texts, expected);
}

#[actix_web::test]
async fn all_350_messages_come_back_from_the_firestore_emulator() {
    assert_all_returned(&spawn_app().await, 350).await;
}

#[actix_web::test]
async fn all_350_messages_come_back_from_the_legacy_emulator_in_300_batches() {
    let emulator = Emulator::start_off_runtime(EmulatorKind::LegacyDatastore).await;
    let app = spawn_app_on(&emulator.host(), Duration::from_secs(5)).await;
    assert_all_returned(&app, 350).await;
}
