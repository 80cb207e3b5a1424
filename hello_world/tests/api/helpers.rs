//! One way to start the service for a test: in-process on port 0 ([`spawn_app`]); the real
//! binary is `test_support::ServiceProcess`.

use std::process::Command;

use test_support::{TestApp, test_config};

/// Starts the service in this process on a free port.
pub async fn spawn_app() -> TestApp {
    let application = hello_world::startup::build(&test_config()).expect("bind a free port");
    TestApp::run(application, ())
}

/// Runs the binary with `vars` and no PORT default; its exit code and stderr.
pub fn run_to_exit(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_hello_world"))
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .expect("run the binary");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
