//! message_board's own settings, read with the common ones at start-up.

use std::time::Duration;

use common::configuration::{ConfigError, Env};
use common::datastore::DatastoreSettings;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub datastore: DatastoreSettings,
    pub retrieve: RetrieveSettings,
}

/// What retrieves may hold (docs/reliability.md, "Retrieves").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrieveSettings {
    /// `RETRIEVE_BUDGET_BYTES` (default 32 MiB): Datastore answers that retrieves hold at once
    /// across the instance, each page counted from before it is asked for until it is written out.
    pub budget: usize,
    /// `READER_STALL_SECONDS` (default 10, at least 10): a client that takes no part of an answer
    /// for this long is cut off, and what its retrieve held goes back.
    pub reader_stall: Duration,
}

pub const DEFAULT_RETRIEVE_BUDGET: usize = 32 * 1024 * 1024;
/// 64 KiB, the most handed to the connection at once, in 10 s is 6.5 KB/s: slower than any live
/// client on a mobile network, and short enough that stalled readers cannot keep others waiting
/// past the 30 s a retrieve waits for its share.
pub const DEFAULT_READER_STALL: Duration = Duration::from_secs(10);
/// Cloud Run's own request timeout, 300 s by default, bounds a stalled reader anyway.
const MAX_READER_STALL_SECONDS: u64 = 300;

impl Settings {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            datastore: DatastoreSettings::read(env)?,
            retrieve: RetrieveSettings {
                budget: env.bytes_or("RETRIEVE_BUDGET_BYTES", DEFAULT_RETRIEVE_BUDGET)?,
                reader_stall: Duration::from_secs(env.range_or(
                    "READER_STALL_SECONDS",
                    DEFAULT_READER_STALL.as_secs(),
                    DEFAULT_READER_STALL.as_secs()..=MAX_READER_STALL_SECONDS,
                )?),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<RetrieveSettings, ConfigError> {
        Settings::read(&Env::from_pairs(vars)).map(|settings| settings.retrieve)
    }

    #[test]
    fn retrieve_settings_have_defaults_and_bounds() {
        assert_eq!(
            read(&[]),
            Ok(RetrieveSettings {
                budget: DEFAULT_RETRIEVE_BUDGET,
                reader_stall: DEFAULT_READER_STALL,
            })
        );
        let set = read(&[
            ("RETRIEVE_BUDGET_BYTES", "1048576"),
            ("READER_STALL_SECONDS", "60"),
        ]);
        assert_eq!(
            set.map(|s| (s.budget, s.reader_stall.as_secs())),
            Ok((1_048_576, 60))
        );
        for (variable, value) in [
            ("RETRIEVE_BUDGET_BYTES", "0"),
            ("READER_STALL_SECONDS", "9"),
            ("READER_STALL_SECONDS", "301"),
        ] {
            assert_eq!(
                read(&[(variable, value)]).map_err(|e| e.variable),
                Err(variable)
            );
        }
    }
}
