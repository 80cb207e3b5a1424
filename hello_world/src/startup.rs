use std::io;

use common::{Application, Config};

use crate::routes;

pub fn build(config: &Config) -> io::Result<Application> {
    Application::build(config, routes::configure)
}
