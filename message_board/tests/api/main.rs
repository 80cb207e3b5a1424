//! Black-box tests of message_board over HTTP, against the Datastore emulator.

// Helpers outside #[test] functions may unwrap and expect too: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod helpers;
mod openapi;
mod retrieve;
mod serial;
mod store;
