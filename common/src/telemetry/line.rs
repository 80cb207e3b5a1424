//! The two line formats: one JSON object per line for Cloud Logging (its special fields: severity,
//! trace, span, `httpRequest`), and readable text for a terminal.

use std::fmt;
use std::io::Write;

use chrono::{SecondsFormat, Utc};
use log::kv::{self, VisitSource};
use log::{Level, Record};
use serde::Serialize;
use serde::ser::SerializeMap;

use super::trace::current_trace;
use super::{ACCESS_TARGET, escape_controls};

/// One JSON log line, serialized straight into env_logger's buffer: the message and the key-values
/// are written as they are visited, without an intermediate map (an access line per request makes
/// this a hot path).
#[derive(Serialize)]
struct JsonLine<'a> {
    severity: &'static str,
    #[serde(serialize_with = "display")]
    message: &'a fmt::Arguments<'a>,
    time: String,
    module: &'a str,
    #[serde(
        rename = "logging.googleapis.com/trace",
        skip_serializing_if = "Option::is_none"
    )]
    trace: Option<String>,
    #[serde(
        rename = "logging.googleapis.com/spanId",
        skip_serializing_if = "Option::is_none"
    )]
    span_id: Option<String>,
    #[serde(
        rename = "logging.googleapis.com/trace_sampled",
        skip_serializing_if = "Option::is_none"
    )]
    trace_sampled: Option<bool>,
    /// An access line's key-values, as Cloud Logging's `httpRequest`.
    #[serde(rename = "httpRequest", skip_serializing_if = "Option::is_none")]
    http_request: Option<KeyValues<'a>>,
    /// Any other line's key-values, as top-level fields.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    fields: Option<KeyValues<'a>>,
}

fn is_null(value: &kv::Value) -> bool {
    struct Null(bool);
    impl<'v> kv::VisitValue<'v> for Null {
        fn visit_any(&mut self, _: kv::Value) -> Result<(), kv::Error> {
            Ok(())
        }
        fn visit_null(&mut self) -> Result<(), kv::Error> {
            self.0 = true;
            Ok(())
        }
    }
    let mut null = Null(false);
    let _ = value.visit(&mut null);
    null.0
}

fn display<S: serde::Serializer>(
    value: &&fmt::Arguments,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// A record's key-values as a JSON object, numbers and booleans kept as such.
struct KeyValues<'a>(&'a dyn kv::Source);

impl Serialize for KeyValues<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Entries<'m, M: SerializeMap> {
            map: &'m mut M,
            error: Option<M::Error>,
        }
        impl<'kvs, M: SerializeMap> VisitSource<'kvs> for Entries<'_, M> {
            fn visit_pair(
                &mut self,
                key: kv::Key<'kvs>,
                value: kv::Value<'kvs>,
            ) -> Result<(), kv::Error> {
                let written = if is_null(&value) {
                    // An absent optional field (a request without User-Agent): left out.
                    return Ok(());
                } else if let Some(s) = value.to_borrowed_str() {
                    self.map.serialize_entry(key.as_str(), s)
                } else if let Some(n) = value.to_u64() {
                    self.map.serialize_entry(key.as_str(), &n)
                } else if let Some(n) = value.to_i64() {
                    self.map.serialize_entry(key.as_str(), &n)
                } else if let Some(b) = value.to_bool() {
                    self.map.serialize_entry(key.as_str(), &b)
                } else if let Some(f) = value.to_f64() {
                    self.map.serialize_entry(key.as_str(), &f)
                } else {
                    self.map
                        .serialize_entry(key.as_str(), &format_args!("{value}"))
                };
                written.map_err(|e| {
                    self.error = Some(e);
                    kv::Error::msg("could not write a key-value")
                })
            }
        }
        let mut map = serializer.serialize_map(None)?;
        let mut entries = Entries {
            map: &mut map,
            error: None,
        };
        let _ = self.0.visit(&mut entries);
        if let Some(error) = entries.error {
            return Err(error);
        }
        map.end()
    }
}

