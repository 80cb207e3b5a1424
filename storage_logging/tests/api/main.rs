//! Black-box tests of storage_logging over HTTP, against the Datastore and Pub/Sub emulators.

mod bad_input;
mod end_to_end;
mod events;
mod fault;
mod helpers;
mod openapi;
mod pubsub;
mod purge;
mod push_auth;
mod resilience;
