//! `openapi/hello_world.json` and the service cannot drift: the same routes (as `common::routes`
//! records them), and every documented example and error answered as documented
//! (test_support::openapi).

use test_support::openapi::Spec;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn the_description_lists_exactly_the_routes_the_service_registers() {
    let app = spawn_app().await;
    Spec::of("hello_world").check_routes(&app).await;
}

#[actix_web::test]
async fn the_service_answers_as_its_description_says() {
    let app = spawn_app().await;
    Spec::of("hello_world").check_against(&app).await;
}
