use std::io;

use common::datastore::{Datastore, DatastoreSettings};
use common::{Application, Config};

use crate::routes;

pub fn build(config: &Config, datastore: DatastoreSettings) -> io::Result<Application> {
    // Called once per HTTP worker: each has its own Datastore client, on its own runtime.
    Application::build(config, move |cfg| {
        routes::configure(cfg, Datastore::new(datastore.clone()))
    })
}
