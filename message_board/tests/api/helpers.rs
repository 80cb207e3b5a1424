//! One way to start message_board for a test: in-process on port 0, in a namespace of its own,
//! on the shared emulator (`scripts/test.sh`) or on one the test owns.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::{DatastoreRest, datastore_namespace, read, shared_datastore_host, test_config};

pub type TestApp = test_support::TestApp<DatastoreRest>;

/// On the shared emulator, in a fresh namespace.
pub async fn spawn_app() -> TestApp {
    spawn_app_on(&shared_datastore_host(), Duration::from_secs(5)).await
}

/// On the emulator at `host`, with `deadline` for Datastore calls.
pub async fn spawn_app_on(host: &str, deadline: Duration) -> TestApp {
    let (settings, datastore) = datastore_namespace("board", host, deadline);
    let application =
        message_board::startup::build(&test_config(), settings).expect("bind a free port");
    TestApp::run(application, datastore)
}

/// message_board's routes, answered 200: the answer's JSON.
pub trait Board {
    async fn store(&self, name: &str, message: &str) -> Value;
    async fn retrieve(&self, name: &str) -> Value;
}

impl Board for TestApp {
    async fn store(&self, name: &str, message: &str) -> Value {
        let body = json!({"name": name, "message": message});
        let (status, _, body) = read(self.post_json("/api/v1/store", &body).await).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }

    async fn retrieve(&self, name: &str) -> Value {
        let body = json!({"name": name});
        let (status, _, body) = read(self.post_json("/api/v1/retrieve", &body).await).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }
}
