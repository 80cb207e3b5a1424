//! Deliveries that can never succeed answer 400 with a JSON reason (Pub/Sub stops retrying them
//! once the dead-letter policy gives up) and log an ERROR with the message id.

use serde_json::{Value, json};
use test_support::ServiceProcess;
use test_support::bad_input::{
    assert_json_errors, assert_message, bodiless, json_body_mistakes, json_with_long_string, post,
};

use crate::helpers::{StorageLogging, envelope, object_metadata, spawn_app};

#[actix_web::test]
async fn malformed_deliveries_are_a_400_with_the_reason() {
    let app = spawn_app().await;
    let good = envelope("OBJECT_FINALIZE", &object_metadata("probe/ok.txt"), "5005");
    let edit = |change: &dyn Fn(&mut Value)| {
        let mut delivery = good.clone();
        change(&mut delivery);
        delivery
    };
    let cases = [
        (
            edit(&|d| {
                d.as_object_mut().map(|o| o.remove("message"));
            }),
            "message must be a JSON object.",
        ),
        (
            edit(&|d| d["message"] = Value::Null),
            "message must be a JSON object.",
        ),
        (
            edit(&|d| {
                d["message"].as_object_mut().map(|o| o.remove("attributes"));
            }),
            "message.attributes must be a JSON object.",
        ),
        (
            edit(&|d| {
                d["message"]["attributes"]
                    .as_object_mut()
                    .map(|o| o.remove("eventType"));
            }),
            "message.attributes.eventType is required.",
        ),
        (
            edit(&|d| {
                d["message"].as_object_mut().map(|o| o.remove("data"));
            }),
            "message.data is empty, but payloadFormat JSON_API_V1 promises the object's metadata.",
        ),
        (
            edit(&|d| d["message"]["data"] = json!("not base64!!")),
            "message.data is not base64: ",
        ),
        (
            edit(&|d| d["message"]["data"] = json!("aGVsbG8=")),
            "message.data does not decode to JSON: ",
        ),
        (
            edit(&|d| d["message"]["data"] = json!("eyJuYW1lIjoi")),
            "message.data does not decode to JSON: ",
        ),
        (
            edit(&|d| d["message"]["data"] = json!("WzEsMl0=")),
            "message.data must decode to a JSON object.",
        ),
        (
            edit(&|d| d["message"]["data"] = json!("/w==")),
            "message.data does not decode to UTF-8 text: ",
        ),
        (
            edit(&|d| d["message"]["data"] = json!("W1tbXV1d")),
            "message.data must decode to a JSON object.",
        ),
    ];
    for (delivery, reason) in cases {
        let (status, body) = app.push(&delivery).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
        assert_message(
            body["message"].as_str().unwrap_or_default(),
            reason,
            "a push",
        );
    }
    let nested_array = json!({"name": "n", "list": [[1]]});
    let (status, body) = app
        .push(&envelope("OBJECT_FINALIZE", &nested_array, "6006"))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "message.data cannot be stored: an array inside an array cannot be stored in Datastore."
    );
    // Bounded before anything is built: values, depth, and what Datastore refuses.
    let wide = format!("{{\"name\": \"w\", \"list\": [{}0]}}", "0,".repeat(20_000));
    let deep = format!("{{\"a\": {}1{}}}", "{\"a\": ".repeat(25), "}".repeat(25));
    for (id, data, reason) in [
        (
            "wide",
            wide,
            "message.data holds more than 1000 JSON values.",
        ),
        ("deep", deep, "message.data nests deeper than 20 levels."),
        (
            "reserved",
            r#"{"name": "r", "__key__": 1}"#.to_owned(),
            "the entity cannot be stored: the property name __key__ is reserved by Datastore.",
        ),
        (
            "empty name",
            r#"{"name": "e", "": 1}"#.to_owned(),
            "the entity cannot be stored: a property name is empty.",
        ),
    ] {
        let mut delivery = envelope("OBJECT_FINALIZE", &json!({}), id);
        delivery["message"]["data"] = json!(crate::helpers::base64_text(&data));
        let (status, body) = app.push(&delivery).await;
        assert_eq!((status, &body), (400, &json!({"message": reason})), "{id}");
    }
    assert!(app.storage_logs().await.is_empty());
}

