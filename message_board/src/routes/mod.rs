mod retrieve;
mod store;

use actix_web::web;
use common::datastore::Datastore;

pub use retrieve::retrieve;
pub use store::store;

/// The original's text, trailing space included.
pub const ROOT_TEXT: &str = "Message board service. ";

pub fn configure(cfg: &mut web::ServiceConfig, datastore: Datastore) {
    cfg.app_data(web::Data::new(datastore))
        .service(common::routes::root(ROOT_TEXT))
        .service(common::routes::post("/api/v1/store", store))
        .service(common::routes::post("/api/v1/retrieve", retrieve));
}
