//! `POST /api/v1/retrieve`: every message of a name, oldest first, across query batches.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::{CutProxy, Emulator, EmulatorKind, is_http_date};

use crate::helpers::{Board, TestApp, message_text, seed_messages, spawn_app, spawn_app_on};

/// message_board through a proxy that counts its gRPC calls (the test's REST calls are not).
async fn spawn_counted() -> (TestApp, CutProxy) {
    let proxy = CutProxy::start(&test_support::shared_datastore_host()).await;
    let app = spawn_app_on(&proxy.host(), Duration::from_secs(5)).await;
    (app, proxy)
}

/// The texts of `name`'s messages, and the gRPC calls the retrieve took.
async fn retrieve_counted(app: &TestApp, proxy: &CutProxy, name: &str) -> (Vec<String>, usize) {
    let before = proxy.grpc_calls();
    let body = app.retrieve(name).await;
    let texts = body["messages"]
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|m| m["message"].as_str().map(str::to_owned))
        .collect();
    (texts, proxy.grpc_calls() - before)
}

#[actix_web::test]
async fn a_name_of_twenty_ten_kib_messages_is_one_query() {
    let (app, proxy) = spawn_counted().await;
    seed_messages(&app.datastore, "hands-on", 20, 10 * 1024).await;
    let (texts, calls) = retrieve_counted(&app, &proxy, "hands-on").await;
    let expected: Vec<String> = (0..20).map(|i| message_text(i, 10 * 1024)).collect();
    assert_eq!(texts, expected);
    assert_eq!(calls, 1, "one query, as the original");
}

#[actix_web::test]
async fn a_first_page_too_large_for_its_answer_is_asked_for_again_and_comes_back_whole() {
    let (app, proxy) = spawn_counted().await;
    // The first 21 are 2.1 MB: refused at 512 KiB, within gRPC's 4 MiB when asked again; the
    // other 4 are the next page.
    seed_messages(&app.datastore, "mid", 25, 100 * 1024).await;
    let (texts, calls) = retrieve_counted(&app, &proxy, "mid").await;
    let expected: Vec<String> = (0..25).map(|i| message_text(i, 100 * 1024)).collect();
    assert_eq!(texts, expected);
    assert_eq!(calls, 3, "refused, asked again, the rest");
}

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

async fn assert_all_returned(app: &TestApp, count: usize) {
    seed_messages(&app.datastore, "many", count, 0).await;
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
