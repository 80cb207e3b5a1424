//! Logs for Cloud Logging (docs/design.md, "Logging").
//!
//! `env_logger` does the filtering (`RUST_LOG`) and the writing; we give it two formats: one JSON
//! object per line on stdout, which Cloud Run's logging agent turns into structured entries, and
//! readable text on stderr for a terminal. A middleware puts the request's trace id in a task-local
//! so that every line logged while the request runs carries it, and writes one access line per
//! request (an `httpRequest` object in JSON).

mod access;
mod line;
mod trace;

pub use access::request_telemetry;
pub use trace::TraceContext;

use crate::configuration::{Config, LogFormat};

/// The log target of access lines; `RUST_LOG=access=off` silences them.
pub const ACCESS_TARGET: &str = "access";

/// Installs the logger. Call once, before the server starts.
pub fn init(config: &Config) {
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(&config.log_filter);
    match config.log_format {
        LogFormat::Json => {
            let project = config.project_id.clone();
            builder
                .target(env_logger::Target::Stdout)
                .format(move |buf, record| line::write_json(buf, record, project.as_deref()));
        }
        LogFormat::Text => {
            builder
                .target(env_logger::Target::Stderr)
                .format(line::write_text);
        }
    }
    // Only fails when a logger is already installed (a second init in one process); keep that one.
    let _ = builder.try_init();
}

/// The longest piece of a sender's text (an id, an e-mail) a log line carries.
pub const MAX_LOGGED_CHARS: usize = 128;

/// A sender's text as a log line may carry it: at most [`MAX_LOGGED_CHARS`], control characters
/// escaped (a `%0A` in a CloudEvent id must not start a line of its own in text mode).
pub fn loggable(text: &str) -> String {
    let mut out = escape_controls(&text.chars().take(MAX_LOGGED_CHARS).collect::<String>());
    if text.chars().nth(MAX_LOGGED_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Control characters as Rust escapes (`\n`, `\u{1b}`); the rest as it is.
pub(crate) fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Request headers for the tests of the modules above.
#[cfg(test)]
fn test_headers(pairs: &[(&'static str, &'static str)]) -> actix_web::http::header::HeaderMap {
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_text_cannot_forge_or_flood_a_log_line() {
        assert_eq!(loggable("id\nforged ERROR line"), "id\\nforged ERROR line");
        assert_eq!(loggable("\u{1b}[31m"), "\\u{1b}[31m");
        let long = "x".repeat(1000);
        assert_eq!(loggable(&long).chars().count(), MAX_LOGGED_CHARS + 1);
        assert_eq!(loggable("plain-id-42"), "plain-id-42");
    }
}
