use std::io;

use common::datastore::Datastore;
use common::{Application, Config};

use crate::routes;
use crate::settings::Settings;

pub fn build(config: &Config, settings: Settings) -> io::Result<Application> {
    let datastore = Datastore::new(settings.datastore);
    let purge = settings.purge;
    Application::build(config, move |cfg| {
        routes::configure(cfg, datastore.clone(), purge)
    })
}
