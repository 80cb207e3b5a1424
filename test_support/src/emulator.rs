use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{PROJECT, free_port};

/// The JVM flags of the emulators a test starts: the quick compiler only, and one GC thread. Such
/// an emulator lives seconds and is often restarted; the optimising compiler's threads took the
/// cores from the service under test (docs/testing.md, "Times"). Not for scripts/test.sh's shared
/// emulator, whose heavy reads they slowed.
const JAVA_OPTIONS: &str = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmulatorKind {
    /// The Firestore emulator in Datastore mode: production-like ids and paging.
    FirestoreDatastoreMode,
    /// The legacy Datastore emulator: 300-entity batches.
    LegacyDatastore,
    /// The legacy Datastore emulator keeping its data in a directory of its own: what it held
    /// when stopped is there again after a restart (it writes the data when stopped with TERM;
    /// a KILLed emulator loses what it acknowledged since it started).
    LegacyDatastoreOnDisk,
    /// The Pub/Sub emulator: topics, subscriptions, push deliveries.
    PubSub,
}

/// An emulator this test started, in a process group of its own (its launcher and the `java`
/// child), stopped together when dropped.
pub struct Emulator {
    kind: EmulatorKind,
    port: u16,
    child: Option<Child>,
    /// `LegacyDatastoreOnDisk`'s data, removed when the emulator is dropped.
    data_dir: PathBuf,
}

impl Emulator {
    /// Starts one on a free port and waits until it answers.
    pub fn start(kind: EmulatorKind) -> Self {
        let port = free_port();
        let data_dir = std::env::temp_dir().join(format!("datastore-emulator-{port}"));
        let mut emulator = Self {
            kind,
            port,
            child: None,
            data_dir,
        };
        emulator.restart();
        emulator
    }

    /// [`Emulator::start`] on a blocking thread: an async test's runtime, and the service under
    /// test on it, go on while the emulator starts (a few seconds).
    pub async fn start_off_runtime(kind: EmulatorKind) -> Self {
        tokio::task::spawn_blocking(move || Self::start(kind))
            .await
            .expect("the emulator start did not panic")
    }

    /// [`Emulator::restart`] on a blocking thread, as [`Emulator::start_off_runtime`].
    pub async fn restart_off_runtime(mut self) -> Self {
        tokio::task::spawn_blocking(move || {
            self.restart();
            self
        })
        .await
        .expect("the emulator restart did not panic")
    }

    /// `host:port`, as `DATASTORE_EMULATOR_HOST` and `PUBSUB_EMULATOR_HOST` take it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts it (again) on the same port, with no data (`LegacyDatastoreOnDisk`: with what it
    /// held when stopped).
    pub fn restart(&mut self) {
        self.stop();
        let (host_flag, port_flag) = ("--host=127.0.0.1", format!("--port={}", self.port));
        // The Firestore and Pub/Sub emulators are started by the launcher `gcloud emulators ...
        // start` itself executes, which saves gcloud's own start (0.8 s of CPU, a dozen times in
        // the serial tests). The legacy Datastore emulator needs gcloud's set-up of its data
        // directory first.
        let mut command = match self.kind {
            EmulatorKind::FirestoreDatastoreMode => {
                let mut command = Command::new(sdk_platform(
                    "cloud-firestore-emulator/cloud_firestore_emulator",
                ));
                command.args([
                    "start",
                    host_flag,
                    &port_flag,
                    "--database-mode=datastore-mode",
                ]);
                command
            }
            EmulatorKind::PubSub => {
                let mut command =
                    Command::new(sdk_platform("pubsub-emulator/bin/cloud-pubsub-emulator"));
                command.args([host_flag, &port_flag]);
                command
            }
            kind @ (EmulatorKind::LegacyDatastore | EmulatorKind::LegacyDatastoreOnDisk) => {
                let store = match kind {
                    EmulatorKind::LegacyDatastoreOnDisk => {
                        format!("--data-dir={}", self.data_dir.display())
                    }
                    _ => "--no-store-on-disk".to_owned(),
                };
                let mut command = Command::new("gcloud");
                command.args([
                    "beta",
                    "emulators",
                    "datastore",
                    "start",
                    &store,
                    "--consistency=1.0",
                    &format!("--project={PROJECT}"),
                    &format!("--host-port={}", self.host()),
                ]);
                command
            }
        };
        // Ours only where the user set none: theirs may name another collector, and the JVM
        // refuses two.
        if std::env::var_os("JAVA_TOOL_OPTIONS").is_none() {
            command.env("JAVA_TOOL_OPTIONS", JAVA_OPTIONS);
        }
        // Its output, kept across restarts, is what a failed start reports.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("the emulator's log file");
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the emulator's log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "start {:?} (google-cloud-cli and its emulator components must be installed): {e}",
                    command.get_program()
                )
            });
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(60));
    }

    fn log_path(&self) -> PathBuf {
        std::env::temp_dir().join(format!("emulator-{}.log", self.port))
    }

    fn wait_ready(&mut self, limit: Duration) {
        let started = Instant::now();
        let url = format!("http://{}/", self.host());
        while started.elapsed() < limit {
            let ready = std::process::Command::new("curl")
                .args(["-fs", "-o", "/dev/null", "-m", "1", &url])
                .status()
                .is_ok_and(|status| status.success());
            if ready {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "{:?} emulator exited ({status}):\n{}",
                    self.kind,
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "{:?} emulator not ready after {limit:?}:\n{}",
            self.kind,
            self.log_tail()
        );
    }

    /// The last lines the emulator printed.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Pauses it (SIGSTOP to the whole group): connections stay open and nothing answers, as a
    /// stalled Datastore. [`Emulator::resume`] lets it go on.
    pub fn pause(&self) {
        self.signal_group("-STOP");
    }

    pub fn resume(&self) {
        self.signal_group("-CONT");
    }

    fn signal_group(&self, signal: &str) {
        if let Some(child) = &self.child {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args([signal, "--", &group]).status();
        }
    }

    /// Stops it, the whole group: KILL, as an emulator in memory has nothing to keep and its
    /// orderly shutdown takes 1.5 s; `LegacyDatastoreOnDisk` gets TERM, on which it writes its
    /// data, and KILL after 10 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = format!("-{}", child.id());
        let signal = |name: &str| {
            let _ = Command::new("kill").args([name, "--", &group]).status();
        };
        signal(match self.kind {
            EmulatorKind::LegacyDatastoreOnDisk => "-TERM",
            _ => "-KILL",
        });
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if child.try_wait().ok().flatten().is_some() && !group_alive(&group) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        signal("-KILL");
        let _ = child.wait();
    }
}

/// A file under the Cloud SDK's `platform/` directory, where `gcloud components install` puts the
/// emulators: beside the `bin/` of the `gcloud` on `PATH` (a link, as Debian's package installs
/// it, resolved).
fn sdk_platform(path: &str) -> PathBuf {
    let gcloud = std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("gcloud"))
                .find(|candidate| candidate.is_file())
        })
        .expect("gcloud on PATH (google-cloud-cli must be installed)");
    let gcloud = std::fs::canonicalize(&gcloud).unwrap_or(gcloud);
    let sdk_root = gcloud
        .parent()
        .and_then(|bin| bin.parent())
        .expect("gcloud lies in the Cloud SDK's bin/");
    sdk_root.join("platform").join(path)
}

fn group_alive(group: &str) -> bool {
    Command::new("kill")
        .args(["-0", "--", group])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(self.log_path());
        if self.kind == EmulatorKind::LegacyDatastoreOnDisk {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}
