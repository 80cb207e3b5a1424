//! The one shape of a service under test: built by its `startup::build`, run in the test's own
//! process on a free port of loopback, reached through its [`ServiceClient`], with the test's own
//! view of its data (a [`DatastoreRest`] on its namespace, `()` for hello_world).

use std::time::Duration;

use common::Application;
use common::datastore::DatastoreSettings;

use crate::{DatastoreRest, PROJECT, ServiceClient, unique_namespace};

pub struct TestApp<View = ()> {
    pub client: ServiceClient,
    pub port: u16,
    /// The test's own view of what the service stored (`()` for a service without Datastore).
    pub datastore: View,
}

impl<View> TestApp<View> {
    /// Runs `application` on the test's runtime (an `#[actix_web::test]`) until the test ends.
    pub fn run(application: Application, datastore: View) -> Self {
        let port = application.port();
        tokio::task::spawn_local(application.run_until_stopped());
        Self {
            client: ServiceClient::new(port),
            port,
            datastore,
        }
    }
}

/// A Datastore namespace no other test uses, on the emulator at `host`: the service's settings
/// (Datastore calls bounded by `deadline`) and the test's own view of it.
pub fn datastore_namespace(
    prefix: &str,
    host: &str,
    deadline: Duration,
) -> (DatastoreSettings, DatastoreRest) {
    let namespace = unique_namespace(prefix);
    let settings = DatastoreSettings {
        emulator_host: Some(host.to_owned()),
        project_id: Some(PROJECT.to_owned()),
        database_id: String::new(),
        namespace: namespace.clone(),
        deadline,
    };
    (settings, DatastoreRest::new(host, &namespace))
}
