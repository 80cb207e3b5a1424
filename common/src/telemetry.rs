//! Logs for Cloud Logging (DESIGN.md, "Logging").
//!
//! `env_logger` does the filtering (`RUST_LOG`) and the writing; we give it two formats: one JSON
//! object per line on stdout, which Cloud Run's logging agent turns into structured entries, and
//! readable text on stderr for a terminal. A middleware puts the request's trace id in a task-local
//! so that every line logged while the request runs carries it, and writes one access line per
//! request (an `httpRequest` object in JSON).

use std::fmt;
use std::io::Write;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, Uri, Version};
use actix_web::middleware::Next;
use chrono::{SecondsFormat, Utc};
use log::kv::{self, VisitSource};
use log::{Level, Record};
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::configuration::{Config, LogFormat};

/// The log target of access lines; `RUST_LOG=access=off` silences them.
pub const ACCESS_TARGET: &str = "access";

/// The trace of the request being served, from its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits, when the header has one.
    pub span_id: Option<String>,
    pub sampled: bool,
}

tokio::task_local! {
    static TRACE: Option<TraceContext>;
}

impl TraceContext {
    /// From W3C `traceparent`, else from Google's `X-Cloud-Trace-Context`.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        value("traceparent")
            .and_then(Self::from_traceparent)
            .or_else(|| value("x-cloud-trace-context").and_then(Self::from_cloud_trace_context))
    }

    /// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`.
    fn from_traceparent(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let (version, trace_id, span_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version.len() != 2 || version == "ff" || !is_hex_id(trace_id, 32) {
            return None;
        }
        let flags = u8::from_str_radix(flags.get(..2)?, 16).ok()?;
        Some(Self {
            trace_id: trace_id.to_ascii_lowercase(),
            span_id: is_hex_id(span_id, 16).then(|| span_id.to_ascii_lowercase()),
            sampled: flags & 1 == 1,
        })
    }

    /// `TRACE_ID/SPAN_ID;o=OPTIONS`, the span id in decimal.
    fn from_cloud_trace_context(value: &str) -> Option<Self> {
        let (ids, options) = value.trim().split_once(";o=").unwrap_or((value.trim(), ""));
        let (trace_id, span_id) = ids.split_once('/').unwrap_or((ids, ""));
        if !is_hex_id(trace_id, 32) {
            return None;
        }
        Some(Self {
            trace_id: trace_id.to_ascii_lowercase(),
            span_id: span_id
                .parse::<u64>()
                .ok()
                .filter(|&id| id != 0)
                .map(|id| format!("{id:016x}")),
            sampled: options == "1",
        })
    }
}

/// `len` hex digits, not all zero (the W3C "invalid" id).
fn is_hex_id(id: &str, len: usize) -> bool {
    id.len() == len && id.bytes().all(|b| b.is_ascii_hexdigit()) && id.bytes().any(|b| b != b'0')
}

/// Installs the logger. Call once, before the server starts.
pub fn init(config: &Config) {
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(&config.log_filter);
    match config.log_format {
        LogFormat::Json => {
            let project = config.project_id.clone();
            builder
                .target(env_logger::Target::Stdout)
                .format(move |buf, record| write_json(buf, record, project.as_deref()));
        }
        LogFormat::Text => {
            builder
                .target(env_logger::Target::Stderr)
                .format(write_text);
        }
    }
    // Only fails when a logger is already installed (a second init in one process); keep that one.
    let _ = builder.try_init();
}

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

fn current_trace() -> Option<TraceContext> {
    TRACE.try_with(Clone::clone).ok().flatten()
}