#[actix_web::test]
async fn lenient_base64_is_accepted_as_the_original_accepts_it() {
    let app = spawn_app().await;
    for (id, data) in [
        ("nopad", "eyJuYW1lIjoicGFkIn0"),
        ("junk", "eyJu!YW1l*IjoianVu ayJ9"),
        ("lines", "eyJuYW1l\nIjoibGlu\nZXMifQ=="),
    ] {
        let mut delivery = envelope("OBJECT_FINALIZE", &json!({}), id);
        delivery["message"]["data"] = json!(data);
        let (status, body) = app.push(&delivery).await;
        assert_eq!(status, 200, "{id}: {body}");
    }
    assert_eq!(app.storage_logs().await.len(), 3);
}

#[actix_web::test]
async fn http_level_mistakes_are_json_4xx() {
    let app = spawn_app().await;
    const PUBSUB: &str = "/api/v1/pubsub";
    const EVENTS: &str = "/api/v1/events";
    let storable =
        envelope("OBJECT_FINALIZE", &object_metadata("probe/ok.txt"), "8008").to_string();
    let mut cases = json_body_mistakes(PUBSUB, 64 * 1024, &storable);
    cases.extend([
        post(
            EVENTS,
            Some("application/cloudevents+json"),
            json_with_long_string("", "data", 10 * 1024 * 1024),
            413,
            "request body is larger than the limit of 65536 bytes",
        ),
        post(
            EVENTS,
            Some("application/cloudevents+json"),
            "{",
            400,
            "The request body is not valid JSON: ",
        ),
        bodiless("GET", EVENTS, 405, "method not allowed; allowed: POST"),
        bodiless(
            "POST",
            "/api/v1/purge",
            405,
            "method not allowed; allowed: GET",
        ),
    ]);
    assert_json_errors(&app.client, cases).await;
    assert!(app.storage_logs().await.is_empty());
}

#[test]
fn an_undeliverable_message_is_logged_as_an_error_with_its_id() {
    let service = ServiceProcess::start(
        env!("CARGO_BIN_EXE_storage_logging"),
        &[
            ("DATASTORE_EMULATOR_HOST", "127.0.0.1:9"),
            ("DATASTORE_PROJECT_ID", "demo"),
        ],
    );
    let post = |delivery: &Value| {
        let status = std::process::Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-H",
                "Content-Type: application/json",
                "-d",
            ])
            .arg(delivery.to_string())
            .arg(format!("http://127.0.0.1:{}/api/v1/pubsub", service.port))
            .status()
            .expect("curl");
        assert!(status.success());
    };
    let mut delivery = envelope("OBJECT_FINALIZE", &object_metadata("x"), "7007");
    delivery["message"]["data"] = json!("aGVsbG8=");
    post(&delivery);
    let line = service.wait_for_log(|e| e["severity"] == "ERROR" && e["messageId"] == "7007");
    assert_message(
        line["message"].as_str().unwrap_or_default(),
        "undeliverable push message 7007: message.data does not decode to JSON: ",
        "the log line",
    );
    // Metadata Datastore cannot hold (a reserved property name) is refused when it is stored,
    // before any call: logged the same way.
    let reserved = json!({"name": "x", "__reserved__": 1});
    post(&envelope("OBJECT_FINALIZE", &reserved, "7008"));
    let line = service.wait_for_log(|e| e["severity"] == "ERROR" && e["messageId"] == "7008");
    assert_message(
        line["message"].as_str().unwrap_or_default(),
        "undeliverable push message 7008: ",
        "the log line of a stored-time refusal",
    );
}
