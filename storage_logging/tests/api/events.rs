//! `POST /api/v1/events`: CloudEvents from Eventarc in both content modes, stored exactly as a
//! Pub/Sub notification of the same object is, once per event.

use serde_json::{Value, json};

use crate::helpers::{
    EVENT_SOURCE, StorageLogging, assert_echoes_with_timestamp, envelope, json_answer,
    object_metadata, spawn_app,
};

const FINALIZED: &str = "google.cloud.storage.object.v1.finalized";

/// Each property's name and value type (`stringValue`, `integerValue`, ...), `timestamp` aside.
fn shape(entity: &Value) -> Vec<(String, Vec<String>)> {
    let properties = entity["properties"].as_object().expect("properties");
    properties
        .iter()
        .map(|(name, value)| {
            let types = value
                .as_object()
                .expect("a value")
                .keys()
                .cloned()
                .collect();
            (name.clone(), types)
        })
        .collect()
}

#[actix_web::test]
async fn a_finalized_event_in_binary_mode_is_stored_like_a_pubsub_notification() {
    let app = spawn_app().await;
    let object = object_metadata("photos/cat.png");
    let (status, body) = app
        .send_binary_event(FINALIZED, "5155508562767640", &object)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_echoes_with_timestamp(&body, &object);

    let (status, _) = app
        .push(&envelope("OBJECT_FINALIZE", &object, "1001"))
        .await;
    assert_eq!(status, 200);
    let logs = app.storage_logs().await;
    assert_eq!(logs.len(), 2, "{logs:?}");
    let by_event = logs
        .iter()
        .find(|e| {
            e["key"]["path"][0]["name"]
                == format!("ce:{}:{EVENT_SOURCE}5155508562767640", EVENT_SOURCE.len())
        })
        .expect("the event's entity, keyed by source and id");
    let by_push = logs
        .iter()
        .find(|e| e["key"]["path"][0]["name"] == "1001")
        .expect("the notification's entity");
    assert_eq!(by_event["key"]["path"][0]["kind"], "StorageLog");
    assert_eq!(shape(by_event), shape(by_push));
    let mut event_properties = by_event["properties"].clone();
    let mut push_properties = by_push["properties"].clone();
    for properties in [&mut event_properties, &mut push_properties] {
        properties.as_object_mut().map(|p| p.remove("timestamp"));
    }
    assert_eq!(event_properties, push_properties);
}

#[actix_web::test]
async fn a_finalized_event_in_structured_mode_is_stored_too() {
    let app = spawn_app().await;
    let object = object_metadata("structured.txt");
    let event = json!({
        "specversion": "1.0", "id": "77", "source": EVENT_SOURCE, "type": FINALIZED,
        "subject": "objects/structured.txt", "time": "2020-07-01T10:40:00.456Z",
        "datacontenttype": "application/json", "data": object
    });
    let (status, body) = app.send_structured_event(&event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "structured.txt");
    let logs = app.storage_logs().await;
    assert_eq!(logs.len(), 1);
    assert_eq!(
        logs[0]["key"]["path"][0]["name"],
        format!("ce:{}:{EVENT_SOURCE}77", EVENT_SOURCE.len())
    );
    assert_eq!(
        logs[0]["properties"]["bucket"]["stringValue"],
        "demo-bucket"
    );
}

#[actix_web::test]
async fn a_redelivered_event_is_stored_once_and_answered_alike() {
    let app = spawn_app().await;
    let object = object_metadata("again.txt");
    let deliveries = (0..8).map(|_| app.send_binary_event(FINALIZED, "9", &object));
    let answers = futures_util::future::join_all(deliveries).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["name"], "again.txt");
    }
    assert_eq!(app.storage_logs().await.len(), 1);
}

#[actix_web::test]
async fn other_event_types_are_acknowledged_and_not_stored() {
    let app = spawn_app().await;
    let object = object_metadata("gone.txt");
    for event_type in [
        "google.cloud.storage.object.v1.deleted",
        "google.cloud.storage.object.v1.metadataUpdated",
        "google.cloud.audit.log.v1.written",
    ] {
        let (status, body) = app.send_binary_event(event_type, "1", &object).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"message": "This is not a file upload event."}));
    }
    assert!(app.storage_logs().await.is_empty());
}

#[actix_web::test]
async fn malformed_events_are_400_json_and_store_nothing() {
    let app = spawn_app().await;
    let not_an_object = json!(["not", "an", "object"]);
    let (status, body) = app.send_binary_event(FINALIZED, "1", &not_an_object).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"message": "The request body must be a JSON object."})
    );

    let without_id =
        json!({"specversion": "1.0", "source": EVENT_SOURCE, "type": FINALIZED, "data": {}});
    let (status, body) = app.send_structured_event(&without_id).await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"message": "the id attribute is required."}));

    let plain = object_metadata("plain.txt");
    let (status, body) = json_answer(app.client.post_json("/api/v1/events", &plain).await).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("not a CloudEvent")),
        "{body}"
    );
    assert!(app.storage_logs().await.is_empty());
}

#[actix_web::test]
async fn an_upload_published_through_an_eventarc_pubsub_trigger_and_pushed_is_stored_once() {
    let app = spawn_app().await;
    let object = object_metadata("both-ways.txt");
    let push = envelope("OBJECT_FINALIZE", &object, "2070443601311540");
    // The trigger's event carries the push envelope as its data; its id is the message id.
    let (status, body) = app
        .send_binary_event(
            "google.cloud.pubsub.topic.v1.messagePublished",
            "2070443601311540",
            &push,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_echoes_with_timestamp(&body, &object);
    let (status, body) = app.push(&push).await;
    assert_eq!(status, 200, "{body}");

    let logs = app.storage_logs().await;
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["key"]["path"][0]["name"], "2070443601311540");
    assert_eq!(
        logs[0]["properties"]["name"]["stringValue"],
        "both-ways.txt"
    );
}
