//! Black-box tests: the service over HTTP, in-process on port 0, or as the real binary.

// Helpers outside #[test] functions may unwrap and expect too: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod hello;
mod helpers;
mod openapi;
mod process;
mod serial;
