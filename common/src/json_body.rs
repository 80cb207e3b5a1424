//! JSON request bodies, handled the same way by every service: 415 unless the body is declared as
//! JSON, 413 over the limit, 400 unless it is a JSON object, and typed field access with 400s that
//! name the field.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::budget::{ByteBudget, Share};
use crate::configuration::{DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT};
use crate::error::ApiError;

/// The largest body a service accepts, as app data; [`DEFAULT_BODY_LIMIT`] when absent.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// How long the whole body may take to arrive, as app data; [`DEFAULT_BODY_TIMEOUT`] when absent.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// Body bytes admitted at once across the instance (`BODY_ROOM_BYTES`), as app data; the
/// application builds one for all its workers. Counted by what each request declares (the
/// service's limit when chunked) from before its body is read until the handler has answered (a
/// streamed answer goes on without it). A body and its copies (parsed JSON, Datastore values, the
/// encoded RPC) are a few times its size: without this, 80 requests of 1 MiB held 212 MiB while a
/// paused Datastore kept them waiting. Requests past it wait for room, unread and in turn, at most
/// [`BODY_ROOM_WAIT`], then 503.
#[derive(Debug, Clone)]
pub struct BodyRoom(pub ByteBudget);

/// The most JSON values a route's body may hold, as app data; [`MAX_JSON_VALUES`] when absent.
#[derive(Debug, Clone, Copy)]
pub struct JsonValueLimit(pub usize);

/// A request body that is a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonObject(pub Map<String, Value>);

impl JsonObject {
    /// `key` as a string; `None` when absent, 400 when present but not a string.
    pub fn optional_str(&self, key: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(not_a_string(key, other)),
        }
    }

    /// `key` as a string; 400 with `missing` when absent or null (the original tests `is None`),
    /// 400 naming the type when not a string.
    pub fn required_str(&self, key: &str, missing: &str) -> Result<&str, ApiError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Err(ApiError::BadRequest(missing.to_owned())),
            Some(_) => self
                .optional_str(key)?
                .ok_or_else(|| ApiError::BadRequest(missing.to_owned())),
        }
    }
}

fn not_a_string(key: &str, value: &Value) -> ApiError {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    ApiError::BadRequest(format!("{key} must be a string, not {kind}."))
}

impl FromRequest for JsonObject {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Checked before reading, so a wrong type costs nothing.
        let checked = check_content_type(req);
        let max_values = req
            .app_data::<JsonValueLimit>()
            .map_or(MAX_JSON_VALUES, |limit| limit.0);
        let body = LimitedBody::from_request(req, payload);
        Box::pin(async move {
            checked?;
            parse_object(&body.await?.0, max_values).map(JsonObject)
        })
    }
}

/// The most values a JSON body may hold: a notification has a few dozen, a message two. Parsed,
/// each value costs tens of bytes, and a Datastore value more: without this bound a 1 MiB
/// `[0,0,…]` becomes half a million of each, and 80 of them at once do not fit 256 MiB.
pub const MAX_JSON_VALUES: usize = 10_000;
/// The deepest JSON nesting accepted: Datastore's own limit for nested entity values.
pub const MAX_JSON_DEPTH: usize = 20;

