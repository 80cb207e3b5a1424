mod retrieve;
mod store;

use actix_web::web;
use common::datastore::Datastore;
use common::routes::Routes;

use crate::retrieval::Retrieval;

pub use retrieve::retrieve;
pub use store::store;

/// The original's text, trailing space included.
pub const ROOT_TEXT: &str = "Message board service. ";

pub fn configure(
    cfg: &mut web::ServiceConfig,
    datastore: Datastore,
    retrieval: web::Data<Retrieval>,
) {
    cfg.app_data(web::Data::new(datastore)).app_data(retrieval);
    endpoints(cfg);
}

/// The service's endpoints, added to the app or to a test's list.
pub fn endpoints(routes: &mut impl Routes) {
    routes.add(common::routes::root(ROOT_TEXT));
    routes.add(common::routes::post("/api/v1/store", store));
    routes.add(common::routes::post("/api/v1/retrieve", retrieve));
}
