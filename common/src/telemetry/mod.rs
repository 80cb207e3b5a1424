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

/// The longest request URL or user agent an access line carries.
pub const MAX_LOGGED_URL_OR_AGENT_CHARS: usize = 1024;

/// A sender's text as a log line or an answer may carry it: at most [`MAX_LOGGED_CHARS`], control
/// characters escaped (a `%0A` in a CloudEvent id must not start a line of its own in text mode).
pub fn loggable(text: &str) -> String {
    loggable_within(text, MAX_LOGGED_CHARS)
}

/// [`loggable`], at most `max_chars` of it.
pub fn loggable_within(text: &str, max_chars: usize) -> String {
    let mut out = escape_controls(&text.chars().take(max_chars).collect::<String>());
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

/// Control characters, line and paragraph separators, and the invisible marks that reorder or hide
/// text (bidi controls: a U+202E turns `gnp.exe` into `exe.png` on screen) as Rust escapes
/// (`\n`, `\u{202e}`); the rest as it is.
pub(crate) fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || is_separator_or_invisible(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Separators a viewer may break a line at, and the invisible format characters (Unicode's Cf
/// outside scripts' own marks) that change how text shows.
fn is_separator_or_invisible(c: char) -> bool {
    matches!(c,
        '\u{2028}' | '\u{2029}' // line and paragraph separators
        | '\u{00ad}' // soft hyphen
        | '\u{200b}'..='\u{200f}' // zero-width spaces and joiners, left/right-to-left marks
        | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{206f}' // bidi isolates, deprecated format controls
        | '\u{061c}' // Arabic letter mark
        | '\u{feff}' // zero-width no-break space
        | '\u{e0000}'..='\u{e007f}' // tag characters
    )
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
        assert_eq!(loggable("évé 42"), "évé 42");
    }

    #[test]
    fn separators_and_bidi_controls_are_escaped() {
        assert_eq!(loggable("a\u{2028}b\u{2029}c"), "a\\u{2028}b\\u{2029}c");
        assert_eq!(loggable("cat\u{202e}gnp.exe"), "cat\\u{202e}gnp.exe");
        assert_eq!(loggable("a\u{00ad}b\u{e0041}"), "a\\u{ad}b\\u{e0041}");
        assert_eq!(
            loggable("\u{2066}x\u{2069}\u{200f}\u{feff}"),
            "\\u{2066}x\\u{2069}\\u{200f}\\u{feff}"
        );
        assert_eq!(loggable_within(&"y".repeat(50), 10).chars().count(), 11);
    }
}
