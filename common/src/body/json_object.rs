//! A request body that is a JSON object: declared as JSON, bounded in shape, typed field access.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde_json::{Map, Value};

use super::limited::LimitedBody;
use super::shape::{MAX_JSON_VALUES, check_json_shape};
use crate::error::ApiError;

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
    use actix_web::test::TestRequest;
    use serde_json::json;

    use super::*;

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
