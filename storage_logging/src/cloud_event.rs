//! A CloudEvent from Eventarc (CloudEvents 1.0, HTTP binding), in either content mode: binary
//! (the attributes in `ce-*` headers, the body is the data; what Eventarc sends) or structured
//! (`application/cloudevents+json`: the body is the whole event). Pure parsing, like
//! [`envelope`](crate::envelope): a Cloud Storage `finalized` event becomes the same
//! [`Event::Upload`] as a Pub/Sub `OBJECT_FINALIZE` notification.

use actix_web::http::header::{self, HeaderMap};
use actix_web::mime::Mime;
use base64::Engine;
use common::json_body::{is_json, parse_object};
use serde_json::{Map, Value};

use crate::envelope::Event;

/// The type of a new object in Cloud Storage; every other type is acknowledged and ignored.
pub const OBJECT_FINALIZED: &str = "google.cloud.storage.object.v1.finalized";

/// What a CloudEvent asks of us.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudEvent {
    /// `id` and `source`, unique together (CloudEvents 1.0): the key that makes a redelivery
    /// land on the same entity.
    pub key: String,
    pub event: Event,
}

/// An event that can never be stored, however often it is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedEvent {
    pub id: Option<String>,
    pub reason: String,
}

impl CloudEvent {
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, MalformedEvent> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<Mime>().ok());
        let subtype = content_type.as_ref().map(|m| m.subtype().as_str());
        match subtype {
            Some("cloudevents") => Self::structured(body),
            Some("cloudevents-batch") => Err(malformed(
                None,
                "batched CloudEvents are not accepted; send one event per request.",
            )),
            _ if headers.contains_key("ce-specversion") => {
                Self::binary(headers, content_type.as_ref(), body)
            }
            _ => Err(malformed(
                None,
                "not a CloudEvent: binary mode needs ce-specversion, ce-id, ce-source and ce-type \
                 headers; structured mode needs Content-Type application/cloudevents+json.",
            )),
        }
    }

    /// Binary mode: attributes from `ce-*` headers, the body is the data.
    fn binary(
        headers: &HeaderMap,
        content_type: Option<&Mime>,
        body: &[u8],
    ) -> Result<Self, MalformedEvent> {
        let attribute = |name: &str| {
            headers
                .get(format!("ce-{name}"))
                .and_then(|v| v.to_str().ok())
                .map(percent_decode)
        };
        let attributes = Attributes::read(|name| attribute(name))?;
        if attributes.event_type != OBJECT_FINALIZED {
            return Ok(attributes.ignored());
        }
        if content_type.is_some_and(|mime| !is_json(mime)) {
            return Err(attributes.malformed("the data of a finalized event must be JSON."));
        }
        let object = parse_object(body, crate::routes::NOTIFICATION_JSON_VALUES.0)
            .map_err(|e| attributes.malformed(&e.to_string()))?;
        Ok(attributes.upload(object))
    }

    /// Structured mode: the body is the event, its data in `data` (JSON) or `data_base64`.
    fn structured(body: &[u8]) -> Result<Self, MalformedEvent> {
        let event = parse_object(body, crate::routes::NOTIFICATION_JSON_VALUES.0)
            .map_err(|e| malformed(None, &e.to_string()))?;
        let attributes =
            Attributes::read(|name| event.get(name).and_then(Value::as_str).map(str::to_owned))?;
        if attributes.event_type != OBJECT_FINALIZED {
            return Ok(attributes.ignored());
        }
        let object = match (event.get("data"), event.get("data_base64")) {
            (Some(Value::Object(object)), None) => object.clone(),
            (None, Some(Value::String(encoded))) => base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|e| attributes.malformed(&format!("data_base64 is not base64: {e}.")))
                .and_then(|bytes| {
                    parse_object(&bytes, crate::routes::NOTIFICATION_JSON_VALUES.0)
                        .map_err(|e| attributes.malformed(&e.to_string()))
                })?,
            _ => {
                return Err(attributes.malformed(
                    "a finalized event needs the object's metadata as a JSON object in data.",
                ));
            }
        };
        Ok(attributes.upload(object))
    }
}

/// The required context attributes of CloudEvents 1.0.
struct Attributes {
    id: String,
    source: String,
    event_type: String,
}

impl Attributes {
    fn read(attribute: impl Fn(&str) -> Option<String>) -> Result<Self, MalformedEvent> {
        let id = attribute("id").filter(|id| !id.is_empty());
        let required = |name: &str| {
            attribute(name)
                .filter(|value| !value.is_empty())
                .ok_or_else(|| malformed(id.clone(), &format!("the {name} attribute is required.")))
        };
        let version = required("specversion")?;
        if version != "1.0" {
            return Err(malformed(
                id.clone(),
                &format!("specversion {version:?} is not supported; 1.0 is."),
            ));
        }
        Ok(Self {
            source: required("source")?,
            event_type: required("type")?,
            id: required("id")?,
        })
    }

    fn ignored(self) -> CloudEvent {
        CloudEvent {
            key: self.key(),
            event: Event::Ignored {
                event_type: self.event_type,
            },
        }
    }

    fn upload(self, object: Map<String, Value>) -> CloudEvent {
        CloudEvent {
            key: self.key(),
            event: Event::Upload(object),
        }
    }

    fn key(&self) -> String {
        crate::storage_log::cloud_event_key(&self.source, &self.id)
    }

    fn malformed(&self, reason: &str) -> MalformedEvent {
        malformed(Some(self.id.clone()), reason)
    }
}

fn malformed(id: Option<String>, reason: &str) -> MalformedEvent {
    MalformedEvent {
        id,
        reason: reason.to_owned(),
    }
}

