//! Configuration from the environment, read once at start-up (docs/design.md, "Configuration").
//!
//! Every service reads [`Config`]; a service with settings of its own reads them with the same
//! [`Env`] so that a bad value is reported the same way.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;
use std::time::Duration;

/// Request bodies larger than this are answered with 413 unless `BODY_LIMIT_BYTES` says otherwise.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Request bodies admitted at once across the instance (`common::body::BodyRoom`) unless
/// `BODY_ROOM_BYTES` says otherwise: 12 bodies of the largest size, measured to keep 80 of them
/// with their copies inside Cloud Run's 256 MiB (docs/reliability.md).
pub const DEFAULT_BODY_ROOM: usize = 12 * 1024 * 1024;
/// actix times out a request's headers (5 s), not its body: a body sent a byte at a time would
/// hold one of Cloud Run's 80 request slots until Cloud Run's request timeout (300 s by default).
/// 30 s takes a 1 MiB body at 35 KB/s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One Cloud Logging object per line on stdout.
    Json,
    /// Readable lines on stderr, for a terminal.
    Text,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "json" => Ok(Self::Json),
            "text" => Ok(Self::Text),
            _ => Err("expected `json` or `text`".into()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind: all interfaces, as Cloud Run expects.
    pub host: IpAddr,
    /// `PORT`; 0 picks a free port (tests).
    pub port: u16,
    /// `RUST_LOG`, an env_logger filter.
    pub log_filter: String,
    pub log_format: LogFormat,
    /// `GOOGLE_CLOUD_PROJECT`: names trace ids in logs, and is the Datastore project unless
    /// `DATASTORE_PROJECT_ID` is set.
    pub project_id: Option<String>,
    /// `BODY_LIMIT_BYTES`: largest accepted request body.
    pub body_limit: usize,
    /// `BODY_TIMEOUT_SECONDS`: the whole body must arrive within this, or 408.
    pub body_timeout: Duration,
    /// `BODY_ROOM_BYTES`: request bodies admitted at once across the instance.
    pub body_room: usize,
}

/// A setting that could not be read: start-up stops with this one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration: {}={:?}: {}",
            self.variable, self.value, self.reason
        )
    }
}

impl std::error::Error for ConfigError {}

/// Where settings come from: the process environment, or a map in tests.
pub struct Env<F>(F);

impl Env<fn(&str) -> Option<String>> {
    pub fn process() -> Self {
        Env(|name| std::env::var(name).ok())
    }

    /// Only these variables set, as a test sets them.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String> + use<>> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Env(move |name: &str| {
            pairs
                .iter()
                .find(|(set, _)| set == name)
                .map(|(_, value)| value.clone())
        })
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// The variable's value; unset and empty are the same.
    pub fn text(&self, variable: &str) -> Option<String> {
        (self.0)(variable).filter(|value| !value.is_empty())
    }

    /// The variable parsed as `T`, `default` when unset.
    pub fn parse_or<T>(&self, variable: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.text(variable) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|e: T::Err| ConfigError {
                variable,
                reason: e.to_string(),
                value,
            }),
        }
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// The variable as a number of at least 1, `default` when unset.
    pub fn positive_or(&self, variable: &'static str, default: u64) -> Result<u64, ConfigError> {
        self.range_or(variable, default, 1..=u64::MAX)
    }

    /// The variable as a number of bytes, at least 1, `default` when unset.
    pub fn bytes_or(&self, variable: &'static str, default: usize) -> Result<usize, ConfigError> {
        let bytes = self.positive_or(variable, default as u64)?;
        Ok(usize::try_from(bytes).unwrap_or(usize::MAX))
    }

    /// The variable as a number within `range`, `default` when unset.
    pub fn range_or(
        &self,
        variable: &'static str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<u64, ConfigError> {
        match self.parse_or(variable, default)? {
            n if range.contains(&n) => Ok(n),
            n => Err(ConfigError {
                variable,
                value: n.to_string(),
                reason: if n < *range.start() {
                    format!("must be at least {}", range.start())
                } else {
                    format!("must be at most {}", range.end())
                },
            }),
        }
    }
}

