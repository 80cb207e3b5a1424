use std::io;

use actix_web::web;
use common::datastore::{Datastore, DatastoreSettings};
use common::{Application, Config};

use crate::retrieval::Retrieval;
use crate::routes;

/// The service on `datastore`, its retrieves sharing `retrieval` (one for the instance, so that
/// its budget bounds the instance; a test keeps a clone to see it).
pub fn build(
    config: &Config,
    datastore: DatastoreSettings,
    retrieval: Retrieval,
) -> io::Result<Application> {
    let retrieval = web::Data::new(retrieval);
    // Called once per HTTP worker: each has its own Datastore client, on its own runtime.
    Application::build_streaming(config, move |cfg| {
        routes::configure(cfg, Datastore::new(datastore.clone()), retrieval.clone())
    })
}
