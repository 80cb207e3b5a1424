mod pubsub;
mod purge;

use actix_web::web;
use common::datastore::Datastore;

use crate::settings::PurgeSettings;

pub use pubsub::pubsub;
pub use purge::purge;

/// The original's text, trailing space included.
pub const ROOT_TEXT: &str = "Storage logging service. ";

pub fn configure(
    cfg: &mut web::ServiceConfig,
    datastore: Datastore,
    purge_settings: PurgeSettings,
) {
    cfg.app_data(web::Data::new(datastore))
        .app_data(web::Data::new(purge_settings))
        .service(common::routes::root(ROOT_TEXT))
        .service(common::routes::post("/api/v1/pubsub", pubsub))
        .service(common::routes::get("/api/v1/purge", purge));
}