impl Config {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        // Cloud Run sets K_SERVICE; there the logs go to Cloud Logging, and the platform's own
        // request log already has a line per request: ours would be billed a second time.
        let on_cloud_run = env.text("K_SERVICE").is_some();
        let (default_format, default_filter) = if on_cloud_run {
            (LogFormat::Json, "info,access=off")
        } else {
            (LogFormat::Text, "info")
        };
        Ok(Self {
            host: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: env.parse_or("PORT", 8080)?,
            log_filter: env
                .text("RUST_LOG")
                .unwrap_or_else(|| default_filter.into()),
            log_format: env.parse_or("LOG_FORMAT", default_format)?,
            project_id: env.text("GOOGLE_CLOUD_PROJECT"),
            body_limit: env.bytes_or("BODY_LIMIT_BYTES", DEFAULT_BODY_LIMIT)?,
            body_timeout: Duration::from_secs(
                env.positive_or("BODY_TIMEOUT_SECONDS", DEFAULT_BODY_TIMEOUT.as_secs())?,
            ),
            body_room: env.bytes_or("BODY_ROOM_BYTES", DEFAULT_BODY_ROOM)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::read(&Env::from_pairs(vars))
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let config = read(&[]).expect("defaults are valid");
        assert_eq!(config.port, 8080);
        assert_eq!(config.log_filter, "info");
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.project_id, None);
        assert_eq!(config.body_limit, DEFAULT_BODY_LIMIT);
        assert_eq!(config.body_timeout, DEFAULT_BODY_TIMEOUT);
        assert_eq!(config.body_room, DEFAULT_BODY_ROOM);
        assert_eq!(config.host, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }

    #[test]
    fn cloud_run_defaults_to_json_logs_without_access_lines() {
        let config = read(&[("K_SERVICE", "hello-world-service")]).expect("valid");
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.log_filter, "info,access=off");
        let config = read(&[
            ("K_SERVICE", "x"),
            ("LOG_FORMAT", "text"),
            ("RUST_LOG", "info"),
        ])
        .expect("valid");
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.log_filter, "info");
    }

    #[test]
    fn values_are_read() {
        let config = read(&[
            ("PORT", "0"),
            ("RUST_LOG", "warn"),
            ("GOOGLE_CLOUD_PROJECT", "demo"),
            ("BODY_LIMIT_BYTES", "2048"),
            ("BODY_TIMEOUT_SECONDS", "3"),
            ("BODY_ROOM_BYTES", "4096"),
        ])
        .expect("valid");
        assert_eq!(config.body_room, 4096);
        assert_eq!(config.body_timeout, Duration::from_secs(3));
        assert_eq!(config.port, 0);
        assert_eq!(config.log_filter, "warn");
        assert_eq!(config.project_id.as_deref(), Some("demo"));
        assert_eq!(config.body_limit, 2048);
    }

    #[test]
    fn empty_is_unset() {
        let config = read(&[("PORT", ""), ("GOOGLE_CLOUD_PROJECT", "")]).expect("valid");
        assert_eq!(config.port, 8080);
        assert_eq!(config.project_id, None);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases = [
            ("PORT", "abc"),
            ("PORT", "70000"),
            ("LOG_FORMAT", "xml"),
            ("BODY_LIMIT_BYTES", "-1"),
            ("BODY_LIMIT_BYTES", "0"),
            ("BODY_TIMEOUT_SECONDS", "0"),
            ("BODY_ROOM_BYTES", "0"),
        ];
        for (variable, value) in cases {
            let error = read(&[(variable, value)]).expect_err(value);
            assert_eq!(error.variable, variable);
            assert_eq!(error.value, value);
            let line = error.to_string();
            assert!(
                line.starts_with(&format!("invalid configuration: {variable}=\"{value}\": ")),
                "{line}"
            );
            assert!(!line.contains('\n'), "{line}");
        }
    }
}
