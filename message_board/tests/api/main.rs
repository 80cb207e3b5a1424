//! Black-box tests of message_board over HTTP, against the Datastore emulator.

mod bad_input;
mod helpers;
mod openapi;
mod retrieve;
mod serial;
mod store;
