//! `openapi/storage_logging.json` and the service cannot drift: the same routes, and every
//! documented example and error answered as documented (`test_support::openapi_tests`).

test_support::openapi_tests!(
    "storage_logging",
    crate::helpers::spawn_app,
    storage_logging::routes::endpoints
);