/// Counts the values (at most `max_values`) and the nesting of JSON text without building anything (an over-count:
/// every `,`, `[` and `{` outside strings, plus one). `Err` says what is past the bound, as the end
/// of a sentence ("holds more than ... values").
pub fn check_json_shape(text: &[u8], max_values: usize) -> Result<(), String> {
    let (mut values, mut depth) = (1usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in text {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                values += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(format!("nests deeper than {MAX_JSON_DEPTH} levels"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => values += 1,
            _ => {}
        }
        if values > max_values {
            return Err(format!("holds more than {max_values} JSON values"));
        }
    }
    Ok(())
}

/// A body holding room must keep coming: all of it within 2 s plus a second per 128 KiB it
/// declared (10 s for 1 MiB), or 408; so senders that trickle cannot keep the room from others.
const ROOM_HOLD_BASE: Duration = Duration::from_secs(2);
const ROOM_HOLD_BYTES_PER_SECOND: usize = 128 * 1024;
/// How long a request waits for room: longer than the longest hold, so that room held by
/// trickling senders comes free for those waiting first (the semaphore is fair).
pub const BODY_ROOM_WAIT: Duration = Duration::from_secs(20);

/// A request's share of the [`BodyRoom`], kept in its extensions until it is dropped.
struct RoomTaken {
    _share: Share,
}

/// A request body of any type, read up to the service's limit: 413 before reading when the
/// declared length is over it, 413 as soon as a chunked body passes it, 408 when it has not all
/// arrived within the service's body timeout, 503 when there is no room for it ([`BodyRoom`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitedBody(pub Bytes);

impl FromRequest for LimitedBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<BodyLimit>()
            .map_or(DEFAULT_BODY_LIMIT, |limit| limit.0);
        let timeout = req
            .app_data::<BodyTimeout>()
            .map_or(DEFAULT_BODY_TIMEOUT, |timeout| timeout.0);
        let checked = check_declared_length(req, limit);
        let room = req.app_data::<BodyRoom>().cloned();
        let payload = payload.take();
        let req = req.clone();
        Box::pin(async move {
            let declared = checked?;
            let size = declared.unwrap_or(limit);
            if let Some(BodyRoom(room)) = room {
                let taken = take_room(&room, size).await?;
                req.extensions_mut().insert(taken);
            }
            let deadline = timeout.min(room_hold(size));
            tokio::time::timeout(deadline, read_body(payload, declared.unwrap_or(0), limit))
                .await
                .map_err(|_| ApiError::RequestTimeout {
                    seconds: deadline.as_secs(),
                })?
                .map(LimitedBody)
        })
    }
}

fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    match req.mime_type() {
        Ok(Some(mime)) if is_json(&mime) => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType(match declared {
            None => "Content-Type must be application/json; the request has none.".into(),
            Some(t) => format!(
                "Content-Type must be application/json, not \"{}\".",
                crate::telemetry::loggable(&t)
            ),
        })),
    }
}

/// `application/json` with any parameters, and structured-syntax `+json` types.
pub fn is_json(mime: &actix_web::mime::Mime) -> bool {
    use actix_web::mime::{APPLICATION, JSON};
    mime.type_() == APPLICATION && (mime.subtype() == JSON || mime.suffix() == Some(JSON))
}

/// The declared length, if any; 413 when it is over `limit`.
fn check_declared_length(req: &HttpRequest, limit: usize) -> Result<Option<usize>, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit as u64 => Err(ApiError::PayloadTooLarge { limit }),
        Some(length) => Ok(usize::try_from(length).ok()),
        None => Ok(None),
    }
}

/// How long a body of `size` bytes may hold its room.
fn room_hold(size: usize) -> Duration {
    ROOM_HOLD_BASE + Duration::from_secs((size / ROOM_HOLD_BYTES_PER_SECOND) as u64)
}

/// Room for a body of `size` bytes in `room`; 503 after [`BODY_ROOM_WAIT`].
async fn take_room(room: &ByteBudget, size: usize) -> Result<RoomTaken, ApiError> {
    room.share_within(size, BODY_ROOM_WAIT)
        .await
        .map(|share| RoomTaken { _share: share })
        .ok_or_else(|| {
            ApiError::Unavailable(format!(
                "no room for a {size}-byte body within {BODY_ROOM_WAIT:?}: {} bytes in flight",
                room.bytes()
            ))
        })
}

