use std::io;

use common::datastore::{Datastore, DatastoreSettings};
use common::{Application, Config};

use crate::routes;

pub fn build(config: &Config, datastore: DatastoreSettings) -> io::Result<Application> {
    let datastore = Datastore::new(datastore);
    Application::build(config, move |cfg| routes::configure(cfg, datastore.clone()))
}