/// Header values are percent-encoded where they are not printable ASCII (HTTP binding, 3.1.3.2).
fn percent_decode(value: &str) -> String {
    if !value.contains('%') {
        return value.to_owned();
    }
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use serde_json::json;

    const SOURCE: &str = "//storage.googleapis.com/projects/_/buckets/sample-bucket";

    fn object() -> Value {
        json!({
            "bucket": "sample-bucket", "contentType": "text/plain", "crc32c": "rTVTeQ==",
            "etag": "CNHZkbuF/ugCEAE=", "generation": "1587627537231057",
            "id": "sample-bucket/folder/Test.cs/1587627537231057", "kind": "storage#object",
            "md5Hash": "kF8MuJ5+CTJxvyhHS1xzRg==", "metageneration": "1", "name": "folder/Test.cs",
            "size": "352", "storageClass": "STANDARD", "timeCreated": "2020-04-23T07:38:57.230Z",
            "updated": "2020-04-23T07:38:57.230Z"
        })
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        map
    }

    fn binary_headers(event_type: &str) -> Vec<(&str, &str)> {
        vec![
            ("content-type", "application/json"),
            ("ce-specversion", "1.0"),
            ("ce-id", "5155508562767640"),
            ("ce-source", SOURCE),
            ("ce-type", event_type),
            ("ce-subject", "objects/folder/Test.cs"),
            ("ce-time", "2020-04-23T07:38:57.772Z"),
        ]
    }

    fn upload(object: Value) -> Event {
        match object {
            Value::Object(object) => Event::Upload(object),
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn a_binary_finalized_event_is_an_upload_keyed_by_source_and_id() {
        let body = object().to_string();
        let event = CloudEvent::parse(&headers(&binary_headers(OBJECT_FINALIZED)), body.as_bytes());
        assert_eq!(
            event,
            Ok(CloudEvent {
                key: crate::storage_log::cloud_event_key(SOURCE, "5155508562767640"),
                event: upload(object()),
            })
        );
    }

    #[test]
    fn a_structured_event_carries_its_data_as_json_or_base64() {
        let mut event = json!({
            "specversion": "1.0", "id": "42", "source": SOURCE, "type": OBJECT_FINALIZED,
            "datacontenttype": "application/json", "data": object()
        });
        let content_type = headers(&[(
            "content-type",
            "application/cloudevents+json; charset=utf-8",
        )]);
        let expected = Ok(CloudEvent {
            key: crate::storage_log::cloud_event_key(SOURCE, "42"),
            event: upload(object()),
        });
        assert_eq!(
            CloudEvent::parse(&content_type, event.to_string().as_bytes()),
            expected
        );

        let data = event["data"].take().to_string();
        event.as_object_mut().map(|e| e.remove("data"));
        event["data_base64"] = base64::engine::general_purpose::STANDARD
            .encode(data)
            .into();
        assert_eq!(
            CloudEvent::parse(&content_type, event.to_string().as_bytes()),
            expected
        );
    }

    #[test]
    fn other_types_are_ignored_whatever_their_data() {
        let pairs = binary_headers("google.cloud.storage.object.v1.deleted");
        let mut pairs: Vec<_> = pairs
            .into_iter()
            .filter(|(n, _)| *n != "content-type")
            .collect();
        pairs.push(("content-type", "application/protobuf"));
        let event = CloudEvent::parse(&headers(&pairs), b"\x08\x01");
        assert_eq!(
            event.map(|e| e.event),
            Ok(Event::Ignored {
                event_type: "google.cloud.storage.object.v1.deleted".into()
            })
        );
    }

    #[test]
    fn header_values_are_percent_decoded() {
        assert_eq!(percent_decode("caf%C3%A9 %25 100%"), "café % 100%");
        assert_eq!(percent_decode("plain"), "plain");
    }

    #[test]
    fn malformed_events_say_what_is_wrong() {
        let reason = |pairs: &[(&str, &str)], body: &str| {
            CloudEvent::parse(&headers(pairs), body.as_bytes())
                .map(|_| ())
                .map_err(|e| (e.id, e.reason))
        };
        let body = object().to_string();
        let without = |name: &str| -> Vec<(&str, &str)> {
            binary_headers(OBJECT_FINALIZED)
                .into_iter()
                .filter(|(n, _)| *n != name)
                .collect()
        };
        assert_eq!(
            reason(&without("ce-source"), &body),
            Err((
                Some("5155508562767640".into()),
                "the source attribute is required.".into()
            ))
        );
        assert_eq!(
            reason(&without("ce-id"), &body),
            Err((None, "the id attribute is required.".into()))
        );
        let mut old = without("ce-specversion");
        old.push(("ce-specversion", "0.3"));
        assert_eq!(
            reason(&old, &body).map_err(|e| e.1),
            Err("specversion \"0.3\" is not supported; 1.0 is.".into())
        );
        assert_eq!(
            reason(&binary_headers(OBJECT_FINALIZED), "[1]").map_err(|e| e.1),
            Err("The request body must be a JSON object.".into())
        );
        let mut text = without("content-type");
        text.push(("content-type", "text/plain"));
        assert_eq!(
            reason(&text, &body).map_err(|e| e.1),
            Err("the data of a finalized event must be JSON.".into())
        );
        assert!(reason(&[("content-type", "application/json")], &body).is_err());
        assert!(
            reason(
                &[("content-type", "application/cloudevents-batch+json")],
                "[]"
            )
            .is_err()
        );
        let no_data =
            json!({"specversion": "1.0", "id": "1", "source": SOURCE, "type": OBJECT_FINALIZED});
        assert_eq!(
            reason(
                &[("content-type", "application/cloudevents+json")],
                &no_data.to_string()
            )
            .map_err(|e| e.1),
            Err("a finalized event needs the object's metadata as a JSON object in data.".into())
        );
    }
}
