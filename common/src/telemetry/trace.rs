//! The trace of the request being served: read from its headers, kept in a task-local while it
//! runs, so that every line it logs can name it (Cloud Logging groups a request's lines by it).

use actix_web::http::header::HeaderMap;

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
    pub(super) static TRACE: Option<TraceContext>;
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

/// The trace of the request this task serves, if any.
pub(super) fn current_trace() -> Option<TraceContext> {
    TRACE.try_with(Clone::clone).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::test_headers as headers;

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