fn severity(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warn => "WARNING",
        Level::Info => "INFO",
        Level::Debug | Level::Trace => "DEBUG",
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(super) fn write_json(
    buf: &mut impl Write,
    record: &Record,
    project: Option<&str>,
) -> std::io::Result<()> {
    let trace = current_trace();
    let args = record.args();
    let key_values = (record.key_values().count() > 0).then(|| KeyValues(record.key_values()));
    let (http_request, fields) = if record.target() == ACCESS_TARGET {
        (key_values, None)
    } else {
        (None, key_values)
    };
    let line = JsonLine {
        severity: severity(record.level()),
        message: args,
        time: now(),
        module: record.module_path().unwrap_or(record.target()),
        trace: trace.as_ref().map(|t| match project {
            Some(project) => format!("projects/{project}/traces/{}", t.trace_id),
            None => t.trace_id.clone(),
        }),
        span_id: trace.as_ref().and_then(|t| t.span_id.clone()),
        trace_sampled: trace.as_ref().map(|t| t.sampled),
        http_request,
        fields,
    };
    serde_json::to_writer(&mut *buf, &line)?;
    writeln!(buf)
}

pub(super) fn write_text(buf: &mut impl Write, record: &Record) -> std::io::Result<()> {
    // JSON lines escape by construction; a text line must not let a message break it.
    write!(
        buf,
        "{} {:<5} {}: {}",
        now(),
        record.level(),
        record.target(),
        escape_controls(&record.args().to_string())
    )?;
    if let Some(trace) = current_trace() {
        write!(buf, " trace={}", trace.trace_id)?;
    }
    writeln!(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::trace::{TRACE, TraceContext};
    use serde_json::Value;

    /// The JSON line `record` becomes, parsed back.
    fn json_line(record: &Record, project: Option<&str>) -> Value {
        let mut buf = Vec::new();
        write_json(&mut buf, record, project).expect("written");
        assert_eq!(buf.last(), Some(&b'\n'), "one line");
        assert_eq!(buf.iter().filter(|&&b| b == b'\n').count(), 1, "one line");
        serde_json::from_slice(&buf).expect("JSON")
    }

    #[test]
    fn an_access_line_is_an_http_request_with_numbers_kept_and_absent_values_left_out() {
        let user_agent: Option<&str> = None;
        let key_values: &[(&str, kv::Value)] = &[
            ("requestMethod", kv::Value::from("POST")),
            ("status", kv::Value::from(201u16)),
            ("latency", kv::Value::from_display(&"0.000123s")),
            ("userAgent", kv::ToValue::to_value(&user_agent)),
        ];
        let record = Record::builder()
            .args(format_args!("POST /api/v1/store 201"))
            .level(Level::Info)
            .target(ACCESS_TARGET)
            .module_path_static(Some("common::telemetry::access"))
            .key_values(&key_values)
            .build();
        let line = json_line(&record, Some("p"));
        assert_eq!(line["severity"], "INFO");
        assert_eq!(line["message"], "POST /api/v1/store 201");
        assert_eq!(line["module"], "common::telemetry::access");
        assert_eq!(line["httpRequest"]["requestMethod"], "POST");
        assert_eq!(line["httpRequest"]["status"], 201);
        assert_eq!(line["httpRequest"]["latency"], "0.000123s");
        assert!(line["httpRequest"].get("userAgent").is_none(), "{line}");
        assert!(line.get("logging.googleapis.com/trace").is_none());
        assert!(chrono::DateTime::parse_from_rfc3339(line["time"].as_str().unwrap()).is_ok());
    }

    #[test]
    fn a_line_inside_a_request_names_its_trace_and_other_key_values_are_top_level() {
        let key_values: &[(&str, kv::Value)] = &[("key", kv::Value::from("m-1"))];
        let record = Record::builder()
            .args(format_args!("stored \"m-1\"\n"))
            .level(Level::Warn)
            .target("storage_logging")
            .key_values(&key_values)
            .build();
        let trace = TraceContext {
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            span_id: Some("00f067aa0ba902b7".into()),
            sampled: true,
        };
        let line = TRACE.sync_scope(Some(trace), || json_line(&record, Some("p")));
        assert_eq!(line["severity"], "WARNING");
        assert_eq!(line["message"], "stored \"m-1\"\n");
        assert_eq!(line["key"], "m-1");
        assert_eq!(
            line["logging.googleapis.com/trace"],
            "projects/p/traces/4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(line["logging.googleapis.com/spanId"], "00f067aa0ba902b7");
        assert_eq!(line["logging.googleapis.com/trace_sampled"], true);
        assert!(line.get("httpRequest").is_none());
    }

    #[test]
    fn a_text_line_escapes_what_would_break_it() {
        let record = Record::builder()
            .args(format_args!("id\nforged ERROR line"))
            .level(Level::Info)
            .target("t")
            .build();
        let mut buf = Vec::new();
        write_text(&mut buf, &record).expect("written");
        let text = String::from_utf8(buf).expect("UTF-8");
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.ends_with("INFO  t: id\\nforged ERROR line\n"),
            "{text}"
        );
    }
}
