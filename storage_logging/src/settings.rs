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

/// 100 years: a longer retention is a typo (and past about 8e12 s the cutoff is not a date).
pub const MAX_RETENTION_SECONDS: u64 = 100 * 365 * 24 * 3600;

impl Settings {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            datastore: DatastoreSettings::read(env)?,
            purge: PurgeSettings {
                retention: Duration::from_secs(env.range_or(
                    "PURGE_RETENTION_SECONDS",
                    180,
                    0..=MAX_RETENTION_SECONDS,
                )?),
                // 0 would delete nothing and report success.
                time_budget: Duration::from_secs(env.positive_or("PURGE_TIME_BUDGET_SECONDS", 50)?),
            },
            push_auth: PushAuthSettings::read(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<PurgeSettings, ConfigError> {
        Settings::read(&Env::from_pairs(vars)).map(|settings| settings.purge)
    }

    #[test]
    fn purge_settings_that_would_panic_or_do_nothing_are_refused() {
        let retention = read(&[("PURGE_RETENTION_SECONDS", "9000000000000")]);
        assert_eq!(
            retention.map_err(|e| e.to_string()),
            Err(format!(
                "invalid configuration: PURGE_RETENTION_SECONDS=\"9000000000000\": must be at most {MAX_RETENTION_SECONDS}"
            ))
        );
        assert!(read(&[("PURGE_TIME_BUDGET_SECONDS", "0")]).is_err());
        assert_eq!(
            read(&[("PURGE_RETENTION_SECONDS", "0")]).map(|p| p.retention),
            Ok(Duration::ZERO)
        );
    }
}
