mod hello;

use actix_web::web;

pub use hello::hello;

/// The original's text, trailing space included.
pub const ROOT_TEXT: &str = "Hello world service. ";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(common::routes::root(ROOT_TEXT))
        .service(common::routes::post("/api/v1/hello", hello));
}
