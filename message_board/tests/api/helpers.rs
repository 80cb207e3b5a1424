//! One way to start message_board for a test: in-process on port 0, in a namespace of its own,
//! on the shared emulator (`scripts/test.sh`) or on one the test owns.

use std::time::Duration;

use common::datastore::DatastoreSettings;
use serde_json::{Value, json};
use test_support::{
    DatastoreRest, PROJECT, ServiceClient, read, shared_datastore_host, test_config,
    unique_namespace,
};

pub struct TestApp {
    pub client: ServiceClient,
    /// The test's own view of Datastore, in the app's namespace.
    pub datastore: DatastoreRest,
}

/// On the shared emulator, in a fresh namespace.
pub async fn spawn_app() -> TestApp {
    spawn_app_on(&shared_datastore_host(), Duration::from_secs(5)).await
}

/// On the emulator at `host`, with `deadline` for Datastore calls.
pub async fn spawn_app_on(host: &str, deadline: Duration) -> TestApp {
    let namespace = unique_namespace("board");
    let config = test_config();
    let settings = DatastoreSettings {
        emulator_host: Some(host.to_owned()),
        project_id: Some(PROJECT.to_owned()),
        database_id: String::new(),
        namespace: namespace.clone(),
        deadline,
    };
    let application = message_board::startup::build(&config, settings).expect("bind a free port");
    let client = ServiceClient::new(application.port());
    actix_web::rt::spawn(application.run_until_stopped());
    TestApp {
        client,
        datastore: DatastoreRest::new(host, &namespace),
    }
}

impl TestApp {
    pub async fn store(&self, name: &str, message: &str) -> Value {
        let body = json!({"name": name, "message": message});
        let (status, _, body) = read(self.post_json("/api/v1/store", &body).await).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }

    pub async fn retrieve(&self, name: &str) -> Value {
        let body = json!({"name": name});
        let (status, _, body) = read(self.post_json("/api/v1/retrieve", &body).await).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }
}

impl std::ops::Deref for TestApp {
    type Target = ServiceClient;

    fn deref(&self) -> &ServiceClient {
        &self.client
    }
}
