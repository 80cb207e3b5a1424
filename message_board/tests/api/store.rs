//! `POST /api/v1/store`: the answer, and the entity read straight from Datastore.

use serde_json::{Value, json};
use test_support::{Answer, is_http_date, read};

use crate::helpers::{Board, spawn_app};

#[actix_web::test]
async fn store_answers_the_message_with_an_http_date() {
    let app = spawn_app().await;
    let response = app
        .client
        .post_json("/api/v1/store", &json!({"name": "alice", "message": "hi"}))
        .await;
    let Answer {
        status,
        content_type,
        body,
    } = read(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, "application/json");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["message", "name", "timestamp"]);
    assert_eq!(body["name"], "alice");
    assert_eq!(body["message"], "hi");
    assert!(
        is_http_date(body["timestamp"].as_str().expect("a string")),
        "{body}"
    );
}

#[actix_web::test]
async fn the_entity_is_a_message_as_the_original_stores_it() {
    let app = spawn_app().await;
    let answer = app.store("alice", "hello datastore").await;

    let entities = app.datastore.entities("Message").await;
    assert_eq!(entities.len(), 1, "{entities:?}");
    let entity = &entities[0];
    let path = &entity["key"]["path"];
    assert_eq!(path.as_array().map(Vec::len), Some(1));
    assert_eq!(path[0]["kind"], "Message");
    assert!(
        path[0]["id"]
            .as_str()
            .is_some_and(|id| id.parse::<i64>().is_ok()),
        "auto id: {path}"
    );
    let properties = entity["properties"].as_object().expect("properties");
    let mut names: Vec<&String> = properties.keys().collect();
    names.sort();
    assert_eq!(names, ["message", "name", "timestamp"]);
    assert_eq!(properties["name"]["stringValue"], "alice");
    assert_eq!(properties["name"].get("excludeFromIndexes"), None);
    assert_eq!(properties["message"]["stringValue"], "hello datastore");
    assert_eq!(properties["message"]["excludeFromIndexes"], true);
    let stored = properties["timestamp"]["timestampValue"]
        .as_str()
        .expect("a timestamp");
    // RFC 3339 in UTC with microseconds, and the same second as the answer's HTTP-date.
    assert!(
        stored.ends_with('Z') && stored.len() == "2020-12-27T10:08:56.123456Z".len(),
        "{stored}"
    );
    let answered = answer["timestamp"].as_str().expect("string");
    let time_of_day = &stored[11..19];
    assert!(answered.contains(time_of_day), "{answered} vs {stored}");
}

#[actix_web::test]
async fn unicode_names_and_a_100_kb_message_store() {
    let app = spawn_app().await;
    let long = "ü".repeat(50 * 1024);
    assert_eq!(long.len(), 100 * 1024);
    for (name, message) in [
        ("日本語の名前 🎌", "こんにちは"),
        ("Zoë \"quoted\" \\", long.as_str()),
    ] {
        let answer = app.store(name, message).await;
        assert_eq!(answer["name"], name);
        assert_eq!(answer["message"], message);
        let retrieved = app.retrieve(name).await;
        assert_eq!(retrieved["messages"][0]["message"], message);
        assert_eq!(retrieved["messages"].as_array().map(Vec::len), Some(1));
    }
    assert_eq!(app.datastore.entities("Message").await.len(), 2);
}
