use std::io;

use actix_web::web;
use common::{Application, Config};

use crate::routes;

pub fn build(config: &Config) -> io::Result<Application> {
    Application::build(config, |cfg: &mut web::ServiceConfig| {
        routes::endpoints(cfg)
    })
}
