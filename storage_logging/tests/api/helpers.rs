//! One way to start storage_logging for a test, and realistic Cloud Storage notifications.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use storage_logging::push_auth::PushAuthSettings;
use storage_logging::settings::{PurgeSettings, Settings};
use test_support::{
    Answer, DatastoreRest, datastore_namespace, read, shared_datastore_host, test_config,
};

pub type TestApp = test_support::TestApp<DatastoreRest>;

pub struct Options {
    pub datastore_host: String,
    pub deadline: Duration,
    pub retention: Duration,
    pub push_auth: Option<PushAuthSettings>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            datastore_host: shared_datastore_host(),
            deadline: Duration::from_secs(5),
            retention: Duration::from_secs(180),
            push_auth: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let (datastore, view) =
        datastore_namespace("storage", &options.datastore_host, options.deadline);
    let settings = Settings {
        datastore,
        purge: PurgeSettings {
            retention: options.retention,
            time_budget: Duration::from_secs(50),
        },
        push_auth: options.push_auth,
    };
    let application =
        storage_logging::startup::build(&test_config(), settings).expect("bind a free port");
    TestApp::run(application, view)
}

/// storage_logging's notification routes, and what it stored.
pub trait StorageLogging {
    /// Pushes `envelope`; status and JSON body.
    async fn push(&self, envelope: &Value) -> (u16, Value);
    /// Sends a CloudEvent in binary mode, as Eventarc does: attributes in `ce-*` headers, the
    /// data as the body. Status and JSON body.
    async fn send_binary_event(&self, event_type: &str, id: &str, data: &Value) -> (u16, Value);
    /// Sends a CloudEvent in structured mode: the whole event as `application/cloudevents+json`.
    async fn send_structured_event(&self, event: &Value) -> (u16, Value);
    async fn storage_logs(&self) -> Vec<Value>;
}

/// The JSON API object metadata a finalize notification carries (as Cloud Storage sends it).
pub fn object_metadata(name: &str) -> Value {
    json!({
        "kind": "storage#object", "id": format!("demo-bucket/{name}/1593600000123456"),
        "selfLink": format!("https://www.googleapis.com/storage/v1/b/demo-bucket/o/{name}"),
        "name": name, "bucket": "demo-bucket", "generation": "1593600000123456",
        "metageneration": "1", "contentType": "text/plain",
        "timeCreated": "2020-07-01T10:40:00.123Z", "updated": "2020-07-01T10:40:00.123Z",
        "storageClass": "STANDARD", "timeStorageClassUpdated": "2020-07-01T10:40:00.123Z",
        "size": "12345", "md5Hash": "XrY7u+Ae7tCTyyK7j1rNww==",
        "mediaLink": format!("https://www.googleapis.com/download/storage/v1/b/demo-bucket/o/{name}?generation=1593600000123456&alt=media"),
        "crc32c": "yZRlqg==", "etag": "CMDr7ZWa4+oCEAE="
    })
}

/// The attributes Cloud Storage puts on a notification.
pub fn attributes(event_type: &str, name: &str) -> Value {
    json!({
        "bucketId": "demo-bucket", "eventTime": "2020-07-01T10:40:00.123Z",
        "eventType": event_type, "notificationConfig": "projects/_/buckets/demo-bucket/notificationConfigs/1",
        "objectGeneration": "1593600000123456", "objectId": name, "payloadFormat": "JSON_API_V1"
    })
}

pub fn base64(value: &Value) -> String {
    base64_text(&value.to_string())
}

pub fn base64_text(text: &str) -> String {
    STANDARD.encode(text)
}

/// A push envelope as the Pub/Sub emulator sends it.
pub fn envelope(event_type: &str, object: &Value, message_id: &str) -> Value {
    json!({
        "message": {
            "attributes": attributes(event_type, object["name"].as_str().unwrap_or("x")),
            "data": base64(object),
            "messageId": message_id, "message_id": message_id,
            "publishTime": "2020-07-01T10:40:00.456Z", "publish_time": "2020-07-01T10:40:00.456Z"
        },
        "subscription": "projects/demo/subscriptions/storage-logging-push"
    })
}

/// Where Eventarc says a Cloud Storage event comes from.
pub const EVENT_SOURCE: &str = "//storage.googleapis.com/projects/_/buckets/demo-bucket";

impl StorageLogging for TestApp {
    async fn push(&self, envelope: &Value) -> (u16, Value) {
        json_answer(self.client.post_json("/api/v1/pubsub", envelope).await).await
    }

    async fn send_binary_event(&self, event_type: &str, id: &str, data: &Value) -> (u16, Value) {
        let subject = format!("objects/{}", data["name"].as_str().unwrap_or("x"));
        let request = self
            .client
            .request(
                "POST",
                "/api/v1/events",
                Some("application/json"),
                data.to_string().into_bytes(),
            )
            .header("ce-specversion", "1.0")
            .header("ce-id", id)
            .header("ce-source", EVENT_SOURCE)
            .header("ce-type", event_type)
            .header("ce-subject", subject)
            .header("ce-time", "2020-07-01T10:40:00.456Z")
            .header("ce-bucket", "demo-bucket");
        json_answer(request.send().await.expect("the service answers")).await
    }

    async fn send_structured_event(&self, event: &Value) -> (u16, Value) {
        let response = self
            .client
            .send(
                "POST",
                "/api/v1/events",
                Some("application/cloudevents+json; charset=utf-8"),
                event.to_string().into_bytes(),
            )
            .await;
        json_answer(response).await
    }

    async fn storage_logs(&self) -> Vec<Value> {
        self.datastore.entities("StorageLog").await
    }
}

/// An upload's answer: the object's metadata as sent, plus `timestamp` as an HTTP-date.
pub fn assert_echoes_with_timestamp(body: &Value, object: &Value) {
    let mut echoed = body.clone();
    let timestamp = echoed.as_object_mut().and_then(|o| o.remove("timestamp"));
    assert_eq!(&echoed, object);
    assert!(
        timestamp
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(test_support::is_http_date),
        "{body}"
    );
}

/// Status and JSON body of an answer that must be JSON.
pub async fn json_answer(response: reqwest::Response) -> (u16, Value) {
    let Answer {
        status,
        content_type,
        body,
    } = read(response).await;
    assert_eq!(content_type, "application/json", "{body}");
    (status, serde_json::from_str(&body).expect("JSON"))
}
