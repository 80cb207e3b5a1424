//! Black-box tests of message_board over HTTP, against the Datastore emulator.

mod bad_input;
mod fault;
mod helpers;
mod openapi;
mod outage;
mod resilience;
mod retrieve;
mod shutdown;
mod store;
