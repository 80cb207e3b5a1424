//! Bad-input matrices: each case a request and the JSON error it must get.

use serde_json::Value;

use crate::{Answer, ServiceClient, read};

pub const JSON: Option<&str> = Some("application/json");

/// A request, and the status and `{"message"}` it must be answered with.
pub struct Case {
    pub method: &'static str,
    pub path: &'static str,
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
    pub status: u16,
    /// The answer's message; one ending in `": "` is our part, before a dependency's own words
    /// (serde_json's, base64's), which a version bump may change ([`assert_message`]).
    pub message: String,
}

/// A POST with `content_type` and `body`.
pub fn post(
    path: &'static str,
    content_type: Option<&'static str>,
    body: impl Into<Vec<u8>>,
    status: u16,
    message: &str,
) -> Case {
    Case {
        method: "POST",
        path,
        content_type,
        body: body.into(),
        status,
        message: message.to_owned(),
    }
}

/// A request without a body.
pub fn bodiless(method: &'static str, path: &'static str, status: u16, message: &str) -> Case {
    Case {
        method,
        ..post(path, None, Vec::new(), status, message)
    }
}

/// `{"<field>":"aaa…"}` of `size` bytes of `a`, plus `prefix` fields before it.
pub fn json_with_long_string(prefix: &str, field: &str, size: usize) -> Vec<u8> {
    let mut body = format!(r#"{{{prefix}"{field}":""#).into_bytes();
    body.resize(body.len() + size, b'a');
    body.extend_from_slice(br#""}"#);
    body
}

/// What every JSON route answers alike (`common::body` decides it, and unit-tests each
/// case), each mistake made to `storable`, a JSON object the route would take and store: without
/// a Content-Type, as text/plain or a form; empty, cut after its first key, `{`, invalid UTF-8;
/// inside an array, `null`, a string; padded past the route's `limit` in bytes; a GET.
pub fn json_body_mistakes(path: &'static str, limit: usize, storable: &str) -> Vec<Case> {
    const NOT_AN_OBJECT: &str = "The request body must be a JSON object.";
    let after_first_key = &storable[..=storable.find(':').expect("an object with a key")];
    let fields = &storable[1..storable.len() - 1];
    let oversized = json_with_long_string(&format!("{fields},"), "padding", 10 * 1024 * 1024);
    vec![
        post(
            path,
            None,
            storable,
            415,
            "Content-Type must be application/json; the request has none.",
        ),
        post(
            path,
            Some("text/plain"),
            storable,
            415,
            "Content-Type must be application/json, not \"text/plain\".",
        ),
        post(
            path,
            Some("application/x-www-form-urlencoded"),
            "name=Bob",
            415,
            "Content-Type must be application/json, not \"application/x-www-form-urlencoded\".",
        ),
        post(
            path,
            JSON,
            "",
            400,
            "The request body is empty; a JSON object is required.",
        ),
        post(
            path,
            JSON,
            after_first_key,
            400,
            "The request body is not valid JSON: ",
        ),
        post(path, JSON, "{", 400, "The request body is not valid JSON: "),
        post(
            path,
            JSON,
            &b"{\"name\":\"\xff\"}"[..],
            400,
            "The request body is not valid JSON: ",
        ),
        post(path, JSON, format!("[{storable}]"), 400, NOT_AN_OBJECT),
        post(path, JSON, "null", 400, NOT_AN_OBJECT),
        post(path, JSON, r#""Bob""#, 400, NOT_AN_OBJECT),
        post(
            path,
            JSON,
            oversized,
            413,
            &format!("request body is larger than the limit of {limit} bytes"),
        ),
        bodiless("GET", path, 405, "method not allowed; allowed: POST"),
    ]
}

/// Sends every case; each must get its status, a JSON body, and its message ([`assert_message`]).
pub async fn assert_json_errors(client: &ServiceClient, cases: Vec<Case>) {
    for case in cases {
        let shown = String::from_utf8_lossy(&case.body[..case.body.len().min(60)]).into_owned();
        let what = format!(
            "{} {} {:?} {shown}",
            case.method, case.path, case.content_type
        );
        let response = client
            .send(case.method, case.path, case.content_type, case.body)
            .await;
        let Answer {
            status,
            content_type,
            body,
        } = read(response).await;
        assert_eq!(status, case.status, "{what}: {body}");
        assert_eq!(content_type, "application/json", "{what}");
        let body: Value = serde_json::from_str(&body).expect("a JSON body");
        assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{what}: {body}");
        assert_message(
            body["message"].as_str().unwrap_or_default(),
            &case.message,
            &what,
        );
    }
}

/// `got` is `expected`; or, when `expected` ends in `": "` (our words before a dependency's),
/// starts with it and goes on to a sentence of theirs.
pub fn assert_message(got: &str, expected: &str, what: &str) {
    if expected.ends_with(": ") {
        assert!(
            got.starts_with(expected) && got.len() > expected.len() + 1 && got.ends_with('.'),
            "{what}: {got:?} is not {expected:?} and a reason"
        );
    } else {
        assert_eq!(got, expected, "{what}");
    }
}
