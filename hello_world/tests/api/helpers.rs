//! One way to start the service for a test: in-process on port 0 ([`spawn_app`]); the real
//! binary is `test_support::ServiceProcess`.

use std::process::Command;

use test_support::{ServiceClient, test_config};

/// Starts the service in this process on a free port.
pub async fn spawn_app() -> ServiceClient {
    let config = test_config();
    let application = hello_world::startup::build(&config).expect("bind a free port");
    let client = ServiceClient::new(application.port());
    actix_web::rt::spawn(application.run_until_stopped());
    client
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
