//! `POST /api/v1/pubsub`: the answer, the `StorageLog` read back, exactly once per message.

use serde_json::json;

use crate::helpers::{
    StorageLogging, assert_echoes_with_timestamp, envelope, object_metadata, spawn_app,
};

#[actix_web::test]
async fn an_upload_is_stored_and_echoed_with_a_timestamp() {
    let app = spawn_app().await;
    let object = object_metadata("photos/cat.png");
    let (status, body) = app
        .push(&envelope("OBJECT_FINALIZE", &object, "1001"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_echoes_with_timestamp(&body, &object);

    let logs = app.storage_logs().await;
    assert_eq!(logs.len(), 1);
    let entity = &logs[0];
    assert_eq!(
        entity["key"]["path"][0],
        json!({"kind": "StorageLog", "name": "1001"})
    );
    let properties = entity["properties"].as_object().expect("properties");
    let mut names: Vec<&str> = properties.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected: Vec<&str> = object
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    expected.push("timestamp");
    expected.sort_unstable();
    assert_eq!(names, expected);
    assert_eq!(properties["name"]["stringValue"], "photos/cat.png");
    assert_eq!(properties["size"]["stringValue"], "12345");
    assert!(properties["timestamp"]["timestampValue"].is_string());
}

#[actix_web::test]
async fn json_types_are_stored_as_the_python_client_stores_them() {
    let app = spawn_app().await;
    let object = json!({
        "name": "nested.txt", "size": "1", "n": 7, "f": 1.5, "ok": true, "z": null,
        "list": [1, "two"], "metadata": {"owner": "alice", "tags": "a,b"},
        "long": "x".repeat(2000)
    });
    let (status, body) = app
        .push(&envelope("OBJECT_FINALIZE", &object, "types"))
        .await;
    assert_eq!(status, 200, "{body}");
    let logs = app.storage_logs().await;
    let p = &logs[0]["properties"];
    assert_eq!(p["n"]["integerValue"], "7");
    assert_eq!(p["f"]["doubleValue"], 1.5);
    assert_eq!(p["ok"]["booleanValue"], true);
    assert!(
        p["z"]
            .as_object()
            .is_some_and(|z| z.contains_key("nullValue")),
        "{}",
        p["z"]
    );
    assert_eq!(
        p["list"]["arrayValue"]["values"],
        json!([{"integerValue": "1"}, {"stringValue": "two"}])
    );
    assert_eq!(
        p["metadata"]["entityValue"]["properties"]["owner"]["stringValue"],
        "alice"
    );
    assert_eq!(p["long"]["excludeFromIndexes"], true);
    assert_eq!(p["name"].get("excludeFromIndexes"), None);
}

#[actix_web::test]
async fn other_events_are_acknowledged_and_not_stored() {
    let app = spawn_app().await;
    for event_type in ["OBJECT_DELETE", "OBJECT_ARCHIVE", "OBJECT_METADATA_UPDATE"] {
        let (status, body) = app
            .push(&envelope(event_type, &object_metadata("a"), event_type))
            .await;
        assert_eq!(
            (status, body),
            (200, json!({"message": "This is not a file upload event."}))
        );
    }
    assert!(app.storage_logs().await.is_empty());
}

#[actix_web::test]
async fn a_redelivery_answers_the_same_and_stores_once() {
    let app = spawn_app().await;
    let delivery = envelope("OBJECT_FINALIZE", &object_metadata("again.txt"), "2002");
    let (first_status, first) = app.push(&delivery).await;
    // HTTP-dates have whole seconds: a redelivery stored anew more than a second later would
    // answer another timestamp. (Waiting longer only makes the check stronger: it cannot flake.)
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (second_status, second) = app.push(&delivery).await;
    assert_eq!((first_status, second_status), (200, 200));
    assert_eq!(
        first, second,
        "a redelivery answers what was stored, timestamp included"
    );
    assert_eq!(app.storage_logs().await.len(), 1);
}

#[actix_web::test]
async fn ten_concurrent_duplicates_store_one_entity() {
    let app = spawn_app().await;
    let delivery = envelope("OBJECT_FINALIZE", &object_metadata("burst.txt"), "3003");
    let pushes = (0..10).map(|_| app.push(&delivery));
    let answers = futures_util::future::join_all(pushes).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body, &answers[0].1);
    }
    let logs = app.storage_logs().await;
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["key"]["path"][0]["name"], "3003");
}

#[actix_web::test]
async fn ids_datastore_cannot_name_still_store_once() {
    let app = spawn_app().await;
    // Too long for a key name, reserved, and one that looks like a CloudEvent's name.
    for id in [
        "7".repeat(2000),
        "__reserved__".to_owned(),
        "ce:1:x1".to_owned(),
    ] {
        let delivery = envelope("OBJECT_FINALIZE", &object_metadata("odd-id.txt"), &id);
        let pushes = (0..4).map(|_| app.push(&delivery));
        for (status, body) in futures_util::future::join_all(pushes).await {
            assert_eq!(status, 200, "{body}");
        }
    }
    let logs = app.storage_logs().await;
    assert_eq!(logs.len(), 3, "one entity per message id");
    for log in &logs {
        let name = log["key"]["path"][0]["name"].as_str().unwrap_or_default();
        assert!(name.starts_with("sha256:") && name.len() == 71, "{name}");
    }
}

#[actix_web::test]
async fn payload_format_none_stores_the_attributes() {
    let app = spawn_app().await;
    let mut delivery = envelope("OBJECT_FINALIZE", &object_metadata("bare.txt"), "4004");
    delivery["message"]["data"] = json!("");
    delivery["message"]["attributes"]["payloadFormat"] = json!("NONE");
    let (status, body) = app.push(&delivery).await;
    assert_eq!(status, 200, "{body}");
    let logs = app.storage_logs().await;
    let p = &logs[0]["properties"];
    assert_eq!(p["name"]["stringValue"], "bare.txt");
    assert_eq!(p["bucket"]["stringValue"], "demo-bucket");
    assert_eq!(p["generation"]["stringValue"], "1593600000123456");
    assert_eq!(p["eventTime"]["stringValue"], "2020-07-01T10:40:00.123Z");
}

#[actix_web::test]
async fn a_push_without_a_usable_message_id_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let object = object_metadata("no-id.txt");
    for ids in [
        json!({}),
        json!({"messageId": ""}),
        json!({"messageId": 42}),
    ] {
        let mut push = envelope("OBJECT_FINALIZE", &object, "unused");
        let message = push["message"].as_object_mut().expect("object");
        message.remove("messageId");
        message.remove("message_id");
        message.extend(ids.as_object().expect("object").clone());
        let (status, body) = app.push(&push).await;
        assert_eq!(status, 400, "{ids}: {body}");
        let reason = body["message"].as_str().unwrap_or_default();
        assert!(
            reason.contains("messageId must be a non-empty string"),
            "{body}"
        );
    }
    assert_eq!(app.storage_logs().await.len(), 0);
}

#[actix_web::test]
async fn an_empty_message_id_beside_a_usable_message_id_uses_the_usable_one() {
    let app = spawn_app().await;
    let object = object_metadata("snake.txt");
    let mut push = envelope("OBJECT_FINALIZE", &object, "4242");
    push["message"]["messageId"] = json!("");
    let (status, body) = app.push(&push).await;
    assert_eq!(status, 200, "{body}");
    let logs = app.storage_logs().await;
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["key"]["path"][0]["name"], "4242");
}
