mod hello;

use common::routes::Routes;

pub use hello::hello;

/// The original's text, trailing space included.
pub const ROOT_TEXT: &str = "Hello world service. ";

/// The service's endpoints, added to the app (`web::ServiceConfig`) or to a test's list.
pub fn endpoints(routes: &mut impl Routes) {
    routes.add(common::routes::root(ROOT_TEXT));
    routes.add(common::routes::post("/api/v1/hello", hello));
}