fn write_json(buf: &mut impl Write, record: &Record, project: Option<&str>) -> std::io::Result<()> {
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
fn escape_controls(text: &str) -> String {
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

fn write_text(buf: &mut impl Write, record: &Record) -> std::io::Result<()> {
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

/// Middleware: runs the request with its trace context and writes its access line.
pub async fn request_telemetry(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let trace = TraceContext::from_headers(req.headers());
    TRACE
        .scope(trace, async move {
            if !log::log_enabled!(target: ACCESS_TARGET, Level::Info) {
                return next.call(req).await;
            }
            let started = Instant::now();
            let request = AccessRequest::from(&req);
            let response = next.call(req).await;
            if let Ok(response) = &response {
                request.log(response, started);
            }
            response
        })
        .await
}

/// What the access line needs of the request, taken before the request moves on.
struct AccessRequest {
    method: Method,
    url: Uri,
    protocol: &'static str,
    user_agent: Option<String>,
    remote_ip: Option<String>,
}

impl From<&ServiceRequest> for AccessRequest {
    fn from(req: &ServiceRequest) -> Self {
        let info = req.connection_info();
        Self {
            method: req.method().clone(),
            url: req.uri().clone(),
            protocol: protocol(req.version()),
            user_agent: req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            remote_ip: client_ip(req.headers()).or_else(|| info.peer_addr().map(str::to_owned)),
        }
    }
}

/// The client's address: the last `X-Forwarded-For` entry, the one Google's front end appends
/// (what a client writes into the header itself comes before it and proves nothing).
fn client_ip(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-forwarded-for")?
        .to_str()
        .ok()?
        .rsplit(',')
        .map(str::trim)
        .find(|entry| !entry.is_empty())
        .map(loggable)
}

impl AccessRequest {
    fn log<B: MessageBody>(&self, response: &ServiceResponse<B>, started: Instant) {
        let status = response.status().as_u16();
        let latency = started.elapsed().as_secs_f64();
        let size = match response.response().body().size() {
            actix_web::body::BodySize::Sized(n) => Some(n),
            _ => None,
        };
        let level = if status >= 500 {
            Level::Error
        } else if status >= 400 {
            Level::Warn
        } else {
            Level::Info
        };
        log::log!(
            target: ACCESS_TARGET,
            level,
            requestMethod = self.method.as_str(),
            requestUrl:% = self.url,
            status = status,
            latency:% = DurationSeconds(latency),
            protocol = self.protocol,
            userAgent = self.user_agent.as_deref(),
            remoteIp = self.remote_ip.as_deref(),
            responseSize = size;
            "{} {} {} {:.3} ms",
            self.method,
            self.url,
            status,
            latency * 1000.0
        );
    }
}

fn protocol(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// Seconds as Cloud Logging reads a protobuf Duration: `0.000123s`.
struct DurationSeconds(f64);

impl fmt::Display for DurationSeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn senders_text_cannot_forge_or_flood_a_log_line() {
        assert_eq!(loggable("id\nforged ERROR line"), "id\\nforged ERROR line");
        assert_eq!(loggable("\u{1b}[31m"), "\\u{1b}[31m");
        let long = "x".repeat(1000);
        assert_eq!(loggable(&long).chars().count(), MAX_LOGGED_CHARS + 1);
        assert_eq!(loggable("plain-id-42"), "plain-id-42");
    }

    #[test]
    fn the_client_ip_is_the_hop_googles_front_end_adds() {
        let forged = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9")]);
        assert_eq!(client_ip(&forged).as_deref(), Some("203.0.113.9"));
        assert_eq!(
            client_ip(&headers(&[("x-forwarded-for", "203.0.113.9")])).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(client_ip(&headers(&[])), None);
    }

    #[test]
    fn traceparent_is_read() {
        let trace = TraceContext::from_headers(&headers(&[(
            "traceparent",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        )]));
        assert_eq!(
            trace,
            Some(TraceContext {
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                span_id: Some("00f067aa0ba902b7".into()),
                sampled: true,
            })
        );
    }

    #[test]
    fn cloud_trace_context_is_read() {
        let trace = TraceContext::from_headers(&headers(&[(
            "x-cloud-trace-context",
            "105445aa7843bc8bf206b12000100000/1;o=1",
        )]));
        assert_eq!(
            trace,
            Some(TraceContext {
                trace_id: "105445aa7843bc8bf206b12000100000".into(),
                span_id: Some("0000000000000001".into()),
                sampled: true,
            })
        );
        let bare = TraceContext::from_headers(&headers(&[(
            "x-cloud-trace-context",
            "105445aa7843bc8bf206b12000100000",
        )]))
        .expect("trace id alone is enough");
        assert_eq!(bare.span_id, None);
        assert!(!bare.sampled);
    }

    #[test]
    fn traceparent_wins_over_cloud_trace_context() {
        let trace = TraceContext::from_headers(&headers(&[
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            ),
            (
                "x-cloud-trace-context",
                "105445aa7843bc8bf206b12000100000/1;o=1",
            ),
        ]))
        .expect("valid");
        assert_eq!(trace.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(!trace.sampled);
    }

    #[test]
    fn malformed_trace_headers_are_ignored() {
        for (name, value) in [
            (
                "traceparent",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            ),
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
            ),
            ("traceparent", "garbage"),
            (
                "traceparent",
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            ("x-cloud-trace-context", "xyz/1;o=1"),
            ("x-cloud-trace-context", ""),
        ] {
            assert_eq!(
                TraceContext::from_headers(&headers(&[(name, value)])),
                None,
                "{value}"
            );
        }
    }
}
