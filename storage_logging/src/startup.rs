use std::io;

use actix_web::web;
use common::datastore::Datastore;
use common::{Application, Config};

use crate::push_auth::{PushAuth, PushAuthSettings};
use crate::routes;
use crate::settings::Settings;

pub fn build(config: &Config, settings: Settings) -> io::Result<Application> {
    let datastore = settings.datastore;
    let purge = settings.purge;
    log::info!(
        "{}",
        PushAuthSettings::describe(settings.push_auth.as_ref())
    );
    // One verifier for all workers, so that Google's keys are fetched once.
    let push_auth = match settings.push_auth {
        Some(s) => Some(web::Data::new(PushAuth::new(s).map_err(io::Error::other)?)),
        None => None,
    };
    // One gate for all workers: one purge at a time in the instance.
    let purge_gate = web::Data::new(routes::PurgeGate::default());
    // Called once per HTTP worker: each has its own Datastore client, on its own runtime.
    Application::build(config, move |cfg| {
        routes::configure(
            cfg,
            Datastore::new(datastore.clone()),
            purge,
            push_auth.clone(),
            purge_gate.clone(),
        )
    })
}
