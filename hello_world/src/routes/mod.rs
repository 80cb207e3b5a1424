mod hello;

use actix_web::web;

pub use hello::hello;

/// The original's text, trailing space included.
pub const ROOT_TEXT: &str = "Hello world service. ";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(common::routes::root(ROOT_TEXT)).service(
        web::resource("/api/v1/hello")
            .route(web::post().to(hello))
            .default_service(common::routes::allow("POST")),
    );
}
