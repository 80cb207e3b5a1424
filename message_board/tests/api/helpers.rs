//! One way to start message_board for a test: in-process on port 0, in a namespace of its own,
//! on the shared emulator (`scripts/test.sh`) or on one the test owns.

use std::time::Duration;

use common::configuration::Env;
use message_board::retrieval::Retrieval;
use message_board::settings::Settings;
use serde_json::{Value, json};
use test_support::{
    Answer, DatastoreRest, datastore_namespace, read, shared_datastore_host, test_config,
};

pub type TestApp = test_support::TestApp<DatastoreRest>;

/// On the shared emulator, in a fresh namespace.
pub async fn spawn_app() -> TestApp {
    spawn_app_on(&shared_datastore_host(), Duration::from_secs(5)).await
}

/// On the emulator at `host`, with `deadline` for Datastore calls.
pub async fn spawn_app_on(host: &str, deadline: Duration) -> TestApp {
    spawn_app_with(host, deadline, default_retrieval()).await
}

/// On the emulator at `host`, with `deadline` for Datastore calls and retrieves sharing
/// `retrieval` (a test keeps a clone to see its budget).
pub async fn spawn_app_with(host: &str, deadline: Duration, retrieval: Retrieval) -> TestApp {
    let (settings, datastore) = datastore_namespace("board", host, deadline);
    let application = message_board::startup::build(&test_config(), settings, retrieval)
        .expect("bind a free port");
    TestApp::run(application, datastore)
}

/// What the service shares when nothing is set.
pub fn default_retrieval() -> Retrieval {
    let settings = Settings::read(&Env::from_pairs(&[])).expect("the defaults are valid");
    Retrieval::new(settings.retrieve)
}

/// message_board's routes, answered 200: the answer's JSON.
pub trait Board {
    async fn store(&self, name: &str, message: &str) -> Value;
    async fn retrieve(&self, name: &str) -> Value;
}

impl Board for TestApp {
    async fn store(&self, name: &str, message: &str) -> Value {
        let body = json!({"name": name, "message": message});
        let Answer { status, body, .. } =
            read(self.client.post_json("/api/v1/store", &body).await).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }

    async fn retrieve(&self, name: &str) -> Value {
        let body = json!({"name": name});
        let Answer { status, body, .. } =
            read(self.client.post_json("/api/v1/retrieve", &body).await).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }
}

/// `message NNNN`, padded to `bytes`.
pub fn message_text(i: usize, bytes: usize) -> String {
    let text = format!("message {i:04}");
    let padding = bytes.saturating_sub(text.len());
    text + &".".repeat(padding)
}

/// Seeds `count` messages of `bytes` (at least `message NNNN`) for `name`, one second apart,
/// straight into Datastore.
pub async fn seed_messages(datastore: &DatastoreRest, name: &str, count: usize, bytes: usize) {
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
                "message": {"stringValue": message_text(i, bytes), "excludeFromIndexes": true},
                "timestamp": {"timestampValue": at},
            });
            (
                json!([{"kind": "Message", "name": format!("seed-{i}")}]),
                properties,
            )
        })
        .collect::<Vec<_>>();
    // The emulator takes at most 4 MiB a commit.
    for chunk in entities.chunks((2 * 1024 * 1024 / (bytes + 1)).max(1)) {
        datastore.upsert(chunk.to_vec()).await;
    }
}
