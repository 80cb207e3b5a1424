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
        .service(
            web::resource("/api/v1/pubsub")
                .route(web::post().to(pubsub))
                .default_service(common::routes::allow("POST")),
        )
        .service(
            web::resource("/api/v1/purge")
                .route(web::get().to(purge))
                .default_service(common::routes::allow("GET")),
        );
}
