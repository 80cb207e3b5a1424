//! Black-box tests of storage_logging over HTTP, against the Datastore and Pub/Sub emulators.

// Helpers outside #[test] functions may unwrap and expect too: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod end_to_end;
mod events;
mod helpers;
mod openapi;
mod pubsub;
mod purge;
mod push_auth;
mod serial;
