//! storage_logging's own settings, read with the common ones at start-up.

use std::time::Duration;

use common::configuration::{ConfigError, Env};
use common::datastore::DatastoreSettings;

use crate::push_auth::PushAuthSettings;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub datastore: DatastoreSettings,
    pub purge: PurgeSettings,
    /// Verification of push and purge callers' tokens; `None`: off (the default).
    pub push_auth: Option<PushAuthSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeSettings {
    /// `PURGE_RETENTION_SECONDS` (default 180, the original's 3 minutes): logs older than this go.
    pub retention: Duration,
    /// `PURGE_TIME_BUDGET_SECONDS` (default 50): a purge stops starting new pages after this, well
    /// inside Cloud Scheduler's attempt deadline, and reports what it deleted; the next run
    /// continues.
    pub time_budget: Duration,
}

impl Settings {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            datastore: DatastoreSettings::read(env)?,
            purge: PurgeSettings {
                retention: Duration::from_secs(env.parse_or("PURGE_RETENTION_SECONDS", 180)?),
                time_budget: Duration::from_secs(env.parse_or("PURGE_TIME_BUDGET_SECONDS", 50)?),
            },
            push_auth: PushAuthSettings::read(env)?,
        })
    }
}
