//! `openapi/message_board.json` and the service cannot drift: the same routes, and every
//! documented example and error answered as documented (`test_support::openapi_tests`).

test_support::openapi_tests!(
    "message_board",
    crate::helpers::spawn_app,
    message_board::routes::endpoints
);
