//! Black-box tests of storage_logging over HTTP, against the Datastore and Pub/Sub emulators.

mod bad_input;
mod events;
mod helpers;
mod openapi;
mod pubsub;
mod purge;
mod push_auth;
mod serial;
