//! Where Datastore is, read once from the environment with the official clients' variable names.

use std::time::Duration;

use crate::configuration::{ConfigError, Env};

/// Where Datastore is and how long a call may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreSettings {
    /// `DATASTORE_EMULATOR_HOST`: plaintext, no credentials. Unset: production with ADC.
    pub emulator_host: Option<String>,
    /// `DATASTORE_PROJECT_ID`, else `GOOGLE_CLOUD_PROJECT`; unset: detected when first needed
    /// (ADC file, then the metadata server), never at start-up.
    pub project_id: Option<String>,
    /// `DATASTORE_DATABASE_ID`; empty is the `(default)` database.
    pub database_id: String,
    /// `DATASTORE_NAMESPACE`; empty is the default namespace.
    pub namespace: String,
    /// `DATASTORE_TIMEOUT_MS` (default 5000): the most one operation may take, connecting
    /// included, before it answers 503.
    pub deadline: Duration,
}

impl DatastoreSettings {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let deadline_ms = env.positive_or("DATASTORE_TIMEOUT_MS", 5000)?;
        Ok(Self {
            emulator_host: env.text("DATASTORE_EMULATOR_HOST"),
            project_id: env
                .text("DATASTORE_PROJECT_ID")
                .or_else(|| env.text("GOOGLE_CLOUD_PROJECT")),
            database_id: env
                .text("DATASTORE_DATABASE_ID")
                .filter(|id| id != "(default)")
                .unwrap_or_default(),
            namespace: env.text("DATASTORE_NAMESPACE").unwrap_or_default(),
            deadline: Duration::from_millis(deadline_ms),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_follow_the_official_clients() {
        let read = |vars: &[(&str, &str)]| DatastoreSettings::read(&Env::from_pairs(vars));
        let defaults = read(&[]).expect("valid");
        assert_eq!(defaults.emulator_host, None);
        assert_eq!(defaults.project_id, None);
        assert_eq!(defaults.database_id, "");
        assert_eq!(defaults.namespace, "");
        assert_eq!(defaults.deadline, Duration::from_secs(5));
        let set = read(&[
            ("DATASTORE_EMULATOR_HOST", "127.0.0.1:8081"),
            ("GOOGLE_CLOUD_PROJECT", "general"),
            ("DATASTORE_PROJECT_ID", "specific"),
            ("DATASTORE_DATABASE_ID", "(default)"),
            ("DATASTORE_NAMESPACE", "tests"),
            ("DATASTORE_TIMEOUT_MS", "250"),
        ])
        .expect("valid");
        assert_eq!(set.emulator_host.as_deref(), Some("127.0.0.1:8081"));
        assert_eq!(set.project_id.as_deref(), Some("specific"));
        assert_eq!(set.database_id, "");
        assert_eq!(set.namespace, "tests");
        assert_eq!(set.deadline, Duration::from_millis(250));
        assert_eq!(
            read(&[("DATASTORE_TIMEOUT_MS", "0")]).map_err(|e| e.variable),
            Err("DATASTORE_TIMEOUT_MS")
        );
        assert_eq!(
            read(&[("DATASTORE_TIMEOUT_MS", "soon")]).map_err(|e| e.variable),
            Err("DATASTORE_TIMEOUT_MS")
        );
    }
}