/// Reads the body, stopping as soon as it passes `limit` (chunked bodies declare no length), into
/// a buffer of the declared size, `expected` (grown by doubling, a 1 MiB body took 2 MiB).
async fn read_body(mut payload: Payload, expected: usize, limit: usize) -> Result<Bytes, ApiError> {
    let mut body = BytesMut::with_capacity(expected.min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The body as a JSON object; 400 saying what it is instead.
pub fn parse_object(body: &[u8], max_values: usize) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "The request body is empty; a JSON object is required.".into(),
        ));
    }
    check_json_shape(body, max_values)
        .map_err(|e| ApiError::BadRequest(format!("The request body {e}.")))?;
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(ApiError::BadRequest(
            "The request body must be a JSON object.".into(),
        )),
        Err(e) => Err(ApiError::BadRequest(format!(
            "The request body is not valid JSON: {e}."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_bounded_before_parsing() {
        assert!(check_json_shape(br#"{"name": "a,b,[{", "n": [1, 2, {"x": "\\"}]}"#, 10).is_ok());
        let wide = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES));
        assert!(
            check_json_shape(wide.as_bytes(), MAX_JSON_VALUES)
                .is_err_and(|e| e.contains("more than"))
        );
        let strings = format!(r#"{{"a": "{}"}}"#, ",".repeat(100_000));
        assert!(
            check_json_shape(strings.as_bytes(), MAX_JSON_VALUES).is_ok(),
            "commas in strings"
        );
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(check_json_shape(deep(MAX_JSON_DEPTH).as_bytes(), MAX_JSON_VALUES).is_ok());
        assert!(
            check_json_shape(deep(MAX_JSON_DEPTH + 1).as_bytes(), MAX_JSON_VALUES)
                .is_err_and(|e| e.contains("deeper"))
        );
    }
    use actix_web::test::TestRequest;
    use serde_json::json;

    fn content_type_ok(content_type: Option<&str>) -> bool {
        let mut req = TestRequest::default();
        if let Some(t) = content_type {
            req = req.insert_header((header::CONTENT_TYPE, t));
        }
        check_content_type(&req.to_http_request()).is_ok()
    }

    #[test]
    fn json_content_types_are_accepted() {
        for t in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
            "application/cloudevents+json; charset=UTF-8",
        ] {
            assert!(content_type_ok(Some(t)), "{t}");
        }
    }

    #[test]
    fn other_content_types_are_refused() {
        for t in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("text/json"),
            Some("application/jsonx"),
            Some("not a mime type"),
        ] {
            assert!(!content_type_ok(t), "{t:?}");
        }
    }

    #[test]
    fn declared_length_over_the_limit_is_413() {
        let req = TestRequest::default()
            .insert_header((header::CONTENT_LENGTH, "11"))
            .to_http_request();
        assert_eq!(
            check_declared_length(&req, 10),
            Err(ApiError::PayloadTooLarge { limit: 10 })
        );
        assert_eq!(check_declared_length(&req, 11), Ok(Some(11)));
    }

    #[test]
    fn only_objects_parse() {
        assert_eq!(
            parse_object(br#"{"a": 1}"#, MAX_JSON_VALUES),
            Ok(json!({"a": 1}).as_object().cloned().unwrap_or_default())
        );
        for body in [
            &b""[..],
            b"  \n",
            b"[]",
            b"null",
            b"\"x\"",
            b"1",
            b"{",
            b"\xff",
        ] {
            assert!(
                matches!(
                    parse_object(body, MAX_JSON_VALUES),
                    Err(ApiError::BadRequest(_))
                ),
                "{body:?}"
            );
        }
    }

    #[test]
    fn fields_are_typed() {
        let object = JsonObject(
            json!({"s": "x", "n": 1, "z": null})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        assert_eq!(object.optional_str("s"), Ok(Some("x")));
        assert_eq!(object.optional_str("absent"), Ok(None));
        assert_eq!(
            object.optional_str("n"),
            Err(ApiError::BadRequest(
                "n must be a string, not a number.".into()
            ))
        );
        assert_eq!(
            object.optional_str("z"),
            Err(ApiError::BadRequest("z must be a string, not null.".into()))
        );
        assert_eq!(
            object.required_str("absent", "absent is required."),
            Err(ApiError::BadRequest("absent is required.".into()))
        );
        assert_eq!(
            object.required_str("z", "z is required."),
            Err(ApiError::BadRequest("z is required.".into()))
        );
        assert_eq!(
            object.required_str("n", "n is required."),
            Err(ApiError::BadRequest(
                "n must be a string, not a number.".into()
            ))
        );
        assert_eq!(object.required_str("s", "s is required."), Ok("x"));
    }
}
