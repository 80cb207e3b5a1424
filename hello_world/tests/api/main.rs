//! Black-box tests: the service over HTTP, in-process on port 0, or as the real binary.

mod bad_input;
mod hello;
mod helpers;
mod openapi;
mod process;
mod serial;
