//! A service binary as a process a test owns, its JSON log lines collected.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The service binary, started with `vars` on top of PORT=0 and JSON logs, its stdout collected.
pub struct ServiceProcess {
    child: Child,
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl ServiceProcess {
    /// Starts `binary` (a test's `env!("CARGO_BIN_EXE_...")`) and waits for its start-up line.
    pub fn start(binary: &str, vars: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs([("PORT", "0"), ("LOG_FORMAT", "json"), ("RUST_LOG", "info")])
            .envs(vars.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start the binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let collected = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                collected.lock().expect("not poisoned").push(line);
            }
        });
        let mut process = Self {
            child,
            port: 0,
            lines,
        };
        let listening = process.wait_for_log(|entry| {
            entry["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("listening on port"))
        });
        process.port = listening["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .expect("the start-up line has the port");
        process
    }

    /// Starts `binary` on the shared Datastore emulator, in a namespace of its own, with `vars`
    /// besides.
    pub fn start_on_datastore(binary: &str, vars: &[(&str, &str)]) -> Self {
        let host = crate::shared_datastore_host();
        let namespace = crate::unique_namespace("process");
        let datastore = [
            ("RUST_LOG", "warn,common=info"),
            ("DATASTORE_EMULATOR_HOST", host.as_str()),
            ("DATASTORE_PROJECT_ID", crate::PROJECT),
            ("DATASTORE_NAMESPACE", namespace.as_str()),
        ];
        Self::start(binary, &[&datastore[..], vars].concat())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The first JSON log line that matches, waiting up to 5 s for it.
    pub fn wait_for_log(&self, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = self
                .lines
                .lock()
                .expect("not poisoned")
                .iter()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .find(|entry| matches(entry));
            if let Some(entry) = found {
                return entry;
            }
            let lines = self.lines.lock().expect("not poisoned").join("\n");
            assert!(Instant::now() < deadline, "no such log line in:\n{lines}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The log lines of severity WARNING and above so far, for a failing test to show.
    pub fn problems(&self) -> String {
        let lines = self.lines.lock().expect("not poisoned");
        let problems: Vec<&str> = lines
            .iter()
            .filter(|line| {
                serde_json::from_str::<Value>(line).is_ok_and(|entry| {
                    matches!(
                        entry["severity"].as_str(),
                        Some("WARNING" | "ERROR" | "CRITICAL")
                    )
                })
            })
            .map(String::as_str)
            .collect();
        problems.join("\n")
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit; its exit code and how long it took.
    pub fn wait_exit(&mut self, limit: Duration) -> (Option<i32>, Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return (status.code(), started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the process did not exit within {limit:?}");
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        // A test that failed half-way must not leave the binary running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
