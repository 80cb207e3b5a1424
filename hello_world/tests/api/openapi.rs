//! `openapi/hello_world.json` and the service cannot drift: the same routes, and every documented
//! example and error answered as documented (test_support::openapi).

use test_support::openapi::{Spec, declared_routes};

use crate::helpers::spawn_app;

#[test]
fn the_description_lists_exactly_the_routes_the_code_declares() {
    let declared = declared_routes(include_str!("../../src/routes/mod.rs"));
    assert_eq!(Spec::of("hello_world").operations(), declared);
}

#[actix_web::test]
async fn the_service_answers_as_its_description_says() {
    let app = spawn_app().await;
    Spec::of("hello_world").check_against(&app).await;
}
