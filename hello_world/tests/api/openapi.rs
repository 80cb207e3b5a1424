//! `openapi/hello_world.json` and the service cannot drift: the same routes, and every
//! documented example and error answered as documented (`test_support::openapi_tests`).

test_support::openapi_tests!(
    "hello_world",
    crate::helpers::spawn_app,
    hello_world::routes::endpoints
);
