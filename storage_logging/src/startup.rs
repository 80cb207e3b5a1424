use std::io;

use actix_web::web;
use common::datastore::Datastore;
use common::{Application, Config};

use crate::push_auth::PushAuth;
use crate::routes;
use crate::settings::Settings;

pub fn build(config: &Config, settings: Settings) -> io::Result<Application> {
    let datastore = settings.datastore;
    let purge = settings.purge;
    // One verifier for all workers, so that Google's keys are fetched once.
    let push_auth = settings.push_auth.map(|s| web::Data::new(PushAuth::new(s)));
    // Called once per HTTP worker: each has its own Datastore client, on its own runtime.
    Application::build(config, move |cfg| {
        routes::configure(
            cfg,
            Datastore::new(datastore.clone()),
            purge,
            push_auth.clone(),
        )
    })
}
