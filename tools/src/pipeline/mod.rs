//! The pipeline check: send N notifications into the storage logging pipeline, each naming an
//! object of this run, then read their `StorageLog` entities back and say what arrived, how often
//! and how fast.
//!
//! Every object of a run is named `pipeline-check/RUN/NNNNNN`, so one range query on `name`
//! finds them (a built-in single-property index: nothing to deploy) whatever key the service
//! gave them, and a name found twice is a notification stored twice.

mod report;
mod send;
mod wait;

pub use report::{Latency, Report};
pub use send::{Sent, Source};
pub use wait::Stored;

use std::time::Duration;

use chrono::Utc;
use common::datastore::Datastore;
use indicatif::ProgressBar;

/// What one run does.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Unique across runs: the objects' names start with `pipeline-check/RUN/`.
    pub run_id: String,
    pub count: usize,
    /// Notifications per second; `None`: as fast as [`send::MAX_IN_FLIGHT`] allows.
    pub rate: Option<f64>,
    /// The longest wait for the last `StorageLog`, counted from the last send.
    pub deadline: Duration,
    /// How long to keep reading after the last one arrived, so that a redelivery stored a second
    /// time shows.
    pub settle: Duration,
}

impl Plan {
    pub fn new(count: usize) -> Self {
        Self {
            run_id: new_run_id(),
            count,
            rate: None,
            deadline: Duration::from_secs(120),
            settle: Duration::from_secs(3),
        }
    }

    pub fn prefix(&self) -> String {
        format!("pipeline-check/{}/", self.run_id)
    }
}

/// Why a run could not finish: one line for the user.
#[derive(Debug)]
pub struct CheckError(pub String);

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckError {}

/// Checks that Datastore answers, sends the plan's notifications through `source`, waits for
/// their logs, and reports. `progress` shows sending, then storing.
pub async fn run(
    plan: &Plan,
    source: &Source,
    datastore: &Datastore,
    progress: &ProgressBar,
) -> Result<Report, CheckError> {
    wait::stored(datastore, &plan.prefix())
        .await
        .map_err(|e| CheckError(format!("cannot read StorageLog from Datastore: {e}")))?;
    progress.set_length(plan.count as u64);
    progress.set_message("sent");
    let started = Utc::now();
    let sent = send::send_all(plan, source, progress).await?;
    let send_time = Utc::now() - started;
    progress.set_position(0);
    progress.set_message("stored");
    let stored = wait::until_all_stored(datastore, plan, sent.len(), progress).await?;
    progress.finish_and_clear();
    Ok(Report::new(
        plan,
        source.via(),
        source.target(),
        &sent,
        send_time,
        &stored,
    ))
}

/// A fresh id: the start time (readable in the console) and a random suffix.
fn new_run_id() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", Utc::now().format("%Y%m%dT%H%M%SZ"), &random[..8])
}
